"""Reductions (Sum Mean Max Min Prod All Any EuclideanNorm), ArgMax/ArgMin, Cumsum/Cumprod.

``axis`` arrives as an int32/int64 tensor: a scalar or a vector, possibly empty (nothing
reduced), with negative entries counted from the end. Out-of-range and duplicate axes are
errors, as in TF. Over an empty axis, TF's reducers give their identities: 0, 1, the
lowest/highest value for Max/Min, NaN for a float Mean.

float32/float64 Sum/Mean/Prod/EuclideanNorm add in the order of TF's Eigen reductions
(eigen_reduce.py), so they match TF bit for bit. float16/bfloat16 reductions accumulate in float32 and round
once at the end, which agrees with TF to an ulp.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops import eigen_reduce
from orchestrator.ops.eigen_reduce import simplify, tf_order_reduce
from orchestrator.ops.jit import lazy_njit
from orchestrator.ops.math_ops import NARROW_FLOATS, as_array, shape_str
from orchestrator.ops.registry import kernel


def reduction_axes(op: str, axis: np.ndarray, rank: int) -> tuple[int, ...]:
    """Normalised axes (non-negative, in the order given); errors name the op like TF's."""
    given = tuple(axis.reshape(-1).tolist() if isinstance(axis, np.ndarray) else np.ravel(axis).tolist())
    return _normalised_axes(op, given, rank)


@functools.lru_cache(maxsize=4096)
def _normalised_axes(op: str, given: tuple[int, ...], rank: int) -> tuple[int, ...]:
    # A pure function of (axes, rank): worked out once per signature (errors are not cached).
    axes: list[int] = []
    for a in given:
        if not -rank <= a < max(rank, 1) or (rank == 0 and a != 0):
            raise InvalidArgumentError(
                f"{op}: Invalid reduction dimension ({a} for input with {rank} dimension(s)")
        a = a + rank if a < 0 else a
        if a in axes:
            raise InvalidArgumentError(
                f"{op}: Invalid reduction arguments: Axes contains duplicate dimension: {a}")
        axes.append(a)
    return tuple(axes)


def _accumulation_dtype(x: np.ndarray) -> np.dtype:
    """float32 for half/bfloat16; the input's own type otherwise (integer sums wrap around
    in their type like TF's, numpy would widen them to int64)."""
    return np.dtype(np.float32) if x.dtype in NARROW_FLOATS else x.dtype


# ------------------------------------------------------------------ small float sums
# Sum/Mean of float32/float64 tensors whose TF order is plain (each output one element
# after another) cost ~5-15 us through reduction_axes + tf_order_reduce + the division,
# one compiled loop ~1 us. Which calls qualify is worked out once per signature (input
# shape/dtype, exact axis bytes, keep_dims) and remembered, like the order itself; the
# rest (and every error) goes the checked way.
_SMALL_SUM_DTYPES = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}   # Eigen packet sizes
_NOT_SMALL = object()
_SMALL_PLANS: dict[tuple, object] = {}
_SMALL_PLANS_MAX = 4096
_LEAF_PACKETS = 1024                        # eigen_reduce's longest leaf row, in packets


@lazy_njit
def _small_sum_loop(flat, down_columns, divisor, divide, out):
    """Over a [outer, reduced, inner] view. ``down_columns``: out[i, k] = 0 + flat[i, 0, k]
    + flat[i, 1, k] + ... (TF's order when a reduced dimension is followed by a kept one,
    and numpy's add.reduce over such a middle axis, which starts from +0 too: a column of
    -0.0 sums to +0.0); with one reduced row (only size-1 dimensions reduced) a copy.
    Otherwise (inner == 1) out[i] = flat[i, 0, 0] + flat[i, 1, 0] + ... for rows shorter
    than one Eigen packet: its inner-most reducer then only has the scalar tail, which
    starts from the first element. Then / divisor."""
    outer, m, inner = flat.shape
    if down_columns:
        for i in range(outer):
            base = i * inner
            if m == 1:
                for k in range(inner):
                    out[base + k] = flat[i, 0, k]
                continue
            for k in range(inner):
                out[base + k] = 0.0             # +0 in out's type (a float literal in an
            for r in range(m):                  # expression would widen the sum to float64)
                for k in range(inner):          # rows outer, columns inner: memory order
                    out[base + k] = out[base + k] + flat[i, r, k]
        if divide:
            for o in range(out.size):
                out[o] = out[o] / divisor
    else:
        for i in range(outer):
            total = flat[i, 0, 0]
            for r in range(1, m):
                total = total + flat[i, r, 0]
            out[i] = total / divisor if divide else total


def _small_sum_plan(x: np.ndarray, axes: tuple[int, ...], keep: bool, mean: bool) -> object:
    """How a float Sum/Mean signature runs, or _NOT_SMALL:
    ("loop", [outer, reduced, inner] view, down_columns, output shape, divisor),
    ("leaf", [rows, n] view, packet, output shape, divisor or None): each row one Eigen
    leaf (a packet <= n <= 1024 packets), by eigen_reduce's own compiled leaf,
    ("tf", axes, divisor or None): tf_order_reduce with the axes worked out here."""
    packet = _SMALL_SUM_DTYPES.get(x.dtype)
    if packet is None or x.size == 0 or not axes or not x.ndim:   # no axes: x is the answer
        return _NOT_SMALL
    divisor = x.dtype.type(_count(x, axes)) if mean else None
    out_shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)) if keep else \
        tuple(d for i, d in enumerate(x.shape) if i not in axes)
    dims, reduce_first = simplify(x.shape, axes)
    if len(dims) == 1 and reduce_first:
        dims = [1] + dims                                    # R: one row
    if not dims or (len(dims) == 1 and not reduce_first):
        view, down = (1, 1, x.size), True                    # only size-1 dims reduced: a copy
    elif len(dims) == 2 and reduce_first and dims[0] != 1:
        view, down = (1, dims[0], dims[1]), True             # R K
    elif len(dims) == 2:                                     # (K) R: rows
        if dims[1] >= packet:
            if dims[1] > packet * _LEAF_PACKETS:
                return "tf", axes, divisor
            return "leaf", (dims[0], dims[1]), packet, out_shape, divisor
        view, down = (dims[0], dims[1], 1), False            # rows shorter than a packet
    elif len(dims) == 3 and not reduce_first:
        view, down = (dims[0], dims[1], dims[2]), True       # K R K
    else:
        return "tf", axes, divisor
    return "loop", view, down, out_shape, x.dtype.type(1) if divisor is None else divisor


def _small_sum(op: str, x: np.ndarray, axis: object, keep: bool) -> np.ndarray | None:
    """Sum/Mean of ``x`` by a remembered plan, or None when the checked path must run."""
    if type(x) is not np.ndarray or type(axis) is not np.ndarray or not x.flags.c_contiguous:
        return None
    key = (op, x.shape, x.dtype, axis.dtype, axis.shape, axis.tobytes(), keep)
    plan = _SMALL_PLANS.get(key)
    if plan is None:
        if axis.dtype.kind not in "iu" or axis.ndim > 1:
            return None
        plan = _small_sum_plan(x, reduction_axes(op, axis, x.ndim), keep, op == "Mean")
        if len(_SMALL_PLANS) < _SMALL_PLANS_MAX:
            _SMALL_PLANS[key] = plan
    if plan is _NOT_SMALL:
        return None
    kind = plan[0]
    if kind == "loop":
        _, view, down, out_shape, divisor = plan
        out = np.empty(view[0] * view[2] if down else view[0], x.dtype)
        _small_sum_loop(x.reshape(view), down, divisor, op == "Mean", out)
        return out.reshape(out_shape)
    if kind == "leaf":
        _, view, packet, out_shape, divisor = plan
        out = np.empty(view[0], x.dtype)
        eigen_reduce.leaf_rows_loop(x.reshape(view), packet, False, out)   # Eigen's leaf order
        # (np.divide with out= costs ~2x the plain division on arrays this small)
        return (out if divisor is None else out / divisor).reshape(out_shape)
    _, axes, divisor = plan
    total = tf_order_reduce(np.add, x, axes, keep)
    return total if divisor is None else as_array(total / divisor)


def _register_reduction(op: str, reduce: Callable[[np.ndarray, tuple[int, ...], bool], np.ndarray],
                        identity_without_axes: bool = True, quiet: bool = False,
                        quiet_if_empty: bool = False) -> None:
    """``quiet``: silence numpy's float warnings (roots of wrapped integer sums);
    ``quiet_if_empty``: only for empty input (0/0 of an empty Mean). The others skip
    np.errstate, which costs microseconds per call."""
    small = op in ("Sum", "Mean")

    def reduction_kernel(input: np.ndarray, axis: np.ndarray, *, keep_dims: bool = False) -> np.ndarray:  # noqa: A002
        if small:
            out = _small_sum(op, input, axis, keep_dims)
            if out is not None:
                return out
        axes = reduction_axes(op, axis, input.ndim)
        if not axes and identity_without_axes:
            return input
        if not quiet and not (quiet_if_empty and input.size == 0):
            return as_array(reduce(input, axes, keep_dims))
        with np.errstate(all="ignore"):
            return as_array(reduce(input, axes, keep_dims))

    reduction_kernel.__name__ = reduction_kernel.__qualname__ = f"{op.lower()}_kernel"
    kernel(op)(reduction_kernel)


def _sum(x: np.ndarray, axes: tuple[int, ...], keep: bool) -> np.ndarray:
    exact = tf_order_reduce(np.add, x, axes, keep)
    if exact is not None:
        return exact
    return np.add.reduce(x, axis=axes, keepdims=keep, dtype=_accumulation_dtype(x)).astype(x.dtype, copy=False)


def _count(x: np.ndarray, axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def _mean(x: np.ndarray, axes: tuple[int, ...], keep: bool) -> np.ndarray:
    n = _count(x, axes)
    if x.dtype.kind in "iu":
        total = np.add.reduce(x, axis=axes, keepdims=keep, dtype=x.dtype)
        if n == 0:
            return total            # nothing to divide: the sum identity, as TF answers
        # C++ integer division truncates towards zero.
        quotient = np.abs(total) // n
        return np.where(total < 0, -quotient, quotient).astype(x.dtype)
    acc = _accumulation_dtype(x)
    total = tf_order_reduce(np.add, x, axes, keep)
    if total is None:
        total = np.add.reduce(x, axis=axes, keepdims=keep, dtype=acc)
    return as_array(total / np.asarray(n, acc)).astype(x.dtype, copy=False)


def _extreme(np_reduce: Callable, identity: Callable[[np.dtype], object]) -> Callable:
    def reduce(x: np.ndarray, axes: tuple[int, ...], keep: bool) -> np.ndarray:
        if x.size:
            return np_reduce(x, axis=axes, keepdims=keep)
        return np_reduce(x, axis=axes, keepdims=keep, initial=identity(x.dtype))
    return reduce


def _lowest(dtype: np.dtype) -> object:
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min if dtype.kind in "iu" else False


def _highest(dtype: np.dtype) -> object:
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max if dtype.kind in "iu" else True


def _prod(x: np.ndarray, axes: tuple[int, ...], keep: bool) -> np.ndarray:
    exact = tf_order_reduce(np.multiply, x, axes, keep)
    if exact is not None:
        return exact
    return np.multiply.reduce(x, axis=axes, keepdims=keep, dtype=_accumulation_dtype(x)).astype(x.dtype, copy=False)


def _euclidean_norm(x: np.ndarray, axes: tuple[int, ...], keep: bool) -> np.ndarray:
    """sqrt(sum(x*x)); integer squares and sums wrap in their type, a negative wrapped sum
    has a NaN root that the cast back to the integer type turns into what TF gives."""
    acc = _accumulation_dtype(x)
    squared = np.square(x, dtype=acc)
    squares = tf_order_reduce(np.add, squared, axes, keep)
    if squares is None:
        squares = np.add.reduce(squared, axis=axes, keepdims=keep, dtype=acc)
    if x.dtype.kind in "iu":
        return np.sqrt(squares.astype(np.float64)).astype(x.dtype)
    return np.sqrt(squares).astype(x.dtype, copy=False)


# With no axes TF still squares and roots each element: EuclideanNorm(x, []) == |x|.
_register_reduction("EuclideanNorm", _euclidean_norm, identity_without_axes=False, quiet=True)
_register_reduction("Mean", _mean, quiet_if_empty=True)
for _op, _fn in {
    "Sum": _sum, "Prod": _prod,
    "Max": _extreme(np.maximum.reduce, _lowest), "Min": _extreme(np.minimum.reduce, _highest),
    "All": lambda x, axes, keep: np.logical_and.reduce(x, axis=axes, keepdims=keep),
    "Any": lambda x, axes, keep: np.logical_or.reduce(x, axis=axes, keepdims=keep),
}.items():
    _register_reduction(_op, _fn)


# ------------------------------------------------------------------ arg max / min

def _arg_reduce(op: str, np_arg: Callable) -> None:
    def arg_kernel(input: np.ndarray, dimension: np.ndarray, *,  # noqa: A002
                   output_type: DType = DType.INT64) -> np.ndarray:
        rank = input.ndim
        axis = int(dimension)
        if not -max(rank, 1) <= axis < max(rank, 1):
            raise InvalidArgumentError(
                f"{op}: Expected dimension in the range [{-rank}, {rank}), but got {axis}")
        axis = axis + rank if axis < 0 else axis
        if rank and input.shape[axis] == 0:
            raise InvalidArgumentError(
                f"{op}: Reduction axis {axis} is empty in shape {shape_str(input.shape)}")
        return as_array(np_arg(input, axis=axis if rank else None).astype(output_type.numpy))

    arg_kernel.__name__ = arg_kernel.__qualname__ = f"{op.lower()}_kernel"
    kernel(op)(arg_kernel)


def _argmax_skipping_nan(x: np.ndarray, axis: int | None) -> np.ndarray:
    # TF's reducer never prefers a NaN (comparisons with NaN are false): rank NaN lowest.
    if x.dtype.kind == "f" and np.isnan(x).any():
        x = np.where(np.isnan(x), np.asarray(-np.inf, x.dtype), x)
    return np.argmax(x, axis=axis)


def _argmin_skipping_nan(x: np.ndarray, axis: int | None) -> np.ndarray:
    if x.dtype.kind == "f" and np.isnan(x).any():
        x = np.where(np.isnan(x), np.asarray(np.inf, x.dtype), x)
    return np.argmin(x, axis=axis)


_arg_reduce("ArgMax", _argmax_skipping_nan)
_arg_reduce("ArgMin", _argmin_skipping_nan)


# ------------------------------------------------------------------ scans

def _scan(op: str, np_scan: Callable, identity: int) -> None:
    def scan_kernel(x: np.ndarray, axis: np.ndarray, *, exclusive: bool = False,
                    reverse: bool = False) -> np.ndarray:
        rank = x.ndim
        a = int(axis)
        if not -rank <= a < rank:
            raise InvalidArgumentError(
                f"{op}: ScanOp: Expected scan axis in the range [{-rank}, {rank}), but got {a}")
        a = a + rank if a < 0 else a
        data = np.flip(x, a) if reverse else x
        if exclusive:
            # Shift by one along the axis, the op's identity entering first.
            pad = np.full(x.shape[:a] + (1,) + x.shape[a + 1:], identity, x.dtype)
            data = np.concatenate([pad, data.take(range(x.shape[a] - 1), axis=a)], axis=a) \
                if x.shape[a] else data
        with np.errstate(all="ignore"):
            out = np_scan(data, axis=a, dtype=x.dtype)
        return as_array(np.flip(out, a) if reverse else out)

    scan_kernel.__name__ = scan_kernel.__qualname__ = f"{op.lower()}_kernel"
    kernel(op)(scan_kernel)


_scan("Cumsum", np.cumsum, 0)
_scan("Cumprod", np.cumprod, 1)
