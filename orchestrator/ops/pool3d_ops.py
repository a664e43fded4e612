"""3-D pooling (NDHWC) and its gradients, as TF's CPU kernels compute them.

Unlike the 2-D MaxPoolGrad (which routes each gradient to the *first* maximum), TF's
MaxPool3DGrad compares every window element with the pooled value it is given and adds
the gradient to *each* element equal to it: tied maxima all receive it. MaxPool3DGradGrad
takes the first such element. Averages divide by the number of real (unpadded) elements.
MaxPool3D ignores NaN here; TF's vectorised reduction gives an order-dependent result for
windows holding NaN (observed: [nan, 1, 3, 3, -inf, 2, nan, 0] pools to 0), which we do
not model. An all -inf window pools to -inf (the 2-D kernel gives -FLT_MAX).
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.ops.conv3d_ops import (Geometry, crop, geometry, offset_slice, offsets, pad_nd,
                                         padded_shape)
from orchestrator.ops.conv_ops import int_tuple
from orchestrator.ops.nn_ops import accumulator, data_format_str, is_float
from orchestrator.ops.registry import kernel


def _pool_geometry(op: str, x_shape: Sequence[int], ksize, strides, padding, data_format) -> Geometry:
    if len(x_shape) != 5:
        raise InvalidArgumentError(f"{op}: input must be 5-dimensional (NDHWC), found shape "
                                   f"{list(x_shape)}")
    fmt = data_format_str(data_format)
    if fmt != "NDHWC":
        raise InvalidArgumentError(f"{op}: only NDHWC is supported on CPU (as in TF), found {fmt!r}")
    ksize = int_tuple(ksize)
    if len(ksize) != 5 or min(ksize) < 1:
        raise InvalidArgumentError(f"{op}: ksize must be 5 values >= 1, found {list(ksize)}")
    if ksize[0] != 1 or ksize[4] != 1:
        raise UnimplementedError(f"{op}: pooling over the batch or depth dimension is not "
                                 f"supported (nor by TF); ksize = {list(ksize)}")
    return geometry(op, x_shape[1:4], ksize[1:4], strides, padding)


def _out_shape(x_shape: Sequence[int], axes: Geometry) -> tuple[int, ...]:
    return (x_shape[0], *(a.out for a in axes), x_shape[4])


def _valid_mask(axes: Geometry, offset: tuple[int, ...]) -> np.ndarray | None:
    """[1, *out, 1] mask of outputs whose window offset reads a real element; None = all."""
    if not any(a.pad_before or a.pad_after for a in axes):
        return None
    mask = np.ones((), bool)
    for dim, (o, a) in enumerate(zip(offset, axes)):
        pos = np.arange(a.out) * a.stride + o - a.pad_before
        shape = [1] * len(axes)
        shape[dim] = a.out
        mask = mask & ((pos >= 0) & (pos < a.size)).reshape(shape)
    return mask[None, ..., None]


@functools.lru_cache(maxsize=256)
def _counts(axes: Geometry, dtype: np.dtype) -> np.ndarray:
    """[1, *out, 1] number of real elements per window (read-only, shared)."""
    total = np.ones((), np.int64)
    for dim, a in enumerate(axes):
        start = np.arange(a.out) * a.stride - a.pad_before
        count = np.minimum(start + a.kernel, a.size) - np.maximum(start, 0)
        shape = [1] * len(axes)
        shape[dim] = a.out
        total = total * count.reshape(shape)
    counts = total.astype(dtype)[None, ..., None]
    counts.flags.writeable = False
    return counts


def _check_shape(op: str, name: str, value: np.ndarray, expected: tuple[int, ...]) -> None:
    if value.shape != expected:
        raise InvalidArgumentError(f"{op}: {name} shape {list(value.shape)} must be {list(expected)}")


@kernel("MaxPool3D")
def max_pool3d(input: np.ndarray, *, ksize: Sequence[int], strides: Sequence[int], padding: bytes,
               data_format: bytes = b"NDHWC") -> np.ndarray:
    axes = _pool_geometry("MaxPool3D", input.shape, ksize, strides, padding, data_format)
    out_shape = _out_shape(input.shape, axes)
    if 0 in out_shape:
        return np.empty(out_shape, input.dtype)
    floating = is_float(input.dtype)
    padded = pad_nd(input, axes, -np.inf if floating else np.iinfo(input.dtype).min)
    combine = np.fmax if floating else np.maximum       # NaN never wins, as in TF
    out = None
    for offset in offsets(axes):
        window = padded[offset_slice(axes, offset)]
        out = window.copy() if out is None else combine(out, window, out=out)
    return out


@kernel("MaxPool3DGrad")
def max_pool3d_grad(orig_input: np.ndarray, orig_output: np.ndarray, grad: np.ndarray, *,
                    ksize: Sequence[int], strides: Sequence[int], padding: bytes,
                    data_format: bytes = b"NDHWC") -> np.ndarray:
    op = "MaxPool3DGrad"
    axes = _pool_geometry(op, orig_input.shape, ksize, strides, padding, data_format)
    expected = _out_shape(orig_input.shape, axes)
    _check_shape(op, "orig_output", orig_output, expected)
    _check_shape(op, "grad", grad, expected)
    padded = np.zeros(padded_shape(orig_input.shape, axes), grad.dtype)
    if grad.size:
        # NaN padding never equals a pooled value, so padded positions take nothing.
        source = pad_nd(orig_input, axes, np.nan) if is_float(orig_input.dtype) else \
            pad_nd(orig_input, axes)
        zero = grad.dtype.type(0)
        for offset in offsets(axes):
            hit = source[offset_slice(axes, offset)] == orig_output
            mask = _valid_mask(axes, offset)
            if mask is not None and not is_float(orig_input.dtype):
                hit &= mask
            padded[offset_slice(axes, offset)] += np.where(hit, grad, zero)
    return crop(padded, axes)


@kernel("MaxPool3DGradGrad")
def max_pool3d_grad_grad(orig_input: np.ndarray, orig_output: np.ndarray, grad: np.ndarray, *,
                         ksize: Sequence[int], strides: Sequence[int], padding: bytes,
                         data_format: bytes = b"NDHWC") -> np.ndarray:
    op = "MaxPool3DGradGrad"
    axes = _pool_geometry(op, orig_input.shape, ksize, strides, padding, data_format)
    expected = _out_shape(orig_input.shape, axes)
    _check_shape(op, "orig_output", orig_output, expected)
    _check_shape(op, "grad", grad, orig_input.shape)
    result = np.zeros(expected, grad.dtype)
    if result.size == 0:
        return result
    taken = np.zeros(expected, bool)
    source = pad_nd(orig_input, axes, np.nan) if is_float(orig_input.dtype) else pad_nd(orig_input, axes)
    padded_grad = pad_nd(grad, axes)
    for offset in offsets(axes):          # the first element equal to the pooled value
        hit = (source[offset_slice(axes, offset)] == orig_output) & ~taken
        mask = _valid_mask(axes, offset)
        if mask is not None:
            hit &= mask
        np.copyto(result, padded_grad[offset_slice(axes, offset)], where=hit)
        taken |= hit
    return result


@kernel("AvgPool3D")
def avg_pool3d(input: np.ndarray, *, ksize: Sequence[int], strides: Sequence[int], padding: bytes,
               data_format: bytes = b"NDHWC") -> np.ndarray:
    axes = _pool_geometry("AvgPool3D", input.shape, ksize, strides, padding, data_format)
    acc = accumulator(input.dtype)
    total = np.zeros(_out_shape(input.shape, axes), acc)
    if total.size:
        padded = pad_nd(input, axes)
        for offset in offsets(axes):
            total += padded[offset_slice(axes, offset)]
    return (total / _counts(axes, acc)).astype(input.dtype, copy=False)


@kernel("AvgPool3DGrad")
def avg_pool3d_grad(orig_input_shape: np.ndarray, grad: np.ndarray, *, ksize: Sequence[int],
                    strides: Sequence[int], padding: bytes, data_format: bytes = b"NDHWC") -> np.ndarray:
    op = "AvgPool3DGrad"
    shape = int_tuple(np.asarray(orig_input_shape))
    if len(shape) != 5 or min(shape) < 0:
        raise InvalidArgumentError(f"{op}: orig_input_shape must be 5 non-negative sizes, found "
                                   f"{list(shape)}")
    axes = _pool_geometry(op, shape, ksize, strides, padding, data_format)
    _check_shape(op, "grad", grad, _out_shape(shape, axes))
    acc = accumulator(grad.dtype)
    padded = np.zeros(padded_shape(shape, axes), acc)
    if grad.size:
        share = grad.astype(acc) / _counts(axes, acc)
        for offset in offsets(axes):
            padded[offset_slice(axes, offset)] += share
    return crop(padded, axes).astype(grad.dtype)
