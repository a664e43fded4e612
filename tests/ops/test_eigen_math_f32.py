"""eigen_math_f32's layout rules, checked against themselves: Eigen computes every element
of a whole 8-float packet with the packet formula and the last n % 8 elements with the
scalar one, so an element's bits depend only on its value and on which of the two paths
it takes, never on the array's size, shape or its neighbours. (The values themselves
are TF's: tests/ops/test_math_ops.py compares them with TF-made references.)"""
from __future__ import annotations

import numpy as np
import pytest

from orchestrator.ops import eigen_math_f32 as m

FUNCTIONS = {"exp": m.exp_f32, "sigmoid": m.sigmoid_f32, "tanh": m.tanh_f32}
SPECIALS = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1.17549435e-38, 88.72, 88.7228,
                     88.723, 89.0, 1e38, -1e38, -87.33, -103.99, -104.0, -104.01, -150.0, 16.6355324,
                     16.64, 7.90738964, -7.91, 1e-4], np.float32)


def values(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * rng.choice([0.1, 3.0, 40.0], n)).astype(np.float32)
    x[:: max(1, n // len(SPECIALS))][: len(SPECIALS)] = SPECIALS[: len(x[:: max(1, n // len(SPECIALS))])]
    return x


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint32)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_large_arrays_match_per_packet_and_per_tail_results(name: str) -> None:
    fn = FUNCTIONS[name]
    x = values(40013)                                 # 5001 packets and a tail of 5
    whole = x.size - x.size % 8
    got = fn(x)
    packets = np.concatenate([fn(x[i:i + 8]) for i in range(0, whole, 8)])   # each one packet
    singles = np.concatenate([fn(x[i:i + 1]) for i in range(whole, x.size)])  # each one tail
    assert np.array_equal(bits(got[:whole]), bits(packets))
    assert np.array_equal(bits(got[whole:]), bits(singles))


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("shape", [(), (1,), (4, 5), (3, 7), (2, 3, 5), (16,), (17,)])
def test_shape_and_layout_do_not_change_bits(name: str, shape: tuple) -> None:
    fn = FUNCTIONS[name]
    x = values(int(np.prod(shape)), seed=len(shape)).reshape(shape)
    flat = fn(x.reshape(-1))
    got = fn(x)
    assert got.shape == x.shape and got.dtype == np.float32
    assert np.array_equal(bits(got.reshape(-1)), bits(flat))
    if x.ndim == 2:                                   # F order: same C-order elements, same bits
        assert np.array_equal(bits(fn(np.asfortranarray(x))), bits(got))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_input_untouched_and_specials(name: str) -> None:
    fn = FUNCTIONS[name]
    x = np.concatenate([SPECIALS, SPECIALS[:3]])
    x.flags.writeable = False
    out = fn(x)
    assert np.array_equal(bits(x[:len(SPECIALS)]), bits(SPECIALS))
    finite = out[np.isfinite(out)]
    assert np.all(np.isnan(out) == np.isnan(x))       # NaN in, NaN out; nothing else is NaN
    if name != "tanh":                                # exp and sigmoid flush denormal results
        assert np.all((finite == 0) | (np.abs(finite) >= np.finfo(np.float32).tiny))
    if name == "sigmoid":
        assert np.all((finite >= 0) & (finite <= 1))
    if name == "exp":
        assert out[list(SPECIALS).index(np.inf)] == np.inf and out[list(SPECIALS).index(-np.inf)] == 0


@pytest.mark.parametrize("shape", [(), (1,), (7,), (8,), (4, 5), (3, 7, 5), (1001,)])
def test_sigmoid_grad_loop_matches_packet_and_tail_formulas(shape: tuple) -> None:
    from orchestrator.ops import math_ops

    rng = np.random.default_rng(len(shape))
    y = np.array(rng.random(shape), np.float32)
    dy = np.array(rng.standard_normal(shape) * 10, np.float32)
    got = m.sigmoid_grad_f32(y, dy)
    want = math_ops._packets_and_tail(y, dy, math_ops._sigmoid_grad, math_ops._sigmoid_grad_scalar)
    assert got.shape == shape and got.dtype == np.float32
    assert np.array_equal(bits(got.reshape(-1)), bits(np.asarray(want).reshape(-1)))
