"""Optimizer apply kernels: ``Apply*`` / ``ResourceApply*`` / ``SparseApply*`` / ``ResourceSparseApply*``.

Each optimizer's update is written once, as a function from the current arrays of its
variables (``var`` and slots) and its inputs to the new arrays, in the order of
operations of TF's CPU kernels (``training_ops.cc``): at float32 the order decides the
last bit, and a resumed run must follow TF's trajectory. Where TF's sparse kernels use
another formula than the dense ones (RMSProp, Momentum with Nesterov, AdagradDA) or a
scalar loop for 1-element rows (Adagrad, ProximalAdagrad, ProximalGradientDescent,
AdagradDA, Ftrl — some of it in double precision), that formula is kept too.

One known difference: TF computes ``rsqrt`` with a hardware estimate plus a Newton
step (Eigen fast math), which differs from the correctly rounded ``1/sqrt`` used here in
the last bit for some inputs (Adagrad, Adadelta, ProximalAdagrad, sparse RMSProp).

The four variants share the update: ref kernels write the new values into the
variables' arrays (``ref_inputs``), resource kernels replace the arrays (``Ref.set``).
Sparse kernels apply duplicate indices one after another, as TF's loops do.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.exec.state import KernelContext, Ref
from orchestrator.ops import training_loops
from orchestrator.ops.registry import kernel
from orchestrator.ops.state_ops import resource_ref

Arrays = list[np.ndarray]
_INT_INPUTS = frozenset({"indices", "global_step"})
_ARRAY_INPUTS = frozenset({"grad", "delta", "indices"})


def _rsqrt(x: np.ndarray) -> np.ndarray:
    return np.reciprocal(np.sqrt(x))


def _over_double(num: np.ndarray, denom_minus_one: Any, dtype: np.dtype) -> np.ndarray:
    """TF's scalar loops divide by ``(1.0 + x)``: a double, so the quotient is a double."""
    return (num.astype(np.float64) / (1.0 + np.float64(denom_minus_one))).astype(dtype)


# --------------------------------------------------------------- update functions
# Signature: (arrays of var and slots, inputs namespace x, attrs namespace a) -> new arrays.

def _gd(v: Arrays, x: Any, a: Any) -> Arrays:
    return [v[0] - x.delta * x.alpha]


def _prox_gd(v: Arrays, x: Any, a: Any) -> Arrays:
    lr = x.alpha if hasattr(x, "alpha") else x.lr
    grad = x.delta if hasattr(x, "delta") else x.grad
    prox = v[0] - grad * lr
    denom = x.one + x.l2 * lr
    if x.l1 > 0:
        return [np.sign(prox) * np.maximum(np.abs(prox) - lr * x.l1, x.zero) / denom]
    return [prox / denom]


def _prox_gd_scalar(v: Arrays, x: Any, a: Any) -> Arrays:
    prox = v[0] - x.alpha * x.grad
    if x.l1 > 0:
        num = np.sign(prox) * np.maximum(np.abs(prox) - x.alpha * x.l1, x.zero)
        return [_over_double(num, x.l2 * x.alpha, prox.dtype)]
    return [_over_double(prox, x.l2 * x.alpha, prox.dtype)]


def _adadelta(v: Arrays, x: Any, a: Any) -> Arrays:
    var, accum, acc_up = v
    g = x.grad
    accum = accum * x.rho + np.square(g) * (x.one - x.rho)
    update = np.sqrt(acc_up + x.epsilon) * _rsqrt(accum + x.epsilon) * g
    var = var - update * x.lr
    acc_up = acc_up * x.rho + np.square(update) * (x.one - x.rho)
    return [var, accum, acc_up]


def _adagrad(v: Arrays, x: Any, a: Any) -> Arrays:
    accum = v[1] + np.square(x.grad) if a.update_slots else v[1]
    return [v[0] - x.grad * x.lr * _rsqrt(accum), accum]


def _adagrad_scalar(v: Arrays, x: Any, a: Any) -> Arrays:
    accum = v[1] + x.grad * x.grad if a.update_slots else v[1]
    return [v[0] - x.lr * x.grad / np.sqrt(accum), accum]


# In-place hooks (Optimizer.dense_in_place / sparse_in_place): (slot arrays, the other
# inputs, attrs) -> True when the compiled loop applied the update into the slot arrays,
# False (nothing written) to take the checked numpy path.
def _adagrad_in_place(slots: Arrays, rest: tuple, a: Any) -> bool:
    return len(rest) == 2 and training_loops.adagrad_in_place(*slots, *rest, a.update_slots)


def _sparse_adagrad_in_place(slots: Arrays, rest: tuple, a: Any) -> bool:
    return len(rest) == 3 and training_loops.sparse_adagrad_in_place(*slots, *rest, a.update_slots)


def _momentum_in_place(slots: Arrays, rest: tuple, a: Any) -> bool:
    return len(rest) == 3 and training_loops.momentum_in_place(*slots, *rest, a.use_nesterov)


def _gd_in_place(slots: Arrays, rest: tuple, a: Any) -> bool:
    return len(rest) == 2 and training_loops.gradient_descent_in_place(*slots, *rest)


def _adagrad_v2(v: Arrays, x: Any, a: Any) -> Arrays:
    accum = v[1] + np.square(x.grad) if a.update_slots else v[1]
    return [v[0] - x.grad * x.lr / (np.sqrt(accum) + x.epsilon), accum]


def _prox_adagrad(v: Arrays, x: Any, a: Any) -> Arrays:
    accum = v[1] + np.square(x.grad)
    lr_t = x.lr * _rsqrt(accum)
    prox = v[0] - x.grad * lr_t
    denom = x.one + x.l2 * lr_t
    if x.l1 > 0:
        return [np.sign(prox) * np.maximum(np.abs(prox) - lr_t * x.l1, x.zero) / denom, accum]
    return [prox / denom, accum]


def _prox_adagrad_scalar(v: Arrays, x: Any, a: Any) -> Arrays:
    accum = v[1] + x.grad * x.grad
    lr_t = x.lr / np.sqrt(accum)
    prox = v[0] - lr_t * x.grad
    denom = (1.0 + (x.l2 * lr_t).astype(np.float64))
    if x.l1 > 0:
        num = np.sign(prox) * np.maximum(np.abs(prox) - lr_t * x.l1, x.zero)
        return [(num.astype(np.float64) / denom).astype(prox.dtype), accum]
    return [(prox.astype(np.float64) / denom).astype(prox.dtype), accum]


def _adagrad_da(v: Arrays, x: Any, a: Any) -> Arrays:
    var, ga, gsa = v
    t = var.dtype.type
    ga = ga + x.grad
    gsa = gsa + np.square(x.grad)
    step = t(np.float32(x.global_step))
    denom = x.l2 * t(np.float32(x.global_step) * x.lr) + np.sqrt(gsa)
    if x.l1 > 0:
        return [x.lr * t(-1) * np.sign(ga) * np.maximum(np.abs(ga) - step * x.l1, x.zero) / denom, ga, gsa]
    return [x.lr * ga * t(-1) / denom, ga, gsa]


def _adagrad_da_sparse(v: Arrays, x: Any, a: Any) -> Arrays:
    var, ga, gsa = v
    t = var.dtype.type
    ga = ga + x.grad
    gsa = gsa + np.square(x.grad)
    step = t(x.global_step)
    denom = x.l2 + np.sqrt(gsa) / t(step * x.lr)
    if x.l1 > 0:
        return [t(-1) * np.sign(ga) * np.maximum(np.abs(ga) / step - x.l1, x.zero) / denom, ga, gsa]
    return [t(-1) * (ga / step) / denom, ga, gsa]


def _adagrad_da_scalar(v: Arrays, x: Any, a: Any) -> Arrays:
    var, ga, gsa = v
    dt = var.dtype
    lr, l1, l2 = np.float64(x.lr), np.float64(x.l1), np.float64(x.l2)
    g = x.grad.astype(np.float64)
    ga = (ga.astype(np.float64) + g).astype(dt)
    gsa = (gsa.astype(np.float64) + g * g).astype(dt)
    ga64, gsa64 = ga.astype(np.float64), gsa.astype(np.float64)
    denom = x.global_step * l2 * lr + np.sqrt(gsa64)
    if l1 > 0:
        new = np.sign(-ga).astype(np.float64) * lr * np.maximum(np.abs(ga64) - x.global_step * l1, 0.0) / denom
    else:
        new = (-ga64 * lr) / denom
    return [new.astype(dt), ga, gsa]


def _ftrl_power(acc: np.ndarray, x: Any) -> np.ndarray:
    return np.sqrt(acc) if x.lr_power == x.minus_half else np.power(acc, -x.lr_power)


def _ftrl(v: Arrays, x: Any, a: Any) -> Arrays:
    """Ftrl and FtrlV2 (``x.l2_shrinkage`` present). TF's sparse-row form clips ``linear``
    where the dense one selects; both give the same values, so one function serves."""
    var, accum, linear = v
    g = x.grad
    t = var.dtype.type
    g_lin = g + t(2) * x.l2_shrinkage * var if hasattr(x, "l2_shrinkage") else g
    new_accum = accum + np.square(g)
    diff = _ftrl_power(new_accum, x) - _ftrl_power(accum, x)
    if a.multiply_linear_by_lr:
        linear = linear + (g_lin * x.lr - diff * var)
        l1 = x.l1 * x.lr
        y = _ftrl_power(new_accum, x) + t(2) * x.l2 * x.lr
    else:
        linear = linear + (g_lin - diff / x.lr * var)
        l1 = x.l1
        y = _ftrl_power(new_accum, x) / x.lr + t(2) * x.l2
    pre = (l1 * np.sign(linear) - linear) / y
    return [np.where(np.abs(linear) > l1, pre, x.zero), new_accum, linear]


def _ftrl_scalar(v: Arrays, x: Any, a: Any) -> Arrays:
    var, accum, linear = v
    t = var.dtype.type
    g = x.grad + t(2) * x.l2_shrinkage * var if hasattr(x, "l2_shrinkage") else x.grad
    new_accum = accum + x.grad * x.grad
    sigma = np.power(new_accum, -x.lr_power) - np.power(accum, -x.lr_power)
    if a.multiply_linear_by_lr:
        linear = linear + g * x.lr - sigma * var
        l1, quad = x.l1 * x.lr, _ftrl_power(new_accum, x) + t(2) * x.l2 * x.lr
    else:
        linear = linear + g - sigma / x.lr * var
        l1, quad = x.l1, _ftrl_power(new_accum, x) / x.lr + t(2) * x.l2
    return [(np.clip(linear, -l1, l1) - linear) / quad, new_accum, linear]


def _momentum(v: Arrays, x: Any, a: Any) -> Arrays:
    accum = v[1] * x.momentum + x.grad
    if a.use_nesterov:
        return [v[0] - (x.grad * x.lr + accum * x.momentum * x.lr), accum]
    return [v[0] - accum * x.lr, accum]


def _momentum_sparse(v: Arrays, x: Any, a: Any) -> Arrays:
    accum = v[1] * x.momentum + x.grad
    if a.use_nesterov:
        return [v[0] - (x.lr * x.grad + (x.lr * x.momentum) * accum), accum]
    return [v[0] - x.lr * accum, accum]


def _keras_momentum(v: Arrays, x: Any, a: Any) -> Arrays:
    accum = v[1] * x.momentum - x.grad * x.lr
    if a.use_nesterov:
        return [v[0] + (accum * x.momentum - x.grad * x.lr), accum]
    return [v[0] + accum, accum]


def _adam_alpha(x: Any) -> Any:
    return x.lr * np.sqrt(x.one - x.beta2_power) / (x.one - x.beta1_power)


def _adam(v: Arrays, x: Any, a: Any) -> Arrays:
    var, m, vv = v
    g = x.grad
    alpha = _adam_alpha(x)
    if training_loops.fusable(var, m, vv, g):      # the same steps, one compiled pass
        return training_loops.adam(var, m, vv, g, x.beta1, x.beta2, alpha, x.epsilon, x.one,
                                   a.use_nesterov)
    m = m + (g - m) * (x.one - x.beta1)
    vv = vv + (np.square(g) - vv) * (x.one - x.beta2)
    if a.use_nesterov:
        var = var - ((g * (x.one - x.beta1) + x.beta1 * m) * alpha) / (np.sqrt(vv) + x.epsilon)
    else:
        var = var - (m * alpha) / (np.sqrt(vv) + x.epsilon)
    return [var, m, vv]


def _adam_amsgrad(v: Arrays, x: Any, a: Any) -> Arrays:
    var, m, vv, vhat = v
    g = x.grad
    alpha = _adam_alpha(x)
    m = m + (g - m) * (x.one - x.beta1)
    vv = vv + (np.square(g) - vv) * (x.one - x.beta2)
    vhat = np.maximum(vhat, vv)
    return [var - (m * alpha) / (np.sqrt(vhat) + x.epsilon), m, vv, vhat]


def _adamax(v: Arrays, x: Any, a: Any) -> Arrays:
    var, m, vv = v
    m = m + (x.grad - m) * (x.one - x.beta1)
    vv = np.maximum(x.beta2 * vv, np.abs(x.grad))
    return [var - x.lr / (x.one - x.beta1_power) * (m / (vv + x.epsilon)), m, vv]


def _rmsprop(v: Arrays, x: Any, a: Any) -> Arrays:
    var, ms, mom = v
    ms = ms + (np.square(x.grad) - ms) * (x.one - x.rho)
    mom = mom * x.momentum + (x.grad * x.lr) / np.sqrt(ms + x.epsilon)
    return [var - mom, ms, mom]


def _rmsprop_sparse(v: Arrays, x: Any, a: Any) -> Arrays:
    var, ms, mom = v
    ms = ms * x.rho + np.square(x.grad) * (x.one - x.rho)
    mom = mom * x.momentum + _rsqrt(ms + x.epsilon) * x.lr * x.grad
    return [var - mom, ms, mom]


def _centered_rmsprop(v: Arrays, x: Any, a: Any) -> Arrays:
    var, mg, ms, mom = v
    ms = ms + (np.square(x.grad) - ms) * (x.one - x.rho)
    mg = mg + (x.grad - mg) * (x.one - x.rho)
    mom = mom * x.momentum + (x.grad * x.lr) / np.sqrt((ms - np.square(mg)) + x.epsilon)
    return [var - mom, mg, ms, mom]


def _centered_rmsprop_sparse(v: Arrays, x: Any, a: Any) -> Arrays:
    var, mg, ms, mom = v
    ms = ms * x.rho + np.square(x.grad) * (x.one - x.rho)
    mg = mg * x.rho + x.grad * (x.one - x.rho)
    mom = mom * x.momentum + _rsqrt(ms + x.epsilon - np.square(mg)) * x.lr * x.grad
    return [var - mom, mg, ms, mom]


# ------------------------------------------------------------------ the optimizers

@dataclasses.dataclass(frozen=True)
class Optimizer:
    """One TF optimizer op family: its variable slots, inputs in TF's order, and updates."""

    name: str                              # "Adam" -> ApplyAdam, ResourceApplyAdam, ...
    slots: tuple[str, ...]                 # variable inputs, var first
    dense_inputs: tuple[str, ...] | None   # the other inputs of Apply<name>, in order
    sparse_inputs: tuple[str, ...] | None  # the other inputs of SparseApply<name>, in order
    dense: Callable
    sparse: Callable | None = None         # sparse-row update when TF's differs from dense
    scalar: Callable | None = None         # TF's loop for rows of one element (inner dim 1)
    has_ref: bool = True                   # False: only the Resource* ops exist
    # Compiled in-place updates tried first (slot arrays or None, other inputs, update_slots)
    # -> done?
    # False leaves the arrays untouched and the checked numpy path runs.
    dense_in_place: Callable | None = None
    sparse_in_place: Callable | None = None


_LR = ("lr",)
OPTIMIZERS = [
    Optimizer("GradientDescent", ("var",), ("alpha", "delta"), None, _gd, dense_in_place=_gd_in_place),
    Optimizer("ProximalGradientDescent", ("var",), ("alpha", "l1", "l2", "delta"),
              ("alpha", "l1", "l2", "grad", "indices"), _prox_gd, scalar=_prox_gd_scalar),
    Optimizer("Adadelta", ("var", "accum", "accum_update"), ("lr", "rho", "epsilon", "grad"),
              ("lr", "rho", "epsilon", "grad", "indices"), _adadelta),
    Optimizer("Adagrad", ("var", "accum"), ("lr", "grad"), ("lr", "grad", "indices"), _adagrad,
              scalar=_adagrad_scalar, dense_in_place=_adagrad_in_place,
              sparse_in_place=_sparse_adagrad_in_place),
    Optimizer("AdagradV2", ("var", "accum"), ("lr", "epsilon", "grad"),
              ("lr", "epsilon", "grad", "indices"), _adagrad_v2),
    Optimizer("ProximalAdagrad", ("var", "accum"), ("lr", "l1", "l2", "grad"),
              ("lr", "l1", "l2", "grad", "indices"), _prox_adagrad, scalar=_prox_adagrad_scalar),
    Optimizer("AdagradDA", ("var", "gradient_accumulator", "gradient_squared_accumulator"),
              ("grad", "lr", "l1", "l2", "global_step"),
              ("grad", "indices", "lr", "l1", "l2", "global_step"), _adagrad_da,
              sparse=_adagrad_da_sparse, scalar=_adagrad_da_scalar),
    Optimizer("Ftrl", ("var", "accum", "linear"), ("grad", "lr", "l1", "l2", "lr_power"),
              ("grad", "indices", "lr", "l1", "l2", "lr_power"), _ftrl, scalar=_ftrl_scalar),
    Optimizer("FtrlV2", ("var", "accum", "linear"),
              ("grad", "lr", "l1", "l2", "l2_shrinkage", "lr_power"),
              ("grad", "indices", "lr", "l1", "l2", "l2_shrinkage", "lr_power"), _ftrl,
              scalar=_ftrl_scalar),
    Optimizer("Momentum", ("var", "accum"), ("lr", "grad", "momentum"),
              ("lr", "grad", "indices", "momentum"), _momentum, sparse=_momentum_sparse,
              dense_in_place=_momentum_in_place),
    Optimizer("KerasMomentum", ("var", "accum"), ("lr", "grad", "momentum"),
              ("lr", "grad", "indices", "momentum"), _keras_momentum, has_ref=False),
    Optimizer("Adam", ("var", "m", "v"),
              ("beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon", "grad"), None, _adam),
    Optimizer("AdamWithAmsgrad", ("var", "m", "v", "vhat"),
              ("beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon", "grad"), None,
              _adam_amsgrad, has_ref=False),
    Optimizer("AdaMax", ("var", "m", "v"), ("beta1_power", "lr", "beta1", "beta2", "epsilon", "grad"),
              None, _adamax),
    Optimizer("RMSProp", ("var", "ms", "mom"), ("lr", "rho", "momentum", "epsilon", "grad"),
              ("lr", "rho", "momentum", "epsilon", "grad", "indices"), _rmsprop,
              sparse=_rmsprop_sparse),
    Optimizer("CenteredRMSProp", ("var", "mg", "ms", "mom"), ("lr", "rho", "momentum", "epsilon", "grad"),
              ("lr", "rho", "momentum", "epsilon", "grad", "indices"), _centered_rmsprop,
              sparse=_centered_rmsprop_sparse),
]


# ------------------------------------------------------------------- the machinery

@functools.lru_cache(maxsize=None)
def _constants(dtype: np.dtype) -> dict:
    t = dtype.type
    return {"one": t(1), "zero": t(0), "minus_half": t(-0.5)}


def _inputs(op: str, names: tuple[str, ...], values: tuple, dtype: np.dtype) -> types.SimpleNamespace:
    """Name the non-variable inputs; scalars become numpy scalars of the variable's dtype."""
    t = dtype.type
    named = dict(_constants(dtype))
    for name, value in zip(names, values):
        # The usual float input of the variable's dtype (identity check), taken as it is:
        # an array input whole, a 0-d scalar input as its scalar.
        if type(value) is np.ndarray and value.dtype is dtype and name not in _INT_INPUTS:
            if name in _ARRAY_INPUTS:
                named[name] = value
                continue
            if not value.ndim:
                named[name] = value[()]
                continue
        if name in _ARRAY_INPUTS:
            if name == "indices":
                value = np.asarray(value)
            elif type(value) is not np.ndarray or value.dtype != dtype:
                value = np.asarray(value, dtype=dtype)
        elif name in _INT_INPUTS or type(value) is not t:
            if type(value) is np.ndarray and value.dtype == dtype and not value.ndim:
                value = value[()]          # a 0-d input of the right dtype: its scalar, as is
            else:
                if (value.ndim if isinstance(value, np.ndarray) else np.ndim(value)) != 0:
                    raise InvalidArgumentError(f"{op}: {name} must be a scalar, found shape "
                                               f"{list(np.shape(value))}")
                value = np.int64(value) if name in _INT_INPUTS else t(value)
        named[name] = value
    return types.SimpleNamespace(**named)


@functools.lru_cache(maxsize=None)
def _attrs(use_nesterov: bool, update_slots: bool, multiply_linear_by_lr: bool) -> types.SimpleNamespace:
    return types.SimpleNamespace(use_nesterov=use_nesterov, update_slots=update_slots,
                                 multiply_linear_by_lr=multiply_linear_by_lr)


def _check_dense(op: str, opt: Optimizer, refs: list[Ref], values: Arrays, grad: np.ndarray) -> None:
    shape = values[0].shape
    for slot, ref, value in zip(opt.slots[1:], refs[1:], values[1:]):
        if value.shape != shape:
            raise InvalidArgumentError(f"{op}: {opt.slots[0]} {refs[0].name} has shape {list(shape)} "
                                       f"but {slot} {ref.name} has shape {list(value.shape)}")
    if grad.shape != shape:
        raise InvalidArgumentError(f"{op}: {opt.slots[0]} {refs[0].name} has shape {list(shape)} "
                                   f"but the gradient has shape {list(grad.shape)}")


def _apply_dense(op: str, opt: Optimizer, refs: list[Ref], args: tuple, attrs: Any) -> Arrays:
    values = [ref.get() for ref in refs]
    x = _inputs(op, opt.dense_inputs, args, values[0].dtype)
    _check_dense(op, opt, refs, values, getattr(x, "grad", getattr(x, "delta", None)))
    return opt.dense(values, x, attrs)


# Up to this many indices a Python set answers "any repeats?" faster than a sort does.
_SET_CHECK_MAX = 256


def _rounds(indices: np.ndarray) -> list[Any]:
    """Positions of ``indices`` split into rounds without repeats, in order of occurrence:
    applying the rounds one after another equals TF's loop over the indices."""
    n = indices.shape[0]
    order = indices.argsort(kind="stable")
    ranked = indices[order]
    starts = np.ones(n, dtype=bool)
    np.not_equal(ranked[1:], ranked[:-1], out=starts[1:])
    if starts.all():
        return [slice(None)]
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - first
    return [(rank == r).nonzero()[0] for r in range(int(rank.max()) + 1)]


def _apply_sparse(op: str, opt: Optimizer, refs: list[Ref], targets: Arrays, args: tuple,
                  attrs: Any) -> None:
    """Update the rows of ``targets`` (writable arrays of var and slots) named by indices."""
    var = targets[0]
    x = _inputs(op, opt.sparse_inputs, args, var.dtype)
    indices, grad = x.indices, x.grad
    if var.ndim < 1:
        raise InvalidArgumentError(f"{op}: {refs[0].name} must be at least 1-D, found a scalar")
    for slot, ref, value in zip(opt.slots[1:], refs[1:], targets[1:]):
        if value.shape != var.shape:
            raise InvalidArgumentError(f"{op}: {refs[0].name} has shape {list(var.shape)} but "
                                       f"{slot} {ref.name} has shape {list(value.shape)}")
    if indices.ndim != 1:
        raise InvalidArgumentError(f"{op}: indices must be 1-D, found shape {list(indices.shape)}")
    if grad.shape != indices.shape + var.shape[1:]:
        raise InvalidArgumentError(f"{op}: gradient shape {list(grad.shape)} must be "
                                   f"[len(indices)] + {list(var.shape[1:])} for {refs[0].name}")
    n = indices.shape[0]
    if n == 0:
        return
    if n <= _SET_CHECK_MAX:
        # Few indices (one batch of an embedding): plain Python is cheaper than reductions.
        listed = indices.tolist()
        in_range = min(listed) >= 0 and max(listed) < var.shape[0]
        rounds = [slice(None)] if len(set(listed)) == n else None
    else:
        in_range = indices.min() >= 0 and indices.max() < var.shape[0]
        rounds = None
    if not in_range:
        bad = (indices < 0) | (indices >= var.shape[0])
        i = int(bad.nonzero()[0][0])
        raise InvalidArgumentError(f"{op}: Index {int(indices[i])} at offset {i} in indices is out "
                                   f"of range for {refs[0].name} with {var.shape[0]} rows")
    inner = math.prod(var.shape[1:])
    update = opt.scalar if inner == 1 and opt.scalar else (opt.sparse or opt.dense)
    for positions in rounds or _rounds(indices):
        rows = indices[positions]
        x.grad = grad[positions]
        new = update([t.take(rows, axis=0) for t in targets], x, attrs)
        for target, value in zip(targets, new):
            target[rows] = value


def _write_ref(ref: Ref, value: np.ndarray) -> None:
    current = ref.value
    if current.flags.writeable and current.shape == value.shape:
        current[...] = value                # in place; np.copyto's dispatch costs more here
    else:                                   # read-only storage (e.g. from Ray): rebind
        ref.set(np.array(value, dtype=current.dtype))


def _make_kernels(opt: Optimizer, op_ref: str, op_res: str, sparse: bool) -> None:
    n = len(opt.slots)
    in_place = opt.sparse_in_place if sparse else opt.dense_in_place

    def ref_kernel(*args: Any, use_locking: bool = False, use_nesterov: bool = False,
                   update_slots: bool = True, multiply_linear_by_lr: bool = False) -> Ref:
        refs, rest = list(args[:n]), args[n:]
        a = _attrs(use_nesterov, update_slots, multiply_linear_by_lr)
        if in_place is not None:
            # Uninitialized slots (None) are left to the checked path's error.
            if in_place([ref.value for ref in refs], rest, a):
                return refs[0]
        if sparse:
            targets = [r.get() if r.get().flags.writeable else r.get().copy() for r in refs]
            _apply_sparse(op_ref, opt, refs, targets, rest, a)
            for ref, target in zip(refs, targets):
                if target is not ref.value:
                    ref.set(target)
        else:
            for ref, value in zip(refs, _apply_dense(op_ref, opt, refs, rest, a)):
                _write_ref(ref, value)
        return refs[0]

    def resource_kernel(*args: Any, ctx: KernelContext, use_locking: bool = False,
                        use_nesterov: bool = False, update_slots: bool = True,
                        multiply_linear_by_lr: bool = False) -> None:
        refs = [resource_ref(ctx, h) for h in args[:n]]
        a = _attrs(use_nesterov, update_slots, multiply_linear_by_lr)
        if in_place is not None:
            # Copy-on-write (Ref.mutable): the variable's own array unless something else
            # holds it (a value read earlier in the step keeps its contents).
            if in_place([ref.mutable() for ref in refs], args[n:], a):
                return
        if sparse:
            new = [r.get().copy() for r in refs]
            _apply_sparse(op_res, opt, refs, new, args[n:], a)
        else:
            new = _apply_dense(op_res, opt, refs, args[n:], a)
        for ref, value in zip(refs, new):
            ref.set(value)

    if opt.has_ref:
        ref_kernel.__name__ = ref_kernel.__qualname__ = op_ref
        kernel(op_ref, ref_inputs=tuple(range(n)), stateful=True)(ref_kernel)
    resource_kernel.__name__ = resource_kernel.__qualname__ = op_res
    kernel(op_res, needs_ctx=True, stateful=True)(resource_kernel)


def _register(opt: Optimizer) -> None:
    if opt.dense_inputs is not None:
        _make_kernels(opt, "Apply" + opt.name, "ResourceApply" + opt.name, sparse=False)
    if opt.sparse_inputs is not None:
        _make_kernels(opt, "SparseApply" + opt.name, "ResourceSparseApply" + opt.name, sparse=True)


for _opt in OPTIMIZERS:
    _register(_opt)
