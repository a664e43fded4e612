"""Optimizer updates as compiled element loops (ops/jit.py), for the optimizers whose numpy
formulation takes many passes: Adam is ~12 numpy calls, each a pass over the variable
(and ~1 us of call overhead on the small variables of an RNN cell).

Each loop body is the numpy formulation of training_ops written per element: the same
float operations on the same operands in the same order, in the variable's dtype (the
scalars arrive as numpy scalars of that dtype), so results are bit for bit those of the
numpy path. Only float32/float64 C-contiguous arrays of one shape take this path.
"""
from __future__ import annotations

import numpy as np

from orchestrator.ops.jit import lazy_njit

_FUSABLE = (np.dtype(np.float32), np.dtype(np.float64))
_INDEX = (np.dtype(np.int32), np.dtype(np.int64))
_ONE = {dtype: dtype.type(1) for dtype in _FUSABLE}


def fusable(var: np.ndarray, *others: np.ndarray) -> bool:
    """True when var is a C-contiguous float32/float64 array and the others are too, of its
    dtype and shape."""
    if var.dtype not in _FUSABLE or not var.flags.c_contiguous:
        return False
    for a in others:
        if type(a) is not np.ndarray or a.dtype is not var.dtype or a.shape != var.shape \
                or not a.flags.c_contiguous:
            return False
    return True


@lazy_njit
def _adam_loop(var_in, m_in, v_in, g_in, one_minus_beta1, one_minus_beta2, beta1, alpha, epsilon,
               nesterov, new_var_out, new_m_out, new_v_out):
    # Flat views made here, in compiled code (reshape from Python is ~0.2 us an array).
    var, m, v, g = var_in.reshape(-1), m_in.reshape(-1), v_in.reshape(-1), g_in.reshape(-1)
    new_var, new_m, new_v = new_var_out.reshape(-1), new_m_out.reshape(-1), new_v_out.reshape(-1)
    for i in range(var.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_beta1
        vi = v[i] + (gi * gi - v[i]) * one_minus_beta2
        if nesterov:
            new_var[i] = var[i] - ((gi * one_minus_beta1 + beta1 * mi) * alpha) / (np.sqrt(vi) + epsilon)
        else:
            new_var[i] = var[i] - (mi * alpha) / (np.sqrt(vi) + epsilon)
        new_m[i] = mi
        new_v[i] = vi


def adam(var: np.ndarray, m: np.ndarray, v: np.ndarray, g: np.ndarray, beta1, beta2, alpha, epsilon,
         one, nesterov: bool) -> list[np.ndarray]:
    """[var, m, v] after one Adam step (arrays ``fusable``; scalars of their dtype)."""
    new = [np.empty_like(var), np.empty_like(m), np.empty_like(v)]
    _adam_loop(var, m, v, g, one - beta1, one - beta2, beta1, alpha, epsilon, nesterov, *new)
    return new


# ------------------------------------------------------------------ Adagrad, in place
# An embedding step runs (Sparse)ApplyAdagrad on a few tiny variables: the generic
# machinery (input namespace, shape checks, numpy passes, write-back) costs 10-35 us a
# call there, these loops ~1 us. They update the slots in place, so a gradient sharing
# memory with a slot is left to the numpy path (which reads all inputs before writing).
# ``one`` is 1 in the variable's dtype: a Python 1.0 would make numba divide in float64.

@lazy_njit
def _adagrad_dense_loop(var_io, accum_io, lr, grad_in, one, update_slots):
    var, accum, grad = var_io.reshape(-1), accum_io.reshape(-1), grad_in.reshape(-1)
    for i in range(var.size):
        g = grad[i]
        a = accum[i] + g * g if update_slots else accum[i]
        var[i] = var[i] - g * lr * (one / np.sqrt(a))     # var - grad * lr * rsqrt(accum)
        accum[i] = a


@lazy_njit
def _adagrad_sparse_loop(var_io, accum_io, lr, grad_in, indices, one, update_slots):
    """TF's loop over the indices (repeats applied one after another); -1 when done, else
    the position of the first index out of range (nothing written then)."""
    rows = var_io.shape[0]
    for k in range(indices.size):
        if indices[k] < 0 or indices[k] >= rows:
            return k
    inner = var_io.size // rows
    var, accum, grad = var_io.reshape(-1), accum_io.reshape(-1), grad_in.reshape(-1)
    for k in range(indices.size):
        base = indices[k] * inner
        for j in range(inner):
            g = grad[k * inner + j]
            a = accum[base + j] + g * g if update_slots else accum[base + j]
            if inner == 1:                    # TF's scalar loop: var - lr * grad / sqrt(accum)
                var[base + j] = var[base + j] - lr * g / np.sqrt(a)
            else:                             # rows: the dense update
                var[base + j] = var[base + j] - g * lr * (one / np.sqrt(a))
            accum[base + j] = a
    return -1


def _adagrad_operands(var: object, accum: object, lr: object, grad: object) -> bool:
    """True when the loops apply: float32/float64 C-contiguous var and accum (writable, one
    shape), grad of their dtype sharing no memory with them, and a 0-d lr array of it."""
    if type(var) is not np.ndarray or type(accum) is not np.ndarray:
        return False                      # e.g. None: an uninitialized slot
    dtype = var.dtype
    if not (dtype in _FUSABLE and accum.dtype is dtype and accum.shape == var.shape
            and type(grad) is np.ndarray and grad.dtype is dtype
            and type(lr) is np.ndarray and lr.dtype is dtype and not lr.ndim):
        return False
    var_flags, accum_flags = var.flags, accum.flags
    if not (var_flags.writeable and accum_flags.writeable and var_flags.c_contiguous
            and accum_flags.c_contiguous and grad.flags.c_contiguous):
        return False
    # A gradient that owns its memory cannot overlap the slots (the usual case, and cheap).
    return grad.base is None or not (np.may_share_memory(grad, var) or np.may_share_memory(grad, accum))


def adagrad_in_place(var: object, accum: object, lr: object, grad: object,
                     update_slots: bool) -> bool:
    """ApplyAdagrad into the writable arrays ``var``/``accum``; False (nothing written)
    when the operands are not for the loop (the caller takes the checked numpy path)."""
    if not _adagrad_operands(var, accum, lr, grad) or grad.shape != var.shape:
        return False
    _adagrad_dense_loop(var, accum, lr[()], grad, _ONE[var.dtype], update_slots)
    return True


def sparse_adagrad_in_place(var: object, accum: object, lr: object, grad: object,
                            indices: object, update_slots: bool) -> bool:
    """SparseApplyAdagrad into the writable arrays ``var``/``accum``; False (nothing
    written) when the operands are not for the loop or an index is out of range (the
    caller's checked path then reports it)."""
    if (not _adagrad_operands(var, accum, lr, grad) or type(indices) is not np.ndarray
            or indices.dtype not in _INDEX or indices.ndim != 1 or not var.ndim or not var.size
            or grad.shape != indices.shape + var.shape[1:]):
        return False
    return _adagrad_sparse_loop(var, accum, lr[()], grad, indices, _ONE[var.dtype], update_slots) < 0


@lazy_njit
def _momentum_dense_loop(var_io, accum_io, lr, grad_in, momentum, nesterov):
    """_momentum's steps per element: accum*m + g, then var - a*lr (or, Nesterov,
    var - (g*lr + (a*m)*lr))."""
    var, accum, grad = var_io.reshape(-1), accum_io.reshape(-1), grad_in.reshape(-1)
    for i in range(var.size):
        g = grad[i]
        a = accum[i] * momentum + g
        if nesterov:
            var[i] = var[i] - (g * lr + a * momentum * lr)
        else:
            var[i] = var[i] - a * lr
        accum[i] = a


def momentum_in_place(var: object, accum: object, lr: object, grad: object, momentum: object,
                      nesterov: bool) -> bool:
    """ApplyMomentum into the writable arrays ``var``/``accum``; False (nothing written) when
    the operands are not for the loop (the caller takes the checked numpy path)."""
    if (not _adagrad_operands(var, accum, lr, grad) or grad.shape != var.shape
            or type(momentum) is not np.ndarray or momentum.dtype is not var.dtype or momentum.ndim):
        return False
    _momentum_dense_loop(var, accum, lr[()], grad, momentum[()], nesterov)
    return True


@lazy_njit
def _gradient_descent_loop(var_io, alpha, delta_in):
    """_gd's step per element: var - delta*alpha."""
    var, delta = var_io.reshape(-1), delta_in.reshape(-1)
    for i in range(var.size):
        var[i] = var[i] - delta[i] * alpha


def gradient_descent_in_place(var: object, alpha: object, delta: object) -> bool:
    """ApplyGradientDescent into the writable array ``var``; False (nothing written) when the
    operands are not for the loop."""
    if not _adagrad_operands(var, var, alpha, delta) or delta.shape != var.shape:
        return False
    _gradient_descent_loop(var, alpha[()], delta)
    return True
