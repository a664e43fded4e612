"""float32 tanh, sigmoid and exp with TF's bits (Eigen's AVX packet formulas, see
eigen_math.py for what each computes), as compiled element loops (ops/jit.py).

RNN cells call these on tiny tensors (a 4x5 gate) where a numpy formulation costs ~25
calls; here each is one call. Every line of a loop body is the float32 step Eigen takes,
in Eigen's order; the constants are float32, so numba keeps every step in float32.

* Eigen computes whole 8-float packets with the packet formula and the last n % 8
  elements (C order) with its scalar path, the C library's expf, which is the correctly
  rounded double exp rounded to float; the loops split the array the same way.
* 2^m is built from its exponent bits ((m + 127) << 23, viewed as float32), written to a
  scratch array by the first loop and applied by the second, which keeps both loops free
  of branches and calls so that LLVM vectorises them.
* exp's y * 2^m is done as (y * 2^(m//2)) * 2^(m - m//2): the first product is exact, so
  the result is the same single rounding, and neither factor leaves the normal range.
* Inputs are clamped below where every result is 0 anyway (-104), and results below the
  smallest normal float are flushed to 0, as TF's CPU threads do (FTZ).
* NaN compares false everywhere, so a NaN input stays NaN through clamps and flushes.
"""
from __future__ import annotations

import math

import numpy as np

from orchestrator.ops.jit import lazy_njit

_F32 = np.float32

_ONE = _F32(1.0)
_ZERO = _F32(0.0)
_HALF = _F32(0.5)
_TINY = _F32(np.finfo(np.float32).tiny)      # TF flushes results below it to 0
_LOW = _F32(-104.0)                            # exp/sigmoid give 0 below it
_LOG2E = _F32(1.44269504088896341)
_LN2_HI = _F32(-0.693359375)                   # ln 2 subtracted in two parts
_LN2_LO = _F32(2.12194440e-4)
_PACKET = 8

_TANH_CLAMP = _F32(7.90738964080810547)
_NEG_TANH_CLAMP = -_TANH_CLAMP
_TN0, _TN1, _TN2, _TN3 = (_F32(v) for v in (1.394553628e-8, 2.102733560e-5, 3.520756727e-3, 1.340216100e-1))
_TD0, _TD1, _TD2, _TD3, _TD4 = (_F32(v) for v in (8.015776984e-7, 3.326951409e-4, 2.597254514e-2,
                                                  4.673548340e-1, 1.0))

_SIGMOID_HIGH = _F32(16.6355324)
_SP0, _SP1, _SP2, _SP3 = (_F32(v) for v in (4.1898667812347412109375e-2, 0.49999141693115234375,
                                            8.33471305668354034423828125e-3, 0.16666877269744873046875))
_EXP_HIGH = _F32(88.723)
_EP0, _EP1, _EP2, _EP3, _EP4 = (_F32(v) for v in (1.37449637986719608306884765625e-3,
                                                  4.166965186595916748046875e-2,
                                                  0.49999988079071044921875,
                                                  8.36894474923610687255859375e-3,
                                                  0.16666518151760101318359375))
# Doubles from here up round to float32 infinity (FLT_MAX + half an ulp).
_ROUNDS_TO_F32_INF = 2.0 ** 128 - 2.0 ** 103


@lazy_njit
def _tanh_loop(x_in: np.ndarray, out: np.ndarray) -> None:
    # One formula for every element: Eigen's scalar tanh is the packet formula too.
    for i in range(x_in.size):
        x = min(max(x_in[i], _NEG_TANH_CLAMP), _TANH_CLAMP)
        x2 = x * x
        x3 = x2 * x
        p = x2 * _TN0 + _TN1                     # Eigen's ppolevl: multiply, then add
        p = p * x2 + _TN2
        p = p * x2 + _TN3
        p = p * x3 + x
        q = x2 * _TD0 + _TD1
        q = q * x2 + _TD2
        q = q * x2 + _TD3
        q = q * x2 + _TD4
        out[i] = p / q


@lazy_njit
def _sigmoid_loop(x_in: np.ndarray, out: np.ndarray) -> None:
    """Packets: e = exp(x/2)^2 (degree-5 polynomial after range reduction); the n % 8
    tail: the C library's exp of min(x, 16.63...); then e / (1 + e) for all."""
    n = x_in.size
    packets = n - n % _PACKET
    exponent_bits = np.empty(packets, np.uint32)
    scale = exponent_bits.view(np.float32)
    for i in range(packets):
        x = min(max(x_in[i], _LOW), _SIGMOID_HIGH) * _HALF
        m = np.floor(x * _LOG2E + _HALF)         # m in [-75, 12]: 2^m is normal
        r = m * _LN2_HI + x
        r = r + m * _LN2_LO
        r2 = r * r
        p_even = r2 * _SP0 + _SP1
        p = r2 * _SP2 + _SP3
        p = p * r + p_even
        p = p * r2
        out[i] = p + (r + _ONE)
        m = m if m == m else _ZERO               # NaN (from a NaN x, whose p is NaN): any scale
        exponent_bits[i] = np.uint32(np.int32(m) + 127) << 23
    for i in range(packets):
        e = out[i] * scale[i]
        e = e * e
        y = e / (e + _ONE)
        out[i] = _ZERO if y < _TINY else y       # also every x < -104
    for i in range(packets, n):
        e = _F32(math.exp(np.float64(min(x_in[i], _SIGMOID_HIGH))))   # cannot overflow
        y = e / (e + _ONE)
        out[i] = _ZERO if y < _TINY else y


@lazy_njit
def _exp_loop(x_in: np.ndarray, out: np.ndarray) -> None:
    n = x_in.size
    packets = n - n % _PACKET
    exponent_bits = np.empty(2 * packets, np.uint32)
    scale = exponent_bits.view(np.float32)
    for i in range(packets):
        x = min(max(x_in[i], _LOW), _EXP_HIGH)
        m = np.floor(x * _LOG2E + _HALF)         # m in [-150, 128]
        r = m * _LN2_HI + x
        r = r + m * _LN2_LO
        r2 = r * r
        p_even = r2 * _EP0 + _EP1
        p_even = p_even * r2 + _EP2
        y = r2 * _EP3 + _EP4
        y = y * r + p_even
        y = y * r2
        out[i] = y + (r + _ONE)
        m = m if m == m else _ZERO
        half = np.floor(m * _HALF)               # both halves are normal exponents
        exponent_bits[2 * i] = np.uint32(np.int32(half) + 127) << 23
        exponent_bits[2 * i + 1] = np.uint32(np.int32(m - half) + 127) << 23
    for i in range(packets):
        y = (out[i] * scale[2 * i]) * scale[2 * i + 1]   # the first product is exact
        x = x_in[i]
        y = x if x > y else y                    # fmax: +inf in, +inf out
        out[i] = _ZERO if y < _TINY else y
    for i in range(packets, n):
        x = x_in[i]
        e = math.exp(min(np.float64(x), 709.0))  # libm's exp; 709 keeps it finite
        y = _F32(math.inf) if e >= _ROUNDS_TO_F32_INF else _F32(e)
        y = x if x > y else y
        out[i] = _ZERO if y < _TINY else y


def _apply(loop, x: np.ndarray) -> np.ndarray:
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(flat.size, _F32)
    loop(flat, out)
    return out.reshape(x.shape)


def tanh_f32(x: np.ndarray) -> np.ndarray:
    return _apply(_tanh_loop, x)


def sigmoid_f32(x: np.ndarray) -> np.ndarray:
    return _apply(_sigmoid_loop, x)


def exp_f32(x: np.ndarray) -> np.ndarray:
    return _apply(_exp_loop, x)


@lazy_njit
def _sigmoid_grad_loop(y_in: np.ndarray, dy_in: np.ndarray, out_2d: np.ndarray) -> None:
    """Packets: ((1 - y) * y) * dy; Eigen's scalar path for the n % 8 tail: (dy * y) * (1 - y)."""
    y, dy, out = y_in.reshape(-1), dy_in.reshape(-1), out_2d.reshape(-1)
    n = y.size
    packets = n - n % _PACKET
    for i in range(packets):
        out[i] = ((_ONE - y[i]) * y[i]) * dy[i]
    for i in range(packets, n):
        out[i] = (dy[i] * y[i]) * (_ONE - y[i])


def sigmoid_grad_f32(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """SigmoidGrad of C-contiguous float32 y and dy of one shape."""
    out = np.empty(y.shape, _F32)
    _sigmoid_grad_loop(y, dy, out)
    return out
