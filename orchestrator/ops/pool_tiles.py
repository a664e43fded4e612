"""Fast paths of pool_ops.py for non-overlapping windows (stride == window, the usual 2x2/2).

Such windows tile the padded input, so one reshape gives every window as its own axes
([N, OH, KH, OW, KW, C]) and a kernel becomes a few numpy calls instead of a loop over
KH*KW offsets: half the time of the loop for MaxPoolGrad on small tensors, and for
AvgPoolGrad (a broadcast) at every size. Reductions and argmax over the tiny window axes
are slow on large tensors, so pool_ops.py uses the argmax forms only below a size.
"""
from __future__ import annotations

import functools

import numpy as np

from orchestrator.ops.conv_ops import Axis


def is_tiled(rows: Axis, cols: Axis) -> bool:
    return rows.stride == rows.kernel and cols.stride == cols.kernel


def tiles(padded: np.ndarray, rows: Axis, cols: Axis) -> np.ndarray:
    """[N, OH, KH, OW, KW, C] windows of an already padded NHWC input (VALID may leave rows over)."""
    n, _, _, c = padded.shape
    used = padded[:, :rows.out * rows.kernel, :cols.out * cols.kernel, :]
    return used.reshape(n, rows.out, rows.kernel, cols.out, cols.kernel, c)


def window_last(blocks: np.ndarray) -> np.ndarray:
    """[N, OH, OW, C, KH*KW]: each window's elements in row-major order on the last axis."""
    n, oh, kh, ow, kw, c = blocks.shape
    return blocks.transpose(0, 1, 3, 5, 2, 4).reshape(n, oh, ow, c, kh * kw)


def untile(blocks: np.ndarray, x_shape: tuple[int, ...], rows: Axis, cols: Axis) -> np.ndarray:
    """Place [N, OH, KH, OW, KW, C] blocks back on the padded input and crop to x_shape."""
    n, h, w, c = x_shape
    if rows.out * rows.kernel == h and cols.out * cols.kernel == w and not (rows.pad_before or cols.pad_before):
        return blocks.reshape(x_shape)          # the windows are the input: one copy, no padding
    padded = np.zeros((n, h + rows.pad_before + rows.pad_after, w + cols.pad_before + cols.pad_after, c),
                      blocks.dtype)
    padded[:, :rows.out * rows.kernel, :cols.out * cols.kernel, :] = blocks.reshape(
        n, rows.out * rows.kernel, cols.out * cols.kernel, c)
    return padded[:, rows.pad_before:rows.pad_before + h, cols.pad_before:cols.pad_before + w, :]


@functools.lru_cache(maxsize=64)
def _offset_grid(kh: int, kw: int) -> np.ndarray:
    """[1, 1, KH, 1, KW, 1] offset index i*KW + j, laid out like tiles()."""
    grid = np.arange(kh * kw, dtype=np.intp).reshape(1, 1, kh, 1, kw, 1)
    grid.flags.writeable = False
    return grid


def scatter_picks(chosen: np.ndarray, grad: np.ndarray, x_shape: tuple[int, ...],
                  rows: Axis, cols: Axis) -> np.ndarray:
    """Input-shaped array with each grad value at its window's chosen offset (no overlaps).
    Built directly in the tiles() layout (no transpose), and a select rather than grad times
    a one-hot, so that a NaN/inf grad does not leak onto other elements."""
    hit = chosen[:, :, None, :, None, :] == _offset_grid(rows.kernel, cols.kernel)
    blocks = np.where(hit, grad[:, :, None, :, None, :], grad.dtype.type(0))
    return untile(blocks, x_shape, rows, cols)


def spread(share: np.ndarray, x_shape: tuple[int, ...], rows: Axis, cols: Axis) -> np.ndarray:
    """Input-shaped array with each window's share on every element of the window."""
    n, oh, ow, c = share.shape
    blocks = np.broadcast_to(share[:, :, None, :, None, :], (n, oh, rows.kernel, ow, cols.kernel, c))
    return untile(blocks, x_shape, rows, cols)
