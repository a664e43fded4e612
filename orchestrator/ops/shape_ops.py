"""Shape kernels: Shape/ShapeN/Size/Rank, Reshape, ExpandDims, Squeeze, broadcasting
helpers (BroadcastTo, BroadcastArgs, BroadcastGradientArgs), tensor makers (Fill,
ZerosLike, OnesLike, Range, LinSpace), Bitcast and UnravelIndex.

Reshape, ExpandDims and Squeeze return numpy views where possible: TF forwards the
buffer for these too, so aliasing behaves the same.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from orchestrator.dtypes import DType, as_dtype
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.array_util import int_scalar, int_vector, shape_str, zeros
from orchestrator.ops.list_edit_ops import is_list_variant, zeros_like_list
from orchestrator.ops.registry import kernel


# ----------------------------------------------------------------- shape queries

@kernel("Shape")
def shape(x: Any, *, out_type: DType = DType.INT32) -> np.ndarray:
    return np.array(np.shape(x), dtype=out_type.numpy)


@kernel("ShapeN", multi=True)
def shape_n(*xs: Any, out_type: DType = DType.INT32) -> tuple[np.ndarray, ...]:
    return tuple(np.array(np.shape(x), dtype=out_type.numpy) for x in xs)


@kernel("Size")
def size(x: Any, *, out_type: DType = DType.INT32) -> np.ndarray:
    return np.array(np.size(x), dtype=out_type.numpy)


@kernel("Rank")
def rank(x: Any) -> np.ndarray:
    return np.array(np.ndim(x), dtype=np.int32)


# ------------------------------------------------------------------- reshaping

@kernel("Reshape")
def reshape(x: np.ndarray, new_shape: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    sizes = int_vector("Reshape", "shape", new_shape)
    return x.reshape(_resolve_reshape(x.shape, tuple(sizes)))


@functools.lru_cache(maxsize=4096)    # a training step reshapes the same shapes every step
def _resolve_reshape(in_shape: tuple[int, ...], sizes: tuple[int, ...]) -> tuple[int, ...]:
    """TF's ValidateSizes: one -1 is inferred from the other sizes. Zero sizes are left out
    of both products, so ``[-1, 0]`` of a (0, 3) input still infers 3."""
    unknown = -1
    product = 1
    for i, d in enumerate(sizes):
        if d == -1:
            if unknown != -1:
                raise InvalidArgumentError(f"Reshape: Only one input size may be -1, not both "
                                           f"{unknown} and {i}")
            unknown = i
        elif d < 0:
            raise InvalidArgumentError(f"Reshape: Size {i} must be non-negative, not {d}")
        elif d > 0:
            product *= d
    n_in = math.prod(in_shape)
    resolved = list(sizes)
    if unknown != -1:
        sizes_have_zero = 0 in sizes
        counted = math.prod(d for d in in_shape if d > 0 or not sizes_have_zero)
        skipped_zero = sizes_have_zero and 0 in in_shape
        missing = counted // product
        if not skipped_zero and product * missing != counted:
            raise InvalidArgumentError(
                f"Reshape: Input to reshape is a tensor with {counted} values, but the "
                f"requested shape requires a multiple of {product}")
        resolved[unknown] = missing
    if math.prod(resolved) != n_in:
        raise InvalidArgumentError(
            f"Reshape: Input to reshape is a tensor with {n_in} values, but the requested shape "
            f"has {math.prod(resolved)}")
    return tuple(resolved)


@kernel("ExpandDims")
def expand_dims(x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    dim = int_scalar("ExpandDims", "dim", axis)
    if not -1 - x.ndim <= dim <= x.ndim:
        raise InvalidArgumentError(
            f"ExpandDims: Tried to expand dim index {dim} for tensor with {x.ndim} dimensions.")
    if dim < 0:
        dim += x.ndim + 1
    return x.reshape(x.shape[:dim] + (1,) + x.shape[dim:])     # a view, as np.expand_dims gives


@kernel("Squeeze")
def squeeze(x: np.ndarray, *, squeeze_dims: Any = ()) -> np.ndarray:
    x = np.asarray(x)
    if not squeeze_dims:
        return x.reshape(tuple(d for d in x.shape if d != 1))
    axes = set()
    for d in squeeze_dims:
        if not -x.ndim <= d < x.ndim:
            raise InvalidArgumentError(
                f"Squeeze: Tried to squeeze dim index {d} for tensor with {x.ndim} dimensions.")
        axis = d + x.ndim if d < 0 else d
        if x.shape[axis] != 1:
            raise InvalidArgumentError(f"Squeeze: Can not squeeze dim[{axis}], expected a dimension "
                                       f"of 1, got {x.shape[axis]}")
        axes.add(axis)
    return x.reshape(tuple(d for i, d in enumerate(x.shape) if i not in axes))


# ---------------------------------------------------------------- broadcasting

def _broadcast_shape(op: str, a: list[int], b: list[int]) -> list[int]:
    rank = max(len(a), len(b))
    pa, pb = [1] * (rank - len(a)) + a, [1] * (rank - len(b)) + b
    out = []
    for x, y in zip(pa, pb):
        if x != y and x != 1 and y != 1:
            raise InvalidArgumentError(f"{op}: Incompatible shapes: {shape_str(a)} vs. {shape_str(b)}")
        out.append(y if x == 1 else x)
    return out


@kernel("BroadcastTo")
def broadcast_to(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    out_shape = int_vector("BroadcastTo", "shape", target)
    if x.ndim > len(out_shape):
        raise InvalidArgumentError(f"BroadcastTo: Rank of input ({x.ndim}) must be no greater than "
                                   f"rank of output shape ({len(out_shape)}).")
    if _broadcast_shape("BroadcastTo", list(x.shape), out_shape) != out_shape:
        raise InvalidArgumentError(f"BroadcastTo: Unable to broadcast tensor of shape "
                                   f"{shape_str(x.shape)} to tensor of shape {shape_str(out_shape)}")
    # A real array, not a zero-stride view: consumers may hand it to code that writes.
    return np.array(np.broadcast_to(x, out_shape))


@kernel("BroadcastArgs")
def broadcast_args(s0: np.ndarray, s1: np.ndarray) -> np.ndarray:
    a, b = int_vector("BroadcastArgs", "s0", s0), int_vector("BroadcastArgs", "s1", s1)
    return np.array(_broadcast_shape("BroadcastArgs", a, b), dtype=np.asarray(s0).dtype)


@kernel("BroadcastGradientArgs", multi=True)
def broadcast_gradient_args(s0: np.ndarray, s1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The axes to sum each input's gradient over, as TF's BCast computes them.

    Identical shapes reduce nothing. Otherwise an output axis is reduced for an input
    whose (1-padded) dimension there is 1 — including axes where every shape has 1.
    """
    a, b = int_vector("BroadcastGradientArgs", "s0", s0), int_vector("BroadcastGradientArgs", "s1", s1)
    dtype = np.asarray(s0).dtype
    if a == b:
        return np.zeros(0, dtype), np.zeros(0, dtype)
    _broadcast_shape("BroadcastGradientArgs", a, b)
    rank = max(len(a), len(b))
    pa, pb = [1] * (rank - len(a)) + a, [1] * (rank - len(b)) + b
    r0 = [i for i in range(rank) if pa[i] == 1]
    r1 = [i for i in range(rank) if pb[i] == 1]
    return np.array(r0, dtype), np.array(r1, dtype)


# ------------------------------------------------------------------------ makers

@kernel("Fill")
def fill(dims: np.ndarray, value: np.ndarray) -> np.ndarray:
    value = np.asarray(value)
    shape_ = int_vector("Fill", "dims", dims)
    if value.ndim != 0:
        raise InvalidArgumentError(f"Fill: value must be a scalar, got shape {shape_str(value.shape)}")
    for d in shape_:
        if d < 0:
            raise InvalidArgumentError(f"Fill: Dimension {d} must be >= 0")
    return np.full(shape_, value, dtype=value.dtype)


@kernel("ZerosLike")
def zeros_like(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if is_list_variant(x):   # gradient of a loop-carried TensorList (while_v2 backprop)
        return zeros_like_list("ZerosLike", x)
    return zeros(x.shape, x.dtype)


@kernel("OnesLike")
def ones_like(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == object:
        raise InvalidArgumentError("OnesLike: not defined for string tensors")
    return np.ones(x.shape, x.dtype)


@kernel("Range")
def range_(start: np.ndarray, limit: np.ndarray, delta: np.ndarray, *,
           Tidx: DType | None = None) -> np.ndarray:
    """``start + i * delta`` (computed in the output dtype, as TF does) before ``limit``."""
    dtype = Tidx.numpy if Tidx is not None else np.asarray(start).dtype
    lo, hi, step = (np.asarray(v, dtype=dtype).reshape(()) for v in (start, limit, delta))
    if step == 0:
        raise InvalidArgumentError(f"Range: Requires delta != 0: {_num(step)}")
    if step > 0 and lo > hi:
        raise InvalidArgumentError(f"Range: Requires start <= limit when delta > 0: {_num(lo)}/{_num(hi)}")
    if step < 0 and lo < hi:
        raise InvalidArgumentError(f"Range: Requires start >= limit when delta < 0: {_num(lo)}/{_num(hi)}")
    if dtype.kind in "iu":
        first, stop, stride = int(lo), int(hi), int(step)
        return np.arange(first, stop, stride, dtype=dtype)   # exact for integers
    with np.errstate(over="ignore", invalid="ignore"):
        count = int(np.ceil(np.abs((hi - lo) / step)))
    return (lo + np.arange(count, dtype=dtype) * step).astype(dtype, copy=False)


def _num(v: np.ndarray) -> str:
    return str(int(v)) if v.dtype.kind in "iu" else f"{float(v):g}"


@kernel("LinSpace")
def lin_space(start: np.ndarray, stop: np.ndarray, num: np.ndarray) -> np.ndarray:
    """``num`` points; step computed once in the input dtype, the last point is ``stop`` exactly."""
    dtype = np.asarray(start).dtype
    count = int_scalar("LinSpace", "num", num)
    if count <= 0:
        raise InvalidArgumentError(f"LinSpace: Requires num > 0: {count}")
    lo = np.asarray(start, dtype).reshape(())
    hi = np.asarray(stop, dtype).reshape(())
    if count == 1:
        return lo.reshape(1).copy()
    step = (hi - lo) / dtype.type(count - 1)
    out = lo + step * np.arange(count, dtype=dtype)
    out[-1] = hi
    return out.astype(dtype, copy=False)


# ------------------------------------------------------------------ reinterpreting

@kernel("Bitcast")
def bitcast(x: np.ndarray, *, type: DType) -> np.ndarray:  # noqa: A002 (TF's attr name)
    """The same bytes read as ``type``: a wider type consumes the last dimension (which must be
    the size ratio), a narrower one adds it."""
    x = np.ascontiguousarray(x)
    target = type.numpy
    src_size, dst_size = x.dtype.itemsize, target.itemsize
    if x.dtype == np.bool_ or target == np.bool_ or x.dtype == object or target == object:
        raise InvalidArgumentError(f"Bitcast: cannot bitcast {x.dtype} to {target}")
    if src_size == dst_size:
        return x.view(target)
    if src_size > dst_size:
        return x.view(target).reshape(x.shape + (src_size // dst_size,))
    if not x.ndim or x.shape[-1] * src_size != dst_size:
        raise InvalidArgumentError(f"Bitcast: Cannot bitcast from {int(as_dtype(x.dtype))} to "
                                   f"{int(type)}")
    return x.view(target).reshape(x.shape[:-1])


@kernel("UnravelIndex")
def unravel_index(indices: np.ndarray, dims: np.ndarray) -> np.ndarray:
    """Coordinates of flat ``indices`` in ``dims``: shape ``[len(dims)] + indices.shape``."""
    indices, sizes = np.asarray(indices), np.asarray(dims)
    if sizes.ndim != 1:
        raise InvalidArgumentError(f"UnravelIndex: The dims input must be a vector, found shape "
                                   f"{shape_str(sizes.shape)}")
    total = int(np.prod(sizes, dtype=np.int64))
    if indices.size and (indices.min() < 0 or indices.max() >= total):
        raise InvalidArgumentError("UnravelIndex: index is out of bound as with dims")
    coords = np.unravel_index(indices, tuple(int(d) for d in sizes))
    return np.stack(coords).astype(indices.dtype, copy=False)
