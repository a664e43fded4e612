"""Training-mode fused batch norm and its gradient as compiled loops (ops/jit.py) for
channels-last float32/float64 tensors: the numpy formulation in norm_ops.py is ~20
passes (sums over the rows, centring, squares, scaling), ~70 us a call on a small conv
layer where the loops take a few.

Each loop does the numpy formulation's float operations on the same operands in the same
order, in the tensor's dtype (scalars arrive as numpy scalars of it): channel sums start
from +0 and add row after row, as numpy's add.reduce over the leading axis does; every
other step is one rounded elementwise operation. So the bits are those of the numpy path.
``x`` is viewed as [rows, channels]: C-contiguous, channels last.
"""
from __future__ import annotations

import numpy as np

from orchestrator.ops.jit import lazy_njit


@lazy_njit
def forward_training(x, scale, offset, mean, variance, count, epsilon, factor, avg_factor,
                     blend, one, y, batch_mean, batch_var, running_mean, running_var):
    rows, channels = x.shape
    for c in range(channels):
        batch_mean[c] = 0.0
        batch_var[c] = 0.0
    for r in range(rows):
        for c in range(channels):
            batch_mean[c] = batch_mean[c] + x[r, c]
    for c in range(channels):
        batch_mean[c] = batch_mean[c] / count
    for r in range(rows):                       # y holds the centred values for now
        for c in range(channels):
            centered = x[r, c] - batch_mean[c]
            y[r, c] = centered
            batch_var[c] = batch_var[c] + centered * centered
    keep = one - avg_factor
    for c in range(channels):
        batch_var[c] = batch_var[c] / count
        unbiased = batch_var[c] * factor
        if blend:
            running_mean[c] = keep * mean[c] + avg_factor * batch_mean[c]
            running_var[c] = keep * variance[c] + avg_factor * unbiased
        else:
            running_mean[c] = batch_mean[c]
            running_var[c] = unbiased
    inv = np.empty(channels, x.dtype)
    for c in range(channels):
        inv[c] = (one / np.sqrt(batch_var[c] + epsilon)) * scale[c]
    for r in range(rows):
        for c in range(channels):
            y[r, c] = y[r, c] * inv[c] + offset[c]


@lazy_njit
def backward(dy, x, scale, mean, variance, epsilon, count, training, one, x_backprop,
             scale_backprop, offset_backprop):
    rows, channels = x.shape
    inv_std = np.empty(channels, x.dtype)
    dot = np.empty(channels, x.dtype)
    for c in range(channels):
        inv_std[c] = one / np.sqrt(variance[c] + epsilon)
        offset_backprop[c] = 0.0
        dot[c] = 0.0
    for r in range(rows):
        for c in range(channels):
            offset_backprop[c] = offset_backprop[c] + dy[r, c]
    for r in range(rows):
        for c in range(channels):
            dot[c] = dot[c] + dy[r, c] * (x[r, c] - mean[c])
    gain = np.empty(channels, x.dtype)
    for c in range(channels):
        scale_backprop[c] = dot[c] * inv_std[c]
        gain[c] = scale[c] * inv_std[c]
    if not training:
        for r in range(rows):
            for c in range(channels):
                x_backprop[r, c] = dy[r, c] * gain[c]
        return
    dy_mean = np.empty(channels, x.dtype)
    slope = np.empty(channels, x.dtype)
    for c in range(channels):
        dy_mean[c] = offset_backprop[c] / count
        slope[c] = dot[c] / count * inv_std[c] * inv_std[c]
    for r in range(rows):
        for c in range(channels):
            centered = x[r, c] - mean[c]
            x_backprop[r, c] = ((dy[r, c] - dy_mean[c]) - centered * slope[c]) * gain[c]
