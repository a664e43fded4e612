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
