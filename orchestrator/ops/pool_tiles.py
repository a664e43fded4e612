"""Fast paths of pool_ops.py for non-overlapping windows (stride == window, the usual 2x2/2).

Such windows tile the padded input, so one reshape gives every window as its own axes
([N, OH, KH, OW, KW, C], the "tiles" layout) and a kernel becomes a few numpy calls instead
of a loop over KH*KW offsets: AvgPoolGrad (a broadcast) at every size; MaxPoolGrad as one
gather of every window by a cached index, a row argmax and one scatter (no overlaps, so
no sums). Argmax over tiny rows is slow on large tensors, so pool_ops.py uses it only
below a size.
"""
from __future__ import annotations

import functools

import numpy as np

from orchestrator.ops.conv_ops import Axis


def is_tiled(rows: Axis, cols: Axis) -> bool:
    """Windows side by side without overlap or gaps along both axes (a single window along
    an axis tiles it whatever the stride)."""
    return (rows.stride == rows.kernel or rows.out == 1) and (cols.stride == cols.kernel or cols.out == 1)


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
    Built directly in the tiles layout (no transpose), and a select rather than grad times
    a one-hot, so that a NaN/inf grad does not leak onto other elements."""
    hit = chosen[:, :, None, :, None, :] == _offset_grid(rows.kernel, cols.kernel)
    blocks = np.where(hit, grad[:, :, None, :, None, :], grad.dtype.type(0))
    return untile(blocks, x_shape, rows, cols)


@functools.lru_cache(maxsize=256)
def window_positions(x_shape: tuple[int, ...], rows: Axis, cols: Axis) -> np.ndarray:
    """[N*OH*OW*C, KH*KW] flat index into x of every window element (windows in output
    order, elements row-major); padding points at ``x.size``, one past the end."""
    n, h, w, c = x_shape
    r = np.arange(rows.out)[:, None] * rows.stride + np.arange(rows.kernel)[None, :] - rows.pad_before
    q = np.arange(cols.out)[:, None] * cols.stride + np.arange(cols.kernel)[None, :] - cols.pad_before
    r, q = r[:, None, :, None], q[None, :, None, :]                         # [OH, OW, KH, KW]
    inside = (r >= 0) & (r < h) & (q >= 0) & (q < w)
    pixel = np.where(inside, r * w + q, -1)
    batch = np.arange(n)[:, None, None, None, None, None]
    channel = np.arange(c)[None, None, None, :, None, None]
    flat = (batch * (h * w) + pixel[None, :, :, None]) * c + channel         # [N, OH, OW, C, KH, KW]
    flat = np.where(pixel[None, :, :, None] < 0, n * h * w * c, flat).astype(np.intp)
    flat = flat.reshape(-1, rows.kernel * cols.kernel)
    flat.flags.writeable = False
    return flat


@functools.lru_cache(maxsize=256)
def _row_starts(count: int, width: int) -> np.ndarray:
    starts = np.arange(count, dtype=np.intp) * width
    starts.flags.writeable = False
    return starts


def route_to_first_max(x: np.ndarray, grad: np.ndarray, lowest, rows: Axis, cols: Axis) -> np.ndarray:
    """MaxPoolGrad for non-overlapping windows whose first maximum is TF's pick (no NaN, no
    value tied with the padding): every window gathered as a row by one cached index,
    argmax per row, each grad value written to its pick's flat position."""
    positions = window_positions(x.shape, rows, cols)
    values = x.reshape(-1)
    if rows.pad_before or rows.pad_after or cols.pad_before or cols.pad_after:
        values = np.append(values, x.dtype.type(lowest))         # the padding value at x.size
    picks = values.take(positions).argmax(axis=1)
    targets = positions.reshape(-1).take(_row_starts(*positions.shape) + picks)
    routed = np.zeros(x.size + 1, grad.dtype)
    routed[targets] = grad.reshape(-1)
    return routed[:-1].reshape(x.shape)


def spread(share: np.ndarray, x_shape: tuple[int, ...], rows: Axis, cols: Axis) -> np.ndarray:
    """Input-shaped array with each window's share on every element of the window."""
    n, oh, ow, c = share.shape
    blocks = np.broadcast_to(share[:, :, None, :, None, :], (n, oh, rows.kernel, ow, cols.kernel, c))
    return untile(blocks, x_shape, rows, cols)
