"""Slice, StridedSlice and StridedSliceGrad.

StridedSlice follows TF's ValidateStridedSliceOp step by step: the sparse spec (the
op's begin/end/strides with their masks, an implicit trailing ellipsis) is expanded to
one dense entry per input dimension, each entry is canonicalised (negative indices
wrapped, out-of-range values clamped, masked ends replaced by the full range for the
stride's direction), and the final shape re-inserts new axes and drops shrunk ones.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.array_util import int_vector, shape_str, zeros
from orchestrator.ops.registry import kernel

_NEW_AXIS = -1
_SHRINK_AXIS = -2


@kernel("Slice")
def slice_(x: np.ndarray, begin: Any, size: Any) -> np.ndarray:
    x = np.asarray(x)
    starts, sizes = int_vector("Slice", "begin", begin), int_vector("Slice", "size", size)
    if len(starts) != x.ndim or len(sizes) != x.ndim:
        raise InvalidArgumentError(
            f"Slice: Expected begin and size arguments to be 1-D tensors of size {x.ndim}, but got "
            f"shapes {shape_str(np.shape(begin))} and {shape_str(np.shape(size))} instead.")
    index = _slice_index(x.shape, tuple(starts), tuple(sizes))
    return x if index is None else np.array(x[index])


@functools.lru_cache(maxsize=4096)
def _slice_index(shape: tuple[int, ...], starts: tuple[int, ...], sizes: tuple[int, ...]) -> tuple | None:
    """The numpy index of a Slice, None when it takes the whole input. Cached: graphs slice
    the same shapes at the same offsets every step (RNN gradients ~10 times a step)."""
    index = []
    for i, (b, s, d) in enumerate(zip(starts, sizes, shape)):
        if s == -1:
            s = d - b
        if not 0 <= b <= d:
            raise InvalidArgumentError(f"Slice: Expected begin[{i}] in [0, {d}], but got {b}")
        if not 0 <= s <= d - b:
            raise InvalidArgumentError(f"Slice: Expected size[{i}] in [0, {d - b}], but got {s}")
        index.append(slice(b, b + s))
    if all(sl.start == 0 and sl.stop == d for sl, d in zip(index, shape)):
        return None
    return tuple(index)


@dataclasses.dataclass(frozen=True)
class StridedSpec:
    """The canonical form of one strided slice over a concrete input shape."""

    index: tuple            # numpy index producing the processing result (shrunk dims dropped)
    processing_shape: tuple  # one entry per input dimension (shrunk dims have size 1)
    final_shape: tuple      # the op's output shape
    is_identity: bool       # every dimension taken whole, forwards, with no shape change


def strided_slice_spec(op: str, in_shape: tuple[int, ...], begin: Any, end: Any, strides: Any,
                       begin_mask: int = 0, end_mask: int = 0, ellipsis_mask: int = 0,
                       new_axis_mask: int = 0, shrink_axis_mask: int = 0) -> StridedSpec:
    b, e, s = (int_vector(op, what, v) for what, v in (("begin", begin), ("end", end),
                                                       ("strides", strides)))
    if not len(b) == len(e) == len(s):
        raise InvalidArgumentError(
            f"{op}: Expected begin, end, and strides to be 1D equal size tensors, but got shapes "
            f"{shape_str(np.shape(begin))}, {shape_str(np.shape(end))}, and "
            f"{shape_str(np.shape(strides))} instead.")
    # Training graphs slice the same shapes with the same constants every step.
    return _cached_spec(op, tuple(in_shape), tuple(b), tuple(e), tuple(s), begin_mask, end_mask,
                        ellipsis_mask, new_axis_mask, shrink_axis_mask)


@functools.lru_cache(maxsize=4096)
def _cached_spec(op: str, in_shape: tuple[int, ...], b: tuple[int, ...], e: tuple[int, ...],
                 s: tuple[int, ...], begin_mask: int, end_mask: int, ellipsis_mask: int,
                 new_axis_mask: int, shrink_axis_mask: int) -> StridedSpec:
    if ellipsis_mask & (ellipsis_mask - 1):
        raise InvalidArgumentError(f"{op}: Multiple ellipses in slice spec not allowed")

    # Sparse spec: count new axes after the ellipsis, add an implicit one at the end.
    sparse_dims = len(b)
    ellipsis_seen, add_after_ellipsis = False, 0
    for i in range(sparse_dims):
        if ellipsis_seen and new_axis_mask >> i & 1:
            add_after_ellipsis += 1
        if ellipsis_mask >> i & 1:
            ellipsis_seen = True
    if not ellipsis_seen:
        ellipsis_mask |= 1 << sparse_dims
        sparse_dims += 1

    # Dense spec: one (begin, end, stride, masks) per input dimension.
    rank = len(in_shape)
    dense = []          # (begin, end, stride, begin_masked, end_masked, shrink)
    gather = []         # per final dim: dense index, _NEW_AXIS or _SHRINK_AXIS
    for i in range(sparse_dims):
        if ellipsis_mask >> i & 1:
            stop = min(rank - (sparse_dims - i) + 1 + add_after_ellipsis, rank)
            while len(dense) < stop:
                gather.append(len(dense))
                dense.append((0, 0, 1, True, True, False))
        elif new_axis_mask >> i & 1:
            gather.append(_NEW_AXIS)
        else:
            if len(dense) == rank:
                if rank == 0:
                    raise InvalidArgumentError(f"{op}: Attempting to slice scalar input.")
                raise InvalidArgumentError(f"{op}: Index out of range using input dim {len(dense)}; "
                                           f"input has only {rank} dims")
            shrink = bool(shrink_axis_mask >> i & 1)
            gather.append(_SHRINK_AXIS if shrink else len(dense))
            dense.append((b[i], e[i], s[i], bool(begin_mask >> i & 1), bool(end_mask >> i & 1), shrink))

    index, processing, identity = [], [], True
    for i, (bi, ei, si, bm, em, shrink) in enumerate(dense):
        dim = in_shape[i]
        if si == 0:
            raise InvalidArgumentError(f"{op}: strides[{i}] must be non-zero")
        if shrink and si <= 0:
            raise InvalidArgumentError(f"{op}: only stride 1 allowed on non-range indexing.")
        if shrink:
            bi = bi + dim if bi < 0 else bi
            if not 0 <= bi < dim:
                raise InvalidArgumentError(f"{op}: slice index {bi} of dimension {i} out of bounds.")
            index.append(bi)
            processing.append(1)
            identity = False
            continue
        lo, hi = (0, dim) if si > 0 else (-1, dim - 1)
        bi = _canonical(bi, bm, si > 0, lo, hi, dim, first=True)
        ei = _canonical(ei, em, si > 0, lo, hi, dim, first=False)
        length = ei - bi
        if length == 0 or (length < 0) != (si < 0):
            size = 0
        else:
            size = -(-abs(length) // abs(si))
        processing.append(size)
        if size == 0:
            index.append(slice(0, 0))
        else:
            index.append(slice(bi, ei if ei >= 0 else None, si))
        identity = identity and si == 1 and bi == 0 and ei == dim
    final = tuple(1 if g == _NEW_AXIS else processing[g] for g in gather if g != _SHRINK_AXIS)
    identity = identity and final == tuple(in_shape)
    return StridedSpec(tuple(index), tuple(processing), final, identity)


def _canonical(x: int, masked: bool, forward: bool, lo: int, hi: int, dim: int, first: bool) -> int:
    """TF's canonical(): a masked begin/end takes the range's end for the stride's direction;
    otherwise negative values wrap once and the result is clamped to [lo, hi]."""
    if masked:
        return (lo if first else hi) if forward else (hi if first else lo)
    x = x + dim if x < 0 else x
    return min(max(x, lo), hi)


_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")

# Specs of StridedSlice calls already validated, keyed on the input shape and the exact
# bytes, dtype and shape of begin/end/strides (plus masks): graphs slice the same shapes
# with the same constants every step, and this look-up (~1 us) replaces the three
# int_vector conversions and the cached-spec call (~4 us). Values: (index ending in an
# Ellipsis, so that it yields an array view even for a single element — copied, a string
# element stays an object array; final shape or None when the view has it; identity).
_FAST_SPECS: dict[tuple, tuple[tuple, tuple | None, bool]] = {}
_FAST_SPECS_MAX = 4096


@kernel("StridedSlice")
def strided_slice(x: np.ndarray, begin: Any, end: Any, strides: Any, *, begin_mask: int = 0,
                  end_mask: int = 0, ellipsis_mask: int = 0, new_axis_mask: int = 0,
                  shrink_axis_mask: int = 0) -> np.ndarray:
    key = None
    if type(x) is np.ndarray and type(begin) is np.ndarray and type(end) is np.ndarray \
            and type(strides) is np.ndarray:
        key = (x.shape, begin.dtype, begin.shape, begin.tobytes(), end.dtype, end.shape, end.tobytes(),
               strides.dtype, strides.shape, strides.tobytes(), begin_mask, end_mask, ellipsis_mask,
               new_axis_mask, shrink_axis_mask)
        known = _FAST_SPECS.get(key)
    else:
        known = None
    if known is None:
        x = np.asarray(x)
        spec = strided_slice_spec("StridedSlice", x.shape, begin, end, strides, begin_mask, end_mask,
                                  ellipsis_mask, new_axis_mask, shrink_axis_mask)
        sliced_shape = tuple(p for p, i in zip(spec.processing_shape, spec.index) if not isinstance(i, int))
        known = (spec.index + (Ellipsis,), None if sliced_shape == spec.final_shape else spec.final_shape,
                 spec.is_identity)
        if key is not None and len(_FAST_SPECS) < _FAST_SPECS_MAX:
            _FAST_SPECS[key] = known
    index, final_shape, identity = known
    if identity:
        return x
    out = x[index].copy()
    return out if final_shape is None else out.reshape(final_shape)


@kernel("StridedSliceGrad")
def strided_slice_grad(shape: Any, begin: Any, end: Any, strides: Any, dy: np.ndarray, *,
                       begin_mask: int = 0, end_mask: int = 0, ellipsis_mask: int = 0,
                       new_axis_mask: int = 0, shrink_axis_mask: int = 0) -> np.ndarray:
    """Zeros of the sliced input's ``shape`` with ``dy`` scattered back where the slice read."""
    dy = np.asarray(dy)
    in_shape = tuple(int_vector("StridedSliceGrad", "shape", shape))
    spec = strided_slice_spec("StridedSliceGrad", in_shape, begin, end, strides, begin_mask,
                              end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask)
    if dy.shape != spec.final_shape:
        raise InvalidArgumentError(f"StridedSliceGrad: shape of dy was {shape_str(dy.shape)} "
                                   f"instead of {shape_str(spec.final_shape)}")
    out = zeros(in_shape, dy.dtype)
    target = out[spec.index]
    out[spec.index] = dy.reshape(np.shape(target))
    return out
