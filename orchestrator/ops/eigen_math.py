"""exp, tanh, sigmoid (float32/float64) and log, log1p (float32) computed the way TF's CPU
kernels do (Eigen, AVX without FMA, as in TF's release builds), so LSTM/GRU cells and
log losses give TF's bits rather than numpy's.

Every step below is one float operation rounded to the input's type (numpy does exactly
that for float32/float64 arrays; no fused multiply-add), in Eigen's order:

* tanh: clamp to +-c, then x + x^3 p(x^2) over q(x^2) with Eigen's rational minimax
  coefficients (degree 9/8 for float32, 19/18 for float64). float32 uses it for every
  element; float64 uses it on whole 4-double packets and the C library's tanh on the
  n % 4 tail, as Eigen's scalar path does.
* exp: on whole packets, x = m ln2 + r (ln2 subtracted in two parts), a polynomial
  (float32) or Cephes' rational function (float64) for exp(r), scaled by 2^m, 0 below
  the underflow bound; the n % P tail uses the C library's exp (correctly rounded here).
* sigmoid (float32): on whole 8-float packets, exp(x/2) from the same kind of range
  reduction and a degree-5 polynomial, scaled by 2^m through the exponent bits, squared,
  then e / (1 + e), 0 below -104; on the n % 8 tail exp(min(x, 16.6355324)) rounded from
  double, then e / (1 + e). float64 sigmoid is e / (1 + e) with e = exp(x) as above, and
  1 where e is inf; half/bfloat16 the same with e = exp rounded to the type and the
  division done in the type.
* log (float32): frexp, the mantissa moved to [sqrt(1/2), sqrt(2)) - 1, a 3/4-term
  rational function, plus e * ln2; log1p is Kahan's x * log(1 + x) / ((1 + x) - 1) on it.
  The tails call the C library's logf/log1pf.

float32 tanh/exp/sigmoid run in eigen_math_f32.py: the same steps as compiled element loops
(RNN cells apply them to tiny tensors, where the number of numpy calls was the cost).

TF's CPU threads also flush denormal results to zero, so exp/sigmoid results below the
smallest normal number are 0. The constants are facts of TF's arithmetic (needed to
reproduce it), written down here.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math

import numpy as np

from orchestrator.ops.eigen_math_f32 import exp_f32, sigmoid_f32, tanh_f32

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
# TF's CPU threads flush denormal results to zero (FTZ): an exp that underflows past the
# smallest normal float gives exactly 0 there.
_F32_TINY = np.float32(np.finfo(np.float32).tiny)
_F64_TINY = np.finfo(np.float64).tiny


def _libm(fn, values: np.ndarray) -> np.ndarray:
    """The C library's function on the few scalar-tail elements (numpy's own vectorised
    float64 exp/tanh differ from it in the last bit for some inputs)."""
    out = np.empty(values.shape, np.float64)
    for i, v in enumerate(values.tolist()):
        try:
            out[i] = fn(v)
        except OverflowError:
            out[i] = math.inf
        except ValueError:            # math.log(-1), math.log1p(-2): the C library's NaN
            out[i] = math.nan
    return out


@functools.lru_cache(maxsize=None)
def _libm_float(name: str):
    """The C library's float function ``name`` (logf, log1pf) via ctypes, or None."""
    path = ctypes.util.find_library("m")
    if path is None:
        return None
    try:
        fn = getattr(ctypes.CDLL(path), name)
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_float
    fn.argtypes = [ctypes.c_float]
    return fn


def _libm_f32(name: str, fallback, values: np.ndarray) -> np.ndarray:
    """float32 ``name`` from the C library on a few tail elements (what Eigen's scalar path
    calls); the correctly rounded double result when libm is not loadable."""
    fn = _libm_float(name)
    if fn is None:
        with np.errstate(all="ignore"):
            return _libm(fallback, values.astype(np.float64)).astype(np.float32)
    return np.array([fn(v) for v in values.tolist()], np.float32)


_TANH_F64_CLAMP = 17.714196154005176
_TANH_F64_NUM = (2.6158007860482230e-23, 7.6534862268749319e-19, 3.1309488231386680e-15,
                 4.2303918148209176e-12, 2.4618379131293676e-09, 6.8644367682497074e-07,
                 9.3839087674268880e-05, 5.9809711724441161e-03, 1.5184719640284322e-01)
_TANH_F64_DEN = (6.463747022670968018e-21, 5.782506856739003571e-17, 1.293019623712687916e-13,
                 1.123643448069621992e-10, 4.492975677839633985e-08, 8.785185266237658698e-06,
                 8.295161192716231542e-04, 3.437448108450402717e-02, 4.851805297361760360e-01, 1.0)


def _horner(x2: np.ndarray, coeffs: tuple[float, ...], dtype: np.dtype) -> np.ndarray:
    """c0*x2^k + ... evaluated as ((c0*x2 + c1)*x2 + c2)... (Eigen's ppolevl), in place."""
    acc = x2 * dtype.type(coeffs[0])
    acc += dtype.type(coeffs[1])
    for c in coeffs[2:]:
        acc *= x2
        acc += dtype.type(c)
    return acc


def _rational_tanh(x: np.ndarray, clamp: float, num: tuple, den: tuple) -> np.ndarray:
    dtype = x.dtype
    c = dtype.type(clamp)
    x = np.clip(x, -c, c)            # NaN stays NaN, as through Eigen's min/max
    x2 = x * x
    x3 = x2 * x
    p = _horner(x2, num, dtype)
    p *= x3
    p += x
    p /= _horner(x2, den, dtype)
    return p


def tanh(x: np.ndarray) -> np.ndarray:
    if x.dtype == _F32:
        return tanh_f32(x)
    if x.dtype == _F64:
        return _packets_and_tail(
            x, 4, lambda v: _rational_tanh(v, _TANH_F64_CLAMP, _TANH_F64_NUM, _TANH_F64_DEN),
            lambda v: _libm(math.tanh, v))
    return np.tanh(x)


_EXPONENT = {  # dtype: (mantissa bits, bias, largest finite biased exponent, int, uint)
    _F32: (23, 127, 254, np.int32, np.uint32),
    _F64: (52, 1023, 2046, np.int64, np.uint64),
}


def _times_power_of_two(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    """y * 2^m for integral m, exact unless it overflows (Eigen's pldexp), by building 2^m
    from its exponent bits (np.ldexp is several times slower). 2^m below the normal range
    becomes 0: those products would be denormal and TF flushes them anyway. A NaN m only
    comes with a NaN y."""
    mantissa, bias, top, int_type, uint_type = _EXPONENT[y.dtype]
    biased = m + y.dtype.type(bias)
    with np.errstate(invalid="ignore"):
        exponent = np.clip(biased, 0, top).astype(int_type)
    scale = (exponent.astype(uint_type) << uint_type(mantissa)).view(y.dtype)
    out = y * scale
    above = biased > top                 # 2^m itself overflows, the product may not
    if above.any():
        out[above] *= np.exp2(biased[above] - top).astype(y.dtype)
    return out


def _flush_denormals(a: np.ndarray, tiny: float) -> None:
    a[np.abs(a) < tiny] = 0


# The ~20 float steps per element run in chunks that keep their temporaries in cache.
_CHUNK = 16384


def _packets_and_tail(x: np.ndarray, packet: int, packet_fn, scalar_fn) -> np.ndarray:
    """``packet_fn`` on the first n - n % packet elements (C order), ``scalar_fn`` on the rest."""
    flat = np.ascontiguousarray(x).reshape(-1)
    whole = flat.size - flat.size % packet
    if whole == flat.size and whole <= _CHUNK:
        return packet_fn(flat).reshape(x.shape)
    out = np.empty(flat.size, x.dtype)
    for start in range(0, whole, _CHUNK):
        stop = min(start + _CHUNK, whole)
        out[start:stop] = packet_fn(flat[start:stop])
    if whole < flat.size:
        out[whole:] = scalar_fn(flat[whole:])
    return out.reshape(x.shape)


def sigmoid(x: np.ndarray) -> np.ndarray:
    if x.dtype == _F32:
        return sigmoid_f32(x)
    if x.dtype == _F64:
        e = exp(x)
    elif x.dtype.kind in "fV" and x.dtype.itemsize == 2:
        # half/bfloat16: exp in float32 rounded to the type, the rest in the type.
        e = exp(x.astype(np.float32)).astype(x.dtype)
    else:
        e = np.exp(x)
    one = x.dtype.type(1)
    return np.where(np.isinf(e), one, e / (one + e))


def _exp_packets_f64(x_in: np.ndarray) -> np.ndarray:
    x = np.minimum(x_in, 709.784)
    fx = 1.4426950408889634073599 * x
    fx += 0.5
    np.floor(fx, out=fx)
    x -= fx * 0.693145751953125
    x -= fx * 1.42860682030941723212e-6
    x2 = x * x
    px = x2 * 1.26177193074810590878e-4
    px += 3.02994407707441961300e-2
    px *= x2
    px += 9.99999999999999999910e-1
    px *= x
    qx = x2 * 3.00198505138664455042e-6
    qx += 2.52448340349684104192e-3
    qx *= x2
    qx += 2.27265548208155028766e-1
    qx *= x2
    qx += 2.00000000000000000009e0
    qx -= px
    px /= qx
    px *= 2.0
    px += 1.0
    with np.errstate(over="ignore"):
        out = _times_power_of_two(px, fx)
    np.fmax(out, x_in, out=out)
    _flush_denormals(out, _F64_TINY)
    out[x_in < -745.519] = 0
    return out


def _exp_scalar_f64(x: np.ndarray) -> np.ndarray:
    e = _libm(math.exp, x)
    _flush_denormals(e, _F64_TINY)
    return e


def exp(x: np.ndarray) -> np.ndarray:
    if x.dtype == _F32:
        return exp_f32(x)
    if x.dtype == _F64:
        return _packets_and_tail(x, 4, _exp_packets_f64, _exp_scalar_f64)
    return np.exp(x)


# ------------------------------------------------------------------ log, log1p (float32)

_LN2_F32 = np.float32(0.693147180559945309417232121458)
_LOG_NUM = (0.18256296349849254, 1.0000000190281063, 1.0000000190281136)
_LOG_DEN = (0.049616247954120038, 0.59923249590823520, 1.4999999999999927, 1.0)


def _log_packets_f32(x_in: np.ndarray) -> np.ndarray:
    """Eigen's plog_float: mantissa in [sqrt(1/2), sqrt(2)) - 1, a 3/4-term rational
    function, plus e * ln2; 0 -> -inf, +inf -> +inf, negative/NaN -> NaN. Denormal inputs
    count as 0 (TF's threads treat denormals as zero)."""
    f = np.float32
    x_daz = np.where(np.abs(x_in) < _F32_TINY, f(0.0), x_in)
    mantissa, exponent = np.frexp(x_daz)
    e = exponent.astype(np.float32)
    below = mantissa < f(0.707106781186547524)
    x = mantissa - f(1.0)
    e -= below.astype(np.float32)
    x += np.where(below, mantissa, f(0.0))
    p = _horner(x, _LOG_NUM, _F32)
    p *= x
    p /= _horner(x, _LOG_DEN, _F32)
    out = e * _LN2_F32
    out += p
    out[x_daz == f(np.inf)] = np.inf
    out[~(x_daz >= f(0.0))] = np.nan             # negative or NaN
    out[x_daz == f(0.0)] = -np.inf
    return out


def _log_scalar_f32(x: np.ndarray) -> np.ndarray:
    # The C library reads the bits itself: no denormals-as-zero here (log(-1e-45) is NaN).
    return _libm_f32("logf", math.log, x)


def _log1p_packets_f32(x: np.ndarray) -> np.ndarray:
    """Kahan's log1p on top of the float log: x * log(1 + x) / ((1 + x) - 1)."""
    f = np.float32
    xp1 = x + f(1.0)
    log1 = _log_packets_f32(xp1)
    use_x = (xp1 == f(1.0)) | (xp1 == log1)
    large = x * (log1 / (xp1 - f(1.0)))
    out = np.where(use_x, x, large)
    _flush_denormals(out, _F32_TINY)          # a denormal x comes back as 0 in TF
    return out


def _log1p_scalar_f32(x: np.ndarray) -> np.ndarray:
    return _libm_f32("log1pf", math.log1p, x)


def log(x: np.ndarray) -> np.ndarray:
    if x.dtype == _F32:
        with np.errstate(all="ignore"):
            return _packets_and_tail(x, 8, _log_packets_f32, _log_scalar_f32)
    return np.log(x)


def log1p(x: np.ndarray) -> np.ndarray:
    if x.dtype == _F32:
        with np.errstate(all="ignore"):
            return _packets_and_tail(x, 8, _log1p_packets_f32, _log1p_scalar_f32)
    return np.log1p(x)
