"""im2col and col2im as one precomputed gather/scatter per geometry (conv_ops.py's hot path).

A training step runs each convolution with the same shapes every time, so the work that
depends only on shapes - which input pixel every (output, kernel offset) reads, which are
padding - is computed once (``lru_cache`` on the geometry) and a call is a single
``np.take`` of pixel rows. This builds exactly the matrices the strided-window forms build
(same values, same C-ordered layout), so BLAS sees the same operands and returns the same
bits; it only replaces several numpy calls of Python overhead (padding, ``as_strided``, a
6-D copy) that dominated small convolutions.

Pixels are rows of the input seen as ``[N, H*W, C]``; padding reads row ``H*W``, a zero row
appended only when some window reaches into the padding.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:   # conv_ops imports this module
    from orchestrator.ops.conv_ops import Axis


def _axis_positions(axis: Axis) -> np.ndarray:
    """[OUT, K] input position each (output, kernel offset) reads along one axis (may be padding)."""
    return (np.arange(axis.out)[:, None] * axis.stride + np.arange(axis.kernel)[None, :] * axis.dilation
            - axis.pad_before)


def _pixel_rows(row_pos: np.ndarray, col_pos: np.ndarray, height: int, width: int
                ) -> tuple[np.ndarray, bool]:
    """Flat [OH, OW, KH, KW] pixel index for [OH, KH] row and [OW, KW] column positions;
    positions outside the image map to the zero row ``height * width``."""
    r = row_pos[:, None, :, None]
    c = col_pos[None, :, None, :]
    inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
    index = np.where(inside, r * width + c, height * width).astype(np.intp).reshape(-1)
    index.flags.writeable = False
    return index, not bool(inside.all())


@functools.lru_cache(maxsize=512)
def im2col_index(rows: Axis, cols: Axis) -> tuple[np.ndarray, bool]:
    """(pixel index in [OH, OW, KH, KW] order, whether the zero row is read) for Conv2D's
    windows over the input (and Conv2DBackpropFilter's)."""
    return _pixel_rows(_axis_positions(rows), _axis_positions(cols), rows.size, cols.size)


@functools.lru_cache(maxsize=512)
def flipped_index(rows: Axis, cols: Axis) -> tuple[np.ndarray, bool]:
    """The stride-1 input gradient's windows: input pixel p and kernel offset k read the
    output gradient at p + pad_before - (K - 1) + k ([H, W, KH, KW] order; out of range = 0),
    to be multiplied by the filter flipped in both spatial axes."""
    def positions(axis: Axis) -> np.ndarray:
        return (np.arange(axis.size)[:, None] + np.arange(axis.kernel)[None, :]
                + axis.pad_before - (axis.kernel - 1))
    return _pixel_rows(positions(rows), positions(cols), rows.out, cols.out)


def gather_columns(x: np.ndarray, index: np.ndarray, reads_zero: bool, taps: int) -> np.ndarray:
    """[N * windows, taps * C] C-ordered matrix of x's pixel rows (x: [N, H, W, C])."""
    n, h, w, c = x.shape
    pixels = x.reshape(n, h * w, c)
    if reads_zero:
        pixels = np.concatenate((pixels, np.zeros((n, 1, c), x.dtype)), axis=1)
    return pixels.take(index, axis=1).reshape(n * (index.shape[0] // taps), taps * c)


@functools.lru_cache(maxsize=512)
def col2im_targets(rows: Axis, cols: Axis, batch: int) -> np.ndarray | None:
    """For windows that never overlap (stride >= window along both axes): the flat
    ``[N * padded pixels]`` row each ``[N, OH, OW, KH, KW]`` column row lands on, all distinct;
    None when windows overlap (then every input pixel may sum several columns)."""
    if rows.stride < (rows.kernel - 1) * rows.dilation + 1 or cols.stride < (cols.kernel - 1) * cols.dilation + 1:
        return None
    padded_h = rows.size + rows.pad_before + rows.pad_after
    padded_w = cols.size + cols.pad_before + cols.pad_after
    r = _axis_positions(rows) + rows.pad_before      # positions within the padded input
    c = _axis_positions(cols) + cols.pad_before
    per_image = (r[:, None, :, None] * padded_w + c[None, :, None, :]).reshape(-1)
    targets = (np.arange(batch)[:, None] * (padded_h * padded_w) + per_image[None, :]).reshape(-1)
    targets = targets.astype(np.intp)
    targets.flags.writeable = False
    return targets


def col2im_disjoint(columns: np.ndarray, targets: np.ndarray, input_shape: tuple[int, ...],
                    rows: Axis, cols: Axis) -> np.ndarray:
    """col2im for non-overlapping windows: one scatter (each padded pixel gets at most one
    column row; added onto zeros, as a summing col2im would, so -0.0 becomes +0.0)."""
    n, h, w, c = input_shape
    if rows.out * rows.stride == h and cols.out * cols.stride == w and rows.stride == rows.kernel \
            and cols.stride == cols.kernel and not (rows.pad_before or cols.pad_before):
        # The windows tile the input exactly: col2im is a transpose. Adding +0.0 while copying
        # keeps a summing col2im's +0.0 for -0.0 columns.
        blocks = columns.reshape(n, rows.out, cols.out, rows.kernel, cols.kernel, c).transpose(0, 1, 3, 2, 4, 5)
        return np.add(blocks, columns.dtype.type(0)).reshape(input_shape)
    padded_h = h + rows.pad_before + rows.pad_after
    padded_w = w + cols.pad_before + cols.pad_after
    padded = np.zeros((n * padded_h * padded_w, c), columns.dtype)
    padded[targets] += columns.reshape(-1, c)
    padded = padded.reshape(n, padded_h, padded_w, c)
    if padded_h == h and padded_w == w:
        return padded
    return padded[:, rows.pad_before:rows.pad_before + h, cols.pad_before:cols.pad_before + w, :]
