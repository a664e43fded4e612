"""Comparisons, logical ops, Select/SelectV2, Cast, ClipByValue, AddN/AccumulateNV2 and
Bucketize.

TF details kept here:

* ``Equal``/``NotEqual`` with ``incompatible_shape_error=False`` answer a scalar
  False/True for shapes that do not broadcast instead of failing;
* ``Select`` (v1) has no broadcasting, but a rank-1 condition picks whole rows
  (``condition[i]`` chooses ``x[i, ...]`` or ``y[i, ...]``) and a scalar one picks a
  whole input; ``SelectV2`` broadcasts all three;
* ``Cast`` rounds to nearest-even into float16/bfloat16, or drops the low mantissa bits
  with ``Truncate=True``; float to int truncates towards zero like C++;
* ``AddN`` sums in TF's grouping (the first ``n % 8`` inputs, or 8/9, in one left-to-right
  expression, then ``out + (8 more, left to right)`` repeatedly), so float sums of many
  gradients match TF's bits.
"""
from __future__ import annotations

from collections.abc import Callable

import ml_dtypes
import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.list_edit_ops import add_n_lists, is_list_variant
from orchestrator.ops.math_ops import NARROW_FLOATS, as_array, incompatible, shape_str
from orchestrator.ops.registry import kernel

_FALSE = np.array(False)
_TRUE = np.array(True)
_BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
_OBJECT = np.dtype(object)


def _register_compare(op: str, compute: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    def compare_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        try:
            return as_array(compute(x, y))
        except ValueError as err:
            if "broadcast" in str(err):
                raise incompatible(op, x, y) from None
            raise

    compare_kernel.__name__ = compare_kernel.__qualname__ = f"{op.lower()}_kernel"
    kernel(op)(compare_kernel)


for _op, _fn in {"Less": np.less, "LessEqual": np.less_equal, "Greater": np.greater,
                 "GreaterEqual": np.greater_equal, "LogicalAnd": np.logical_and,
                 "LogicalOr": np.logical_or}.items():
    _register_compare(_op, _fn)


def _equality(op: str, compute: Callable, when_incompatible: np.ndarray) -> None:
    def equality_kernel(x: np.ndarray, y: np.ndarray, *, incompatible_shape_error: bool = True) -> np.ndarray:
        try:
            return as_array(compute(x, y))
        except ValueError as err:
            if "broadcast" not in str(err):
                raise
            if incompatible_shape_error:
                raise incompatible(op, x, y) from None
            return when_incompatible

    equality_kernel.__name__ = equality_kernel.__qualname__ = f"{op.lower()}_kernel"
    kernel(op)(equality_kernel)


_equality("Equal", np.equal, _FALSE)
_equality("NotEqual", np.not_equal, _TRUE)


@kernel("ApproximateEqual")
def approximate_equal(x: np.ndarray, y: np.ndarray, *, tolerance: float = 1e-5) -> np.ndarray:
    if x.shape != y.shape:
        raise InvalidArgumentError(f"ApproximateEqual: x and y must be of the same shape. "
                                   f"x shape: {shape_str(x.shape)}. y shape: {shape_str(y.shape)}")
    return as_array(np.abs(np.subtract(x, y)) < np.asarray(tolerance, x.dtype))


# ------------------------------------------------------------------ select

@kernel("Select")
def select(condition: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.shape != y.shape:
        raise InvalidArgumentError(f"Select: 'then' and 'else' must have the same size and shape, "
                                   f"found {shape_str(x.shape)} and {shape_str(y.shape)}")
    if condition.ndim == 0:
        return x if condition else y
    if condition.shape != x.shape:
        if condition.ndim != 1 or x.ndim < 1:
            raise InvalidArgumentError(
                f"Select: condition must be a scalar, a vector over the first dimension or the "
                f"inputs' shape; found condition {shape_str(condition.shape)}, input {shape_str(x.shape)}")
        if condition.shape[0] != x.shape[0]:
            raise InvalidArgumentError(f"Select: Number of batches of 'then' must match size of "
                                       f"'cond', but saw: {x.shape[0]} vs. {condition.shape[0]}")
        condition = condition.reshape(condition.shape + (1,) * (x.ndim - 1))
    return as_array(np.where(condition, x, y))


@kernel("SelectV2")
def select_v2(condition: np.ndarray, t: np.ndarray, e: np.ndarray) -> np.ndarray:
    try:
        return as_array(np.where(condition, t, e))
    except ValueError:
        raise InvalidArgumentError(
            f"SelectV2: condition {shape_str(condition.shape)}, then {shape_str(t.shape)}, and else "
            f"{shape_str(e.shape)} must be broadcastable") from None


# ------------------------------------------------------------------ cast

def _truncate_to_bfloat16(x: np.ndarray) -> np.ndarray:
    """Keep the top 16 bits of each float32 (TF's Truncate=True); NaN stays a NaN."""
    bits = np.asarray(x, np.float32).view(np.uint32) >> np.uint32(16)
    out = bits.astype(np.uint16).view(_BFLOAT16)
    return np.where(np.isnan(x), np.asarray(np.nan, _BFLOAT16), out)


def _truncate_to_half(x: np.ndarray) -> np.ndarray:
    """float32 -> float16 dropping the low mantissa bits (round towards zero)."""
    x32 = np.asarray(x, np.float32)
    with np.errstate(over="ignore"):
        rounded = x32.astype(np.float16)
    # Rounding went away from zero exactly where |rounded| > |x|: step one ulp back to zero.
    overshoot = np.abs(rounded.astype(np.float32)) > np.abs(x32)
    if not overshoot.any():
        return rounded
    toward_zero = np.nextafter(rounded, np.zeros((), np.float16))
    return np.where(overshoot & np.isfinite(x32), toward_zero, rounded)


@kernel("Cast")
def cast(x: np.ndarray, *, DstT: DType, Truncate: bool = False) -> np.ndarray:  # noqa: N803 (TF attr names)
    dst = DstT.numpy
    if x.dtype == dst:
        return x
    if dst == np.bool_:
        return as_array(x != 0)
    from_float = x.dtype.kind == "f" or x.dtype == _BFLOAT16
    if not from_float and dst not in NARROW_FLOATS:
        return x.astype(dst)                # ints/bools: C++ conversions wrap like numpy's
    if Truncate:
        if dst == _BFLOAT16:
            return _truncate_to_bfloat16(x)
        if dst == np.float16:
            return _truncate_to_half(x)
    with np.errstate(all="ignore"):     # NaN/inf/out-of-range conversions are results here
        if x.dtype == np.float64 and dst == _BFLOAT16:
            return x.astype(np.float32).astype(dst)     # TF goes through float32 (double rounding)
        if dst.kind in "iu" and x.dtype.itemsize < 4:
            x = x.astype(np.float32)        # C++ truncation from half goes through float
        return x.astype(dst)


# ------------------------------------------------------------------ clip / add_n

@kernel("ClipByValue")
def clip_by_value(t: np.ndarray, clip_value_min: np.ndarray, clip_value_max: np.ndarray) -> np.ndarray:
    for name, bound in (("clip_value_min", clip_value_min), ("clip_value_max", clip_value_max)):
        if bound.ndim and bound.shape != t.shape:
            raise InvalidArgumentError(
                f"ClipByValue: {name} must be either of the same shape as input, or a scalar. "
                f"input shape: {shape_str(t.shape)}, {name} shape: {shape_str(bound.shape)}")
    return as_array(np.maximum(np.minimum(t, clip_value_max), clip_value_min))


def _sum_left_to_right(values: tuple[np.ndarray, ...]) -> np.ndarray:
    total = as_array(np.add(values[0], values[1]))
    for v in values[2:]:
        np.add(total, v, out=total)
    return total


def _add_n(op: str, inputs: tuple[np.ndarray, ...]) -> np.ndarray:
    if not inputs:
        raise InvalidArgumentError(f"{op}: needs at least one input")
    first = inputs[0]
    if len(inputs) == 2:                 # RNN gradients sum pairs (~25 AddN a step): one add
        second = inputs[1]
        if (type(first) is np.ndarray and type(second) is np.ndarray and first.dtype is second.dtype
                and first.dtype is not _OBJECT and first.shape == second.shape):
            return as_array(np.add(first, second))
    if is_list_variant(first):   # sums of TensorList gradients (while_v2 backprop)
        return add_n_lists(op, list(inputs))
    for i, v in enumerate(inputs[1:], start=1):
        if v.shape != first.shape:
            raise InvalidArgumentError(f"{op}: all inputs must have the same shape; input 0 is "
                                       f"{shape_str(first.shape)}, input {i} is {shape_str(v.shape)}")
    n = len(inputs)
    if n == 1:
        return first
    head = n % 8 if n % 8 > 1 else n % 8 + 8
    total = _sum_left_to_right(inputs[:head])
    for start in range(head, n, 8):
        np.add(total, _sum_left_to_right(inputs[start:start + 8]), out=total)
    return total


@kernel("AddN")
def add_n(*inputs: np.ndarray) -> np.ndarray:
    return _add_n("AddN", inputs)


@kernel("AccumulateNV2")
def accumulate_n_v2(*inputs: np.ndarray, shape: tuple | None = None) -> np.ndarray:
    """TF rewrites this op into a temporary-variable accumulation; the sum is AddN's."""
    return _add_n("AccumulateNV2", inputs)


@kernel("Bucketize")
def bucketize(input: np.ndarray, *, boundaries: tuple | list = ()) -> np.ndarray:  # noqa: A002
    """The number of boundaries <= each value (int32), as ``std::upper_bound`` over TF's
    float boundaries: double inputs compare in double, others are converted to float."""
    bounds = np.asarray(boundaries, np.float32)
    if bounds.size > 1 and np.any(bounds[1:] < bounds[:-1]):
        raise InvalidArgumentError(f"Bucketize: Expected sorted boundaries, found {list(boundaries)}")
    if input.dtype == np.float64:
        values, bounds = input, bounds.astype(np.float64)
    else:
        values = input.astype(np.float32, copy=False)
    return np.searchsorted(bounds, values, side="right").astype(np.int32)
