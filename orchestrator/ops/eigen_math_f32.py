"""float32 tanh, sigmoid and exp with TF's bits (Eigen's AVX packet formulas, see
eigen_math.py for what each computes), at close to numpy's own cost.

The steps and their rounding are those of eigen_math's description; what differs is only
how numpy is driven, because RNN cells call these on tiny tensors (a 4x5 gate) where the
cost is the number of numpy calls, not the arithmetic:

* every constant is a 0-d float32 array (a ufunc resolves those faster than scalars);
* the intermediate arrays are reused through ``out=`` instead of allocated per step;
* 2^m is built from its exponent bits with one add and one shift: for an integral float
  m, m + (2^23 + 127) is exact and its low mantissa bits hold m + 127, which the shift by
  23 moves into the exponent field (the 2^23 exponent bits fall off the top);
* exp's y * 2^m is done as (y * 2^(m//2)) * 2^(m - m//2): the first product is exact, so the
  result is the same single rounding, and neither factor leaves the normal range (no
  clip, no overflow special case);
* inputs are clamped below where every result is 0 anyway (-104), so the cut-off and the
  flush of denormal results become one comparison on the (non-negative) result;
* the packet formula runs over the whole array; the last n % 8 elements get the scalar
  path's exp (libm) in place of the polynomial's before the steps both paths share.
"""
from __future__ import annotations

import math

import numpy as np

_F32 = np.float32


def _min_then_max(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    out = np.minimum(x, high)
    np.maximum(out, low, out=out)
    return out


# _clamped(x, low, high): min(max(x, low), high) as a new array, NaN staying NaN (as through
# Eigen's min/max). The ufunc behind np.clip does it in one call (np.clip's Python wrapper
# costs ~10 us); the two-call version where numpy does not expose it.
try:
    from numpy._core.umath import clip as _clamped
except ImportError:  # pragma: no cover - other numpy layouts
    _clamped = _min_then_max


# The ufuncs called positionally with the output as third argument: ``p *= r`` or an
# ``out=`` keyword costs ~0.3 us more per call, which is a third of a call on a gate-sized
# array (an RNN step runs ~50 of these per gate pair).
_mul, _add, _sub, _div, _floor, _shift = (np.multiply, np.add, np.subtract, np.divide, np.floor,
                                          np.left_shift)


def _c(value: float) -> np.ndarray:
    return np.array(value, _F32)


_ONE = _c(1.0)
_HALF = _c(0.5)
_TINY = _c(np.finfo(np.float32).tiny)      # TF flushes results below it to 0
_LOW = _c(-104.0)                            # exp/sigmoid give 0 below it
_LOG2E = _c(1.44269504088896341)
_LN2_HI = _c(-0.693359375)                   # ln 2 subtracted in two parts
_LN2_LO = _c(2.12194440e-4)
_POW2_MAGIC = _c(8388608.0 + 127.0)          # 2^23 + the exponent bias
_MANTISSA_BITS = np.array(23, np.uint32)
_PACKET = 8
# The ~25 float steps per element run in chunks that keep their temporaries in cache.
_CHUNK = 16384

_TANH_CLAMP = _c(7.90738964080810547)
_TANH_NUM = tuple(_c(v) for v in (1.394553628e-8, 2.102733560e-5, 3.520756727e-3, 1.340216100e-1))
_TANH_DEN = tuple(_c(v) for v in (8.015776984e-7, 3.326951409e-4, 2.597254514e-2, 4.673548340e-1, 1.0))
_NEG_TANH_CLAMP = -_TANH_CLAMP

_SIGMOID_HIGH = _c(16.6355324)
_SIGMOID_P = tuple(_c(v) for v in (4.1898667812347412109375e-2, 0.49999141693115234375,
                                   8.33471305668354034423828125e-3, 0.16666877269744873046875))
_EXP_HIGH = _c(88.723)
_EXP_P = tuple(_c(v) for v in (1.37449637986719608306884765625e-3, 4.166965186595916748046875e-2,
                               0.49999988079071044921875, 8.36894474923610687255859375e-3,
                               0.16666518151760101318359375))


def _power_of_two_in_place(m: np.ndarray) -> np.ndarray:
    """Turn integral float32 m (normal range for 2^m: -126 <= m <= 127, or NaN) into 2^m.
    A NaN m gives 0, but m is NaN only where the value it scales is NaN too."""
    m += _POW2_MAGIC
    bits = m.view(np.uint32)
    np.left_shift(bits, _MANTISSA_BITS, out=bits)
    return m


def _tanh_packets(x_in: np.ndarray) -> np.ndarray:
    x = _clamped(x_in, _NEG_TANH_CLAMP, _TANH_CLAMP)
    x2 = _mul(x, x)
    x3 = _mul(x2, x)
    # Eigen's ppolevl (multiply, then add) for numerator and denominator, written out in
    # one frame (the numerator's buffer is its first product): RNN cells run this per gate.
    n0, n1, n2, n3 = _TANH_NUM
    p = _mul(x2, n0)
    _add(p, n1, p)
    _mul(p, x2, p)
    _add(p, n2, p)
    _mul(p, x2, p)
    _add(p, n3, p)
    _mul(p, x3, p)
    _add(p, x, p)
    d0, d1, d2, d3, d4 = _TANH_DEN
    q = _mul(x2, d0, x3)                          # x3 is not needed any more
    _add(q, d1, q)
    _mul(q, x2, q)
    _add(q, d2, q)
    _mul(q, x2, q)
    _add(q, d3, q)
    _mul(q, x2, q)
    _add(q, d4, q)
    return _div(p, q, p)


def _exp_reduce(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x = m ln2 + r: (m, r) with m = floor(x log2(e) + 1/2); x is overwritten."""
    m = x * _LOG2E
    m += _HALF
    np.floor(m, out=m)
    r = m * _LN2_HI
    r += x
    np.multiply(m, _LN2_LO, out=x)
    r += x
    return m, r


def _libm_exps(x: np.ndarray, tail: int, high: float) -> np.ndarray:
    """Eigen's scalar path for the last ``tail`` elements: the C library's expf of
    min(x, high), i.e. the correctly rounded double exp rounded to float."""
    return np.array([_exp_double(min(v, high)) for v in x[x.size - tail:].tolist()], _F32)


# Doubles from here up round to float32 infinity (FLT_MAX + half an ulp).
_ROUNDS_TO_F32_INF = 2.0 ** 128 - 2.0 ** 103


def _exp_double(v: float) -> float:
    # 709 keeps math.exp from raising; infinity given here spares numpy's cast warning.
    e = math.exp(min(v, 709.0))
    return math.inf if e >= _ROUNDS_TO_F32_INF else e


def _sigmoid(x_in: np.ndarray, tail: int) -> np.ndarray:
    """e = exp(x/2)^2 (degree-5 polynomial after range reduction) on the packets, libm's
    exp on the last ``tail`` elements; then e / (1 + e) for all of them. Results below
    the smallest normal float are flushed at the end: e / (1 + e) is below it exactly
    when e is (then 1 + e == 1)."""
    x = _clamped(x_in, _LOW, _SIGMOID_HIGH)
    _mul(x, _HALF, x)
    # _exp_reduce and _power_of_two_in_place written out: one Python frame less each
    # (this runs for every gate of every RNN step).
    m = _mul(x, _LOG2E)
    _add(m, _HALF, m)
    _floor(m, m)
    r = _mul(m, _LN2_HI)
    _add(r, x, r)
    _mul(m, _LN2_LO, x)
    _add(r, x, r)
    r2 = _mul(r, r)
    p_even = _mul(r2, _SIGMOID_P[0])
    _add(p_even, _SIGMOID_P[1], p_even)
    p = _mul(r2, _SIGMOID_P[2], x)
    _add(p, _SIGMOID_P[3], p)
    _mul(p, r, p)
    _add(p, p_even, p)
    _mul(p, r2, p)
    _add(r, _ONE, r)
    _add(p, r, p)
    _add(m, _POW2_MAGIC, m)                       # m in [-75, 12]: 2^m is normal
    bits = m.view(np.uint32)
    _shift(bits, _MANTISSA_BITS, bits)
    _mul(p, m, p)
    _mul(p, p, p)
    if tail:                                      # libm's exp of min(x, 16.63...) cannot overflow
        # (np.minimum is min() per element, NaN included; map spares a Python frame each)
        # python floats assigned into the float32 slice round as np.array(..., float32) would
        p[p.size - tail:] = list(map(math.exp, np.minimum(x_in[x_in.size - tail:], _SIGMOID_HIGH).tolist()))
    _div(p, _add(p, _ONE, r2), p)
    p[p < _TINY] = 0                              # also every x < -104 (NaN compares false)
    return p


def _exp(x_in: np.ndarray, tail: int) -> np.ndarray:
    x = _clamped(x_in, _LOW, _EXP_HIGH)
    m, r = _exp_reduce(x)
    r2 = r * r
    p_even = r2 * _EXP_P[0]
    p_even += _EXP_P[1]
    p_even *= r2
    p_even += _EXP_P[2]
    y = np.multiply(r2, _EXP_P[3], out=x)
    y += _EXP_P[4]
    y *= r
    y += p_even
    y *= r2
    r += _ONE
    y += r
    # m in [-150, 128]: both halves of it are normal exponents; the first product is exact.
    half = np.multiply(m, _HALF, out=r2)
    np.floor(half, out=half)
    m -= half
    y *= _power_of_two_in_place(half)
    with np.errstate(over="ignore"):
        y *= _power_of_two_in_place(m)
    if tail:                                      # libm's exp x is above x: fmax keeps it
        y[y.size - tail:] = _libm_exps(x_in, tail, math.inf)
    np.fmax(y, x_in, out=y)                       # +inf in, +inf out
    y[y < _TINY] = 0                              # denormals flushed; x < -104 gives 0
    return y


def _tanh(x_in: np.ndarray, tail: int) -> np.ndarray:
    return _tanh_packets(x_in)                    # one formula for every element


def _run(x: np.ndarray, fn) -> np.ndarray:
    """``fn(chunk, tail)`` over x in C order, in chunks; ``tail``: how many of the chunk's
    last elements are the n % 8 that Eigen computes one by one."""
    flat = np.ascontiguousarray(x).reshape(-1)
    n = flat.size
    if n <= _CHUNK:
        return fn(flat, n % _PACKET).reshape(x.shape)
    out = np.empty(n, _F32)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        out[start:stop] = fn(flat[start:stop], n % _PACKET if stop == n else 0)
    return out.reshape(x.shape)


def tanh_f32(x: np.ndarray) -> np.ndarray:
    if x.size <= _CHUNK:                          # _run's small case, two frames less
        return _tanh_packets(np.ascontiguousarray(x).reshape(-1)).reshape(x.shape)
    return _run(x, _tanh)


def sigmoid_f32(x: np.ndarray) -> np.ndarray:
    if x.size <= _CHUNK:                          # _run's small case, one frame less
        flat = np.ascontiguousarray(x).reshape(-1)
        return _sigmoid(flat, flat.size % _PACKET).reshape(x.shape)
    return _run(x, _sigmoid)


def exp_f32(x: np.ndarray) -> np.ndarray:
    return _run(x, _exp)
