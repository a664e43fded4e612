"""MaxPoolWithArgmax and MaxPoolGradWithArgmax: max pooling that also returns the flat
input index of each window's pick, and the gradient routed through those indices.

The pick is TF's scan pick (the first maximum in row-major order, a leading NaN sticks),
shared with MaxPoolGrad in pool_ops.py.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from orchestrator.dtypes import DType, numpy_dtype
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.conv_ops import Axis
from orchestrator.ops.pool_ops import _check_grad, _check_input, _geometry, _out_shape, _tf_scan_offsets
from orchestrator.ops.registry import kernel


def _flat_argmax(x: np.ndarray, rows: Axis, cols: Axis, include_batch_in_index: bool) -> np.ndarray:
    """Flat input index ((b*H + y)*W + x)*C + c of each window's pick (b only when asked)."""
    chosen = _tf_scan_offsets(x, rows, cols) if x.size else np.zeros(_out_shape(x.shape, rows, cols),
                                                                       np.int32)
    n, h, w, c = x.shape
    y = np.arange(rows.out)[None, :, None, None] * rows.stride - rows.pad_before + chosen // cols.kernel
    xx = np.arange(cols.out)[None, None, :, None] * cols.stride - cols.pad_before + chosen % cols.kernel
    index = (y.astype(np.int64) * w + xx) * c + np.arange(c)
    if include_batch_in_index:
        index = index + np.arange(n).reshape(n, 1, 1, 1) * (h * w * c)
    return index


@kernel("MaxPoolWithArgmax", multi=True)
def max_pool_with_argmax(input: np.ndarray, *, ksize: Sequence[int], strides: Sequence[int],
                         padding: bytes, Targmax: DType = DType.INT64,
                         include_batch_in_index: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Values and flat indices of TF's scan pick (the first maximum, a leading NaN sticks)."""
    op = "MaxPoolWithArgmax"
    _check_input(op, input)
    rows, cols = _geometry(op, input.shape, ksize, strides, padding, b"NHWC")
    index = _flat_argmax(input, rows, cols, include_batch_in_index)
    within_image = index if include_batch_in_index else \
        index + np.arange(input.shape[0]).reshape(-1, 1, 1, 1) * (input[0].size if input.size else 0)
    values = input.reshape(-1)[within_image] if input.size else np.zeros(index.shape, input.dtype)
    return values, index.astype(numpy_dtype(Targmax))


@kernel("MaxPoolGradWithArgmax")
def max_pool_grad_with_argmax(input: np.ndarray, grad: np.ndarray, argmax: np.ndarray, *,
                              ksize: Sequence[int], strides: Sequence[int], padding: bytes,
                              include_batch_in_index: bool = False) -> np.ndarray:
    """grad summed into the input positions argmax names (in order, as TF's loop adds them)."""
    op = "MaxPoolGradWithArgmax"
    _check_input(op, input)
    rows, cols = _geometry(op, input.shape, ksize, strides, padding, b"NHWC")
    expected = _out_shape(input.shape, rows, cols)
    _check_grad(op, grad, expected, "pooled output")
    if argmax.shape != expected:
        raise InvalidArgumentError(f"{op}: argmax shape {list(argmax.shape)} must be the pooled "
                                   f"output shape {list(expected)}")
    per_image = int(np.prod(input.shape[1:]))
    limit = input.size if include_batch_in_index else per_image
    flat = argmax.astype(np.int64).reshape(input.shape[0], -1)
    if flat.size and (flat.min() < 0 or flat.max() >= limit):
        raise InvalidArgumentError(f"{op}: argmax values must be in [0, {limit}), found "
                                   f"{int(flat.min())}..{int(flat.max())}")
    if not include_batch_in_index:
        flat = flat + np.arange(input.shape[0])[:, None] * per_image
    result = np.zeros(input.size, grad.dtype)
    np.add.at(result, flat.reshape(-1), grad.reshape(-1))
    return result.reshape(input.shape)
