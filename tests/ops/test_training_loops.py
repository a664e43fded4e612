"""The compiled optimizer loops give the numpy formulation's bits (TF's values themselves are
checked by test_train_ops.py against TF-made tables, through whichever path applies)."""
from __future__ import annotations

import types

import numpy as np
import pytest

from orchestrator.ops import training_loops, training_ops


def _adam_case(dtype: type, shape: tuple, seed: int) -> tuple[list[np.ndarray], types.SimpleNamespace]:
    rng = np.random.default_rng(seed)
    t = dtype

    def draw(values: np.ndarray) -> np.ndarray:      # a 0-d array for shape (), not a scalar
        return np.array(values, dtype)
    x = types.SimpleNamespace(one=t(1), grad=draw(rng.standard_normal(shape) * 3), lr=t(0.01),
                              beta1_power=t(0.9 ** 7), beta2_power=t(0.999 ** 7), beta1=t(0.9),
                              beta2=t(0.999), epsilon=t(1e-7))
    slots = [draw(rng.standard_normal(shape)), draw(rng.standard_normal(shape) * 0.1),
             draw(rng.random(shape) * 0.01)]
    slots[2].reshape(-1)[:3] = 0                     # v == 0: the epsilon-only denominator
    return slots, x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("shape", [(), (7,), (4, 5), (33, 17)])
def test_adam_loop_matches_numpy_bits(monkeypatch: pytest.MonkeyPatch, dtype: type, nesterov: bool,
                                      shape: tuple) -> None:
    slots, x = _adam_case(dtype, shape, seed=len(shape))
    attrs = types.SimpleNamespace(use_nesterov=nesterov)
    assert training_loops.fusable(*slots, x.grad)
    fused = training_ops._adam(slots, x, attrs)
    monkeypatch.setattr(training_loops, "fusable", lambda *arrays: False)
    reference = training_ops._adam(slots, x, attrs)
    for got, want in zip(fused, reference):
        assert got.dtype == dtype and np.shape(got) == shape
        assert np.array_equal(np.asarray(got).reshape(-1).view(np.uint8), np.asarray(want).reshape(-1).view(np.uint8))


def test_fusable_only_for_same_dtype_shape_c_contiguous_float_arrays() -> None:
    a = np.zeros((4, 6), np.float32)
    assert training_loops.fusable(a, a.copy(), a.copy())
    assert not training_loops.fusable(a, a.astype(np.float64))
    assert not training_loops.fusable(a, a.T.copy())                      # shape differs
    assert not training_loops.fusable(a, np.zeros((6, 4), np.float32).T)  # not C-contiguous
    assert not training_loops.fusable(a.astype(np.float16), a.astype(np.float16))
    assert not training_loops.fusable(a[:, ::2].copy(), a[:, ::2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("shape", [(), (7,), (4, 5)])
def test_momentum_and_gradient_descent_loops_match_numpy_bits(dtype: type, nesterov: bool, shape: tuple) -> None:
    rng = np.random.default_rng(len(shape) + nesterov)

    def draw(scale: float) -> np.ndarray:
        return np.array(rng.standard_normal(shape) * scale, dtype)

    var, accum, grad = draw(1.0), draw(0.3), draw(2.0)
    lr, momentum = np.array(0.05, dtype), np.array(0.9, dtype)
    x = types.SimpleNamespace(lr=lr[()], grad=grad, momentum=momentum[()], alpha=lr[()], delta=grad)
    attrs = types.SimpleNamespace(use_nesterov=nesterov)
    want_var, want_accum = training_ops._momentum([var, accum], x, attrs)
    got_var, got_accum = var.copy(), accum.copy()
    assert training_loops.momentum_in_place(got_var, got_accum, lr, grad, momentum, nesterov)
    for got, want in ((got_var, want_var), (got_accum, want_accum)):
        assert np.array_equal(got.reshape(-1).view(np.uint8), np.asarray(want, dtype).reshape(-1).view(np.uint8))
    (want_gd,) = training_ops._gd([var], x, attrs)
    got_gd = var.copy()
    assert training_loops.gradient_descent_in_place(got_gd, lr, grad)
    assert np.array_equal(got_gd.reshape(-1).view(np.uint8), np.asarray(want_gd, dtype).reshape(-1).view(np.uint8))


def test_in_place_loops_decline_what_they_cannot_take() -> None:
    var = np.zeros(4, np.float32)
    lr = np.array(0.1, np.float32)
    assert not training_loops.momentum_in_place(var, var.copy(), lr, np.zeros(3, np.float32), lr, False)   # shape
    assert not training_loops.momentum_in_place(var, var.copy(), lr, np.zeros(4, np.float32),
                                                np.array(0.9, np.float64), False)                          # dtype
    frozen = var.copy()
    frozen.flags.writeable = False
    assert not training_loops.gradient_descent_in_place(frozen, lr, np.ones(4, np.float32))
    assert not training_loops.gradient_descent_in_place(var, lr, var[::-1])                               # aliasing
    assert var.tolist() == [0, 0, 0, 0]
