"""Fast paths of pool_ops.py for non-overlapping windows (stride == window, the usual 2x2/2).

Such windows tile the padded input, so one reshape gives every window as its own axes
([N, OH, KH, OW, KW, C]) and a kernel becomes a few numpy calls instead of a loop over
KH*KW offsets: half the time of the loop for MaxPoolGrad on small tensors, and for
AvgPoolGrad (a broadcast) at every size. Reductions and argmax over the tiny window axes
are slow on large tensors, so pool_ops.py uses the argmax forms only below a size.
"""
from __future__ import annotations

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
    padded = np.zeros((n, h + rows.pad_before + rows.pad_after, w + cols.pad_before + cols.pad_after, c),
                      blocks.dtype)
    padded[:, :rows.out * rows.kernel, :cols.out * cols.kernel, :] = blocks.reshape(
        n, rows.out * rows.kernel, cols.out * cols.kernel, c)
    return padded[:, rows.pad_before:rows.pad_before + h, cols.pad_before:cols.pad_before + w, :]


def scatter_picks(chosen: np.ndarray, grad: np.ndarray, x_shape: tuple[int, ...],
                  rows: Axis, cols: Axis) -> np.ndarray:
    """Input-shaped array with each grad value at its window's chosen offset (no overlaps)."""
    n, oh, ow, c = grad.shape
    blocks = np.zeros((n, oh, ow, c, rows.kernel * cols.kernel), grad.dtype)
    np.put_along_axis(blocks, chosen[..., None].astype(np.intp), grad[..., None], axis=-1)
    blocks = blocks.reshape(n, oh, ow, c, rows.kernel, cols.kernel).transpose(0, 1, 4, 2, 5, 3)
    return untile(blocks, x_shape, rows, cols)


def spread(share: np.ndarray, x_shape: tuple[int, ...], rows: Axis, cols: Axis) -> np.ndarray:
    """Input-shaped array with each window's share on every element of the window."""
    n, oh, ow, c = share.shape
    blocks = np.broadcast_to(share[:, :, None, :, None, :], (n, oh, rows.kernel, ow, cols.kernel, c))
    return untile(blocks, x_shape, rows, cols)
