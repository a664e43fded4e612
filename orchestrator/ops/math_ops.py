"""Elementwise math kernels: binary arithmetic with broadcasting, unary functions and the
``*Grad`` helpers TF's gradients of those functions emit.

Numeric conventions kept from TF's CPU kernels (checked against tests/fixtures/ops/math.*):

* outputs keep the input dtype exactly: float16/bfloat16 are computed the way Eigen does
  for them (each op in float32, rounded once to the narrow type);
* integer ``Div``/``TruncateDiv``/``TruncateMod``/``Mod`` truncate towards zero like C++,
  ``FloorDiv``/``FloorMod`` round towards -inf; an integer division by zero is an error;
* float ``FloorDiv`` is ``floor(x / y)`` (numpy's ``//`` is divmod-based: 1 // 0.1 == 9,
  TF gives 10), float ``FloorMod`` is C ``fmod`` moved onto the divisor's sign;
* ``Maximum``/``Minimum`` propagate NaN.

Comparison, select, cast and accumulation kernels live in ``logic_ops.py``.
"""
from __future__ import annotations

import os
from collections.abc import Callable

import ml_dtypes
import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops import eigen_math, eigen_math_f32
from orchestrator.ops.jit import lazy_njit
from orchestrator.ops.math_special import erf, erfc
from orchestrator.ops.registry import kernel

# float16/bfloat16: computed in float32 where Eigen does so. A set of dtypes, because
# ``dtype.name`` costs microseconds per call and kernels run thousands of times a step.
NARROW_FLOATS = frozenset({np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)})


def as_array(value: object) -> np.ndarray:
    """Ufuncs on 0-d arrays give numpy scalars; the executor expects ndarrays."""
    return value if type(value) is np.ndarray else np.asarray(value)


def shape_str(shape: tuple[int, ...]) -> str:
    """A shape the way TF prints it: ``[2,3]``."""
    return "[" + ",".join(str(d) for d in shape) + "]"


def incompatible(op: str, x: np.ndarray, y: np.ndarray) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"{op}: Incompatible shapes: {shape_str(np.shape(x))} vs. {shape_str(np.shape(y))}")


def _is_int(a: np.ndarray) -> bool:
    return a.dtype.kind in "iu"


def _check_nonzero_divisor(op: str, y: np.ndarray) -> None:
    if not np.all(y):
        raise InvalidArgumentError(f"{op}: Integer division by zero (the divisor y has zero elements)")


def _register_binary(op: str, compute: Callable[[np.ndarray, np.ndarray], np.ndarray],
                     int_check: Callable[[str, np.ndarray, np.ndarray], None] | None = None,
                     quiet: bool = True) -> None:
    kernel(op)(_binary_kernel(op, compute, int_check, quiet))


def _binary_kernel(op: str, compute: Callable[[np.ndarray, np.ndarray], np.ndarray],
                   int_check: Callable[[str, np.ndarray, np.ndarray], None] | None = None,
                   quiet: bool = True) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The kernel of ``op(x, y)``: broadcasting errors name the op. ``quiet`` silences numpy's
    float warnings (inf/NaN are results, as in TF) for ops where they are routine (x/0,
    log 0); it costs a few microseconds, so add/mul/max skip it."""

    def plain_binary_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # Add/Mul/...: no integer check, no errstate (RNN steps run ~80 of these).
        try:
            out = compute(x, y)
        except ValueError as err:
            if np.shape(x) != np.shape(y) and "broadcast" in str(err):
                raise incompatible(op, x, y) from None
            raise
        return out if type(out) is np.ndarray else np.asarray(out)

    def binary_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if int_check is not None and _is_int(x):
            int_check(op, x, y)
        try:
            if not quiet:
                return as_array(compute(x, y))
            with np.errstate(all="ignore"):
                return as_array(compute(x, y))
        except ValueError as err:
            if np.shape(x) != np.shape(y) and "broadcast" in str(err):
                raise incompatible(op, x, y) from None
            raise

    chosen = plain_binary_kernel if int_check is None and not quiet else binary_kernel
    chosen.__name__ = chosen.__qualname__ = f"{op.lower()}_kernel"
    return chosen


# ------------------------------------------------------------------ division family

def _trunc_div(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if _is_int(x):
        # Exact integer quotient rounded towards zero: remove C's remainder first.
        return (x - np.fmod(x, y)) // y
    return np.trunc(x / y)


def _true_div(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return _trunc_div(x, y) if _is_int(x) else np.divide(x, y)


def _floor_div(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.floor_divide(x, y) if _is_int(x) else np.floor(np.divide(x, y))


def _floor_mod(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if _is_int(x):
        return np.mod(x, y)
    rem = np.fmod(x, y)
    # C fmod keeps the dividend's sign; TF moves a nonzero remainder onto the divisor's.
    return np.where((rem != 0) & ((y < 0) != (rem < 0)), rem + y, rem)


def _div_no_nan(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(y == 0, np.zeros((), x.dtype), np.divide(x, y))


def _xdivy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(x == 0, np.zeros((), x.dtype), np.divide(x, y))


def _on_output_grid(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """fn(y) evaluated over the broadcast output (Eigen computes it element by element of
    the output, which fixes which elements take its vectorised path)."""
    shape = np.broadcast_shapes(x.shape, y.shape)
    return _unary_float(fn, np.broadcast_to(y, shape))


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(x == 0, np.zeros((), x.dtype), np.multiply(x, _on_output_grid(_LOG, x, y)))


def _mul_no_nan(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(y == 0, np.zeros((), x.dtype), np.multiply(x, y))


def _xlog1py(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(x == 0, np.zeros((), x.dtype), np.multiply(x, _on_output_grid(_LOG1P, x, y)))


def _pow(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if _is_int(y) and np.any(y < 0):
        raise InvalidArgumentError("Pow: Integers to negative integer powers are not allowed "
                                   f"(exponent y has {int(np.sum(y < 0))} negative elements)")
    return np.power(x, y)


def _squared_difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    diff = np.subtract(x, y)
    return np.multiply(diff, diff)


def _nonzero_int_divisor(op: str, x: np.ndarray, y: np.ndarray) -> None:
    _check_nonzero_divisor(op, y)


for _op, _fn in {"Add": np.add, "AddV2": np.add, "Sub": np.subtract, "Mul": np.multiply,
                 "Maximum": np.maximum, "Minimum": np.minimum,
                 "SquaredDifference": _squared_difference}.items():
    _register_binary(_op, _fn, quiet=False)
for _op, _fn in {"Atan2": np.arctan2, "Xdivy": _xdivy, "Xlogy": _xlogy, "Xlog1py": _xlog1py,
                 "MulNoNan": _mul_no_nan, "Pow": _pow}.items():
    _register_binary(_op, _fn)
for _op, _fn in {"Div": _true_div, "TruncateDiv": _trunc_div, "TruncateMod": np.fmod,
                 "Mod": np.fmod}.items():
    _register_binary(_op, _fn, int_check=_nonzero_int_divisor)


def _register_floor_division(op: str, compute: Callable[[np.ndarray, np.ndarray], np.ndarray],
                             int_ufunc: np.ufunc) -> None:
    """Integer tensors by one integer of their type (ids split over partitions: ``ids // n``,
    ``ids % n``) skip the zero check and np.errstate (~10 us of an ~11 us call): a divisor
    other than 0 and -1 can neither fail nor overflow. Anything else takes the checked kernel."""
    checked = _binary_kernel(op, compute, int_check=_nonzero_int_divisor)

    def floor_division_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if (type(x) is np.ndarray and type(y) is np.ndarray and not y.ndim and x.dtype is y.dtype
                and x.dtype.kind in "iu"):
            divisor = y.item()
            if divisor > 0 or divisor < -1:
                return as_array(int_ufunc(x, y))
        return checked(x, y)

    floor_division_kernel.__name__ = floor_division_kernel.__qualname__ = f"{op.lower()}_kernel"
    kernel(op)(floor_division_kernel)


_register_floor_division("FloorDiv", _floor_div, np.floor_divide)
_register_floor_division("FloorMod", _floor_mod, np.mod)

_SCALAR_DIVISION_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
_FLOAT32_MAX = float(np.finfo(np.float32).max)
# The loop saves np.errstate's ~4 us; numpy's vectorised divide is ~2x faster per
# element (1M float32: 263 vs 554 us), so beyond ~10K elements numpy wins again.
_LOOP_DIVISION_MAX = 8192
_INFINITY = float("inf")


@lazy_njit
def _divide_by_scalar(x, divisor, out):
    """out = x / divisor element by element: the IEEE quotients numpy's divide gives, with
    no floating-point warnings to silence."""
    flat, quotients = x.reshape(-1), out.reshape(-1)
    for i in range(flat.size):
        quotients[i] = flat[i] / divisor


def _register_scalar_division(op: str, compute: Callable[[np.ndarray, np.ndarray], np.ndarray],
                              zero_divisor: float | None) -> None:
    """Float32/float64 tensors by a scalar of their type (losses and metrics: sum / count;
    normalisations: x / n) without np.errstate (~4-9 us of a 7-11 us call). A scalar by a
    scalar is one Python float division: a double quotient of two floats rounds to the
    same float as the float division does (the double has more than 2 * 24 + 2 bits, so
    its rounding never decides the float's); a float32 quotient beyond float32's range
    goes the checked way. A small tensor by a nonzero scalar is one compiled loop. A zero
    divisor gives ``zero_divisor`` everywhere, or (None) takes the checked kernel, as does
    any other shape, layout or dtype."""
    checked = _binary_kernel(op, compute)

    def scalar_division_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if (type(x) is np.ndarray and type(y) is np.ndarray and not y.ndim and x.dtype is y.dtype
                and x.dtype in _SCALAR_DIVISION_DTYPES):
            divisor = y.item()
            if divisor == 0:
                if zero_divisor is not None:
                    return np.full(x.shape, zero_divisor, x.dtype)
            elif not x.ndim:
                quotient = x.item() / divisor
                if x.dtype.itemsize == 8 or not _FLOAT32_MAX < abs(quotient) < _INFINITY:
                    return np.asarray(quotient, x.dtype)
            elif x.size <= _LOOP_DIVISION_MAX and x.flags.c_contiguous:
                out = np.empty(x.shape, x.dtype)
                _divide_by_scalar(x, y[()], out)
                return out
        return checked(x, y)

    scalar_division_kernel.__name__ = scalar_division_kernel.__qualname__ = f"{op.lower()}_kernel"
    kernel(op)(scalar_division_kernel)


_register_scalar_division("RealDiv", np.divide, None)
_register_scalar_division("DivNoNan", _div_no_nan, 0.0)


# ------------------------------------------------------------------ unary

def _unary_float(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """``fn`` in x's float type; half/bfloat16 go through float32 and round once, as Eigen does."""
    if x.dtype in NARROW_FLOATS:
        return fn(x.astype(np.float32)).astype(x.dtype)
    return fn(x)


def _register_unary(op: str, fn: Callable[[np.ndarray], np.ndarray], widen: bool | None = True,
                    float32_fn: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
    """``widen``: a float function (computed via float32 for half/bfloat16, warnings
    silenced: exp overflow, log 0 are routine); False: exact and warning-free; None: a
    float function that handles half/bfloat16 itself. ``float32_fn``: the function for
    float32 input, called directly (it raises no float warnings itself; np.errstate costs
    microseconds per call, a lot next to an RNN gate's sigmoid)."""
    def unary_kernel(x: np.ndarray) -> np.ndarray:
        if float32_fn is not None and x.dtype == _FLOAT32:
            return float32_fn(x)
        if widen is False:
            return as_array(fn(x))
        with np.errstate(all="ignore"):
            return as_array(_unary_float(fn, x) if widen else fn(x))

    unary_kernel.__name__ = unary_kernel.__qualname__ = f"{op.lower()}_kernel"
    kernel(op)(unary_kernel)


def _sign(x: np.ndarray) -> np.ndarray:
    return np.sign(x)


def _round_half_even(x: np.ndarray) -> np.ndarray:
    if _is_int(x):
        # TF 2.21's CPU Round kernel answers 0 for every integer element (checked in the op
        # table). tf.round() never emits Round for integers (it returns them unchanged), so
        # only raw-op graphs see this; we give what TF's kernel gives.
        return np.zeros_like(x)
    return np.rint(x)


def _reciprocal(x: np.ndarray) -> np.ndarray:
    return _trunc_div(np.ones((), x.dtype), x) if _is_int(x) else np.reciprocal(x)


def _rsqrt(x: np.ndarray) -> np.ndarray:
    return np.reciprocal(np.sqrt(x))


# Exp/Tanh/Sigmoid (float32/64) and Log/Log1p (float32) follow Eigen's algorithms step by
# step (eigen_math.py) and give TF's bits, at ~1.5-3x numpy's cost for float32 exp/tanh/
# sigmoid (~10x for log). ORCH_FAST_MATH=1 trades that for numpy's versions (within 2-4 ulps
# of TF).
FAST_MATH = os.environ.get("ORCH_FAST_MATH") == "1"


_LOG = np.log if FAST_MATH else eigen_math.log
_LOG1P = np.log1p if FAST_MATH else eigen_math.log1p


def _numpy_sigmoid(x: np.ndarray) -> np.ndarray:
    one = x.dtype.type(1)
    return one / (one + np.exp(np.negative(x)))


_UNARY: dict[str, tuple[Callable[[np.ndarray], np.ndarray], bool | None]] = {
    # op: (function, compute narrow floats in float32 / exact / handles them itself)
    "Neg": (np.negative, False), "Abs": (np.abs, False), "Sign": (_sign, False),
    "Square": (np.square, False), "Floor": (np.floor, False), "Ceil": (np.ceil, False),
    "Round": (_round_half_even, False), "Rint": (np.rint, False),
    "IsFinite": (np.isfinite, False), "IsNan": (np.isnan, False), "IsInf": (np.isinf, False),
    "Exp": (np.exp, True) if FAST_MATH else (eigen_math.exp, True),
    "Tanh": (np.tanh, True) if FAST_MATH else (eigen_math.tanh, True),
    "Sigmoid": (_numpy_sigmoid, True) if FAST_MATH else (eigen_math.sigmoid, None),
    "Log": (_LOG, True), "Log1p": (_LOG1P, True),
    "Expm1": (np.expm1, True),
    "Sqrt": (np.sqrt, True), "Rsqrt": (_rsqrt, True),
    "Reciprocal": (_reciprocal, True), "Inv": (_reciprocal, True),
    "Sin": (np.sin, True), "Cos": (np.cos, True), "Tan": (np.tan, True),
    "Asin": (np.arcsin, True), "Acos": (np.arccos, True), "Atan": (np.arctan, True),
    "Sinh": (np.sinh, True), "Cosh": (np.cosh, True), "Asinh": (np.arcsinh, True),
    "Acosh": (np.arccosh, True), "Atanh": (np.arctanh, True),
    "Erf": (erf, True), "Erfc": (erfc, True),
}
_FLOAT32 = np.dtype(np.float32)
# Exact float32 versions that silence their own warnings where they can arise.
_FLOAT32_FNS = {} if FAST_MATH else {
    "Exp": eigen_math_f32.exp_f32, "Tanh": eigen_math_f32.tanh_f32, "Sigmoid": eigen_math_f32.sigmoid_f32}
for _op, (_fn, _widen) in _UNARY.items():
    _register_unary(_op, _fn, _widen, _FLOAT32_FNS.get(_op))


@kernel("LogicalNot")
def logical_not(x: np.ndarray) -> np.ndarray:
    return as_array(np.logical_not(x))


# ------------------------------------------------------------------ gradient helpers
# Each takes (y, dy) where y is the forward op's *output*. TF's CPU kernels evaluate them
# with Eigen packets (8 floats / 4 doubles / 8 halfs at a time) and the leftover tail of
# n % packet elements with a scalar formula whose operations are ordered differently; we
# reproduce both so results match TF bit for bit. Where dy == 0 the Sqrt/Rsqrt/Reciprocal
# gradients are 0 even for y == 0 or inf (Eigen's mul_no_nan).


def _register_grad(op: str, packet_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
                   scalar_fn: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                   zero_where_dy_is_zero: bool = False) -> None:
    def grad_kernel(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
        if y.shape != dy.shape:
            raise InvalidArgumentError(f"{op}: y and dy must have the same shape, found "
                                       f"{shape_str(y.shape)} and {shape_str(dy.shape)}")
        if not zero_where_dy_is_zero:     # products of finite values: no warnings to silence
            return _packets_and_tail(y, dy, packet_fn, scalar_fn)
        with np.errstate(all="ignore"):
            out = _packets_and_tail(y, dy, packet_fn, scalar_fn)
        out[dy == 0] = 0
        return out

    grad_kernel.__name__ = grad_kernel.__qualname__ = f"{op.lower()}_kernel"
    kernel(op)(grad_kernel)


def _packets_and_tail(y: np.ndarray, dy: np.ndarray, packet_fn: Callable, scalar_fn: Callable | None) -> np.ndarray:
    out = as_array(packet_fn(y, dy))
    if scalar_fn is None:                  # one formula for every element (TanhGrad)
        return out
    tail = y.size % (4 if y.dtype.itemsize == 8 else 8)
    if tail:
        if not out.flags.c_contiguous:     # numpy keeps F order of F-ordered inputs
            out = out.copy(order="C")
        flat = out.reshape(-1)             # a view: the tail is written into ``out``
        flat[-tail:] = scalar_fn(y.reshape(-1)[-tail:], dy.reshape(-1)[-tail:])
    return out


_CONSTANTS: dict[tuple[float, np.dtype], np.ndarray] = {}


def _const(value: float, like: np.ndarray) -> np.ndarray:
    """``value`` as a read-only 0-d array of like's dtype, made once per (value, dtype)."""
    key = (value, like.dtype)
    found = _CONSTANTS.get(key)
    if found is None:
        found = _CONSTANTS[key] = np.asarray(value, like.dtype)
        found.flags.writeable = False
    return found


# Gate-sized arrays: ufuncs called with the output as third positional argument (an
# in-place operator or out= keyword costs ~0.3 us more per call).
_multiply, _subtract = np.multiply, np.subtract


def _tanh_grad(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dy * (1 - y*y), in one buffer (products commute bit for bit; RNN cells run it per step)."""
    out = as_array(_multiply(y, y))        # 0-d input: a writable 0-d array, not a scalar
    _subtract(_const(1, y), out, out)
    return _multiply(out, dy, out)


def _sigmoid_grad(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dy * (y * (1 - y)), in one buffer."""
    out = as_array(_subtract(_const(1, y), y))
    _multiply(out, y, out)
    return _multiply(out, dy, out)


def _sigmoid_grad_scalar(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Eigen's scalar path (the last n % packet elements): (dy * y) * (1 - y)."""
    out = _multiply(dy, y)
    return _multiply(out, _subtract(_const(1, y), y), out)


_register_grad("TanhGrad", _tanh_grad)


def _sigmoid_grad_kernel(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """float32 C-contiguous inputs (LSTM backprop runs it on every gate of every step) in one
    compiled loop, anything else through _packets_and_tail; the same steps either way."""
    if y.shape != dy.shape:
        raise InvalidArgumentError(f"SigmoidGrad: y and dy must have the same shape, found "
                                   f"{shape_str(y.shape)} and {shape_str(dy.shape)}")
    if y.dtype is _FLOAT32 and dy.dtype is _FLOAT32 and y.flags.c_contiguous and dy.flags.c_contiguous:
        return eigen_math_f32.sigmoid_grad_f32(y, dy)
    return _packets_and_tail(y, dy, _sigmoid_grad, _sigmoid_grad_scalar)


kernel("SigmoidGrad")(_sigmoid_grad_kernel)
_register_grad("SqrtGrad", lambda y, dy: (_const(0.5, y) / y) * dy,
               lambda y, dy: _const(0.5, y) * dy / y, zero_where_dy_is_zero=True)
_register_grad("RsqrtGrad", lambda y, dy: (_const(-0.5, y) * (y * y)) * (y * dy),
               lambda y, dy: _const(-0.5, y) * (dy * y) * (y * y), zero_where_dy_is_zero=True)
_register_grad("ReciprocalGrad", lambda y, dy: -(y * y) * dy, zero_where_dy_is_zero=True)
_register_grad("InvGrad", lambda y, dy: -(y * y) * dy, zero_where_dy_is_zero=True)
