"""2-D pooling and its gradients as compiled loops (ops/jit.py) for float32/float64 NHWC
tensors: pool_ops.py's numpy forms loop over the KH*KW window offsets in Python with a
few numpy calls each (20-35 us a call on a small conv net's layers); here one call.

Each loop gives pool_ops.py's bits, not just its values:

* sums (AvgPool, gradients) start from +0 and add the window offsets in row-major order,
  as the numpy forms' ``total += window`` passes do; padding contributes +0, which never
  changes such a sum (it cannot be -0), so padded positions are skipped;
* MaxPool is the largest non-NaN real element, at least -FLT_MAX (TF's reducer starts
  from the lowest finite value); which of two equal maxima is kept only shows for +0/-0,
  so inputs holding a -0.0 are left to numpy;
* MaxPoolGrad routes each gradient to the element TF's scan picks (the first real
  element, replaced only by a strictly greater one), added onto +0 in offset order where
  windows can overlap, or written as it is where pool_ops.py writes it (non-overlapping
  small inputs: a -0.0 gradient stays -0.0 there).
"""
from __future__ import annotations

import math

import numpy as np

from orchestrator.ops.conv_ops import Axis
from orchestrator.ops.jit import lazy_njit

_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
LOWEST_FINITE = {dtype: np.finfo(dtype).min for dtype in _DTYPES}


def applies(*arrays: np.ndarray) -> bool:
    """The loops take non-empty C-contiguous float32/float64 arrays of one dtype."""
    dtype = arrays[0].dtype
    if dtype not in _DTYPES:
        return False
    for a in arrays:
        if a.dtype is not dtype or not a.size or not a.flags.c_contiguous:
            return False
    return True


def geometry(rows: Axis, cols: Axis) -> tuple[int, int, int, int, int, int]:
    """The loops' window arguments: kernel, stride and leading padding of rows, then cols."""
    return rows.kernel, cols.kernel, rows.stride, cols.stride, rows.pad_before, cols.pad_before


@lazy_njit
def max_pool(x, kh, kw, stride_h, stride_w, pad_top, pad_left, lowest, out):
    """False (out unfinished) when x holds a -0.0; ``lowest`` is -max of x's type. The
    channels run innermost (contiguous); each output still sees its window row-major."""
    flat = x.reshape(-1)
    negative_zero = False
    for e in range(flat.size):                   # no early exit: a branch-free scan is ~6x faster
        negative_zero |= flat[e] == 0 and math.copysign(1.0, flat[e]) < 0
    if negative_zero:
        return False
    n, h, w, c = x.shape
    _, oh, ow, _ = out.shape
    out[...] = lowest
    for b in range(n):
        for p in range(oh):
            for i in range(kh):
                r = p * stride_h + i - pad_top
                if r < 0 or r >= h:
                    continue
                for q in range(ow):
                    for j in range(kw):
                        s = q * stride_w + j - pad_left
                        if s < 0 or s >= w:
                            continue
                        for d in range(c):       # a select, not a branch: vectorises
                            v, o = x[b, r, s, d], out[b, p, q, d]
                            out[b, p, q, d] = v if v > o else o
    return True


@lazy_njit
def _max_pool_picks(x, oh, ow, kh, kw, stride_h, stride_w, pad_top, pad_left):
    """Per output element, the window offset (i * kw + j) of the element TF's scan picks:
    each window row-major, the first real element, replaced only by a strictly greater one."""
    n, h, w, c = x.shape
    picks = np.full((n, oh, ow, c), -1, np.int64)
    best = np.empty((n, oh, ow, c), x.dtype)
    for b in range(n):
        for p in range(oh):
            for i in range(kh):
                r = p * stride_h + i - pad_top
                if r < 0 or r >= h:
                    continue
                for q in range(ow):
                    for j in range(kw):
                        s = q * stride_w + j - pad_left
                        if s < 0 or s >= w:
                            continue
                        for d in range(c):
                            if picks[b, p, q, d] < 0 or x[b, r, s, d] > best[b, p, q, d]:
                                picks[b, p, q, d] = i * kw + j
                                best[b, p, q, d] = x[b, r, s, d]
    return picks


@lazy_njit
def _scatter_windows(values, picks, masked, kh, kw, stride_h, stride_w, pad_top, pad_left, assign, out):
    """Each output position's value onto its window's input elements (only the picked one
    when ``masked``), written (``assign``) or added, window offsets outermost: the numpy
    forms' order. ``out`` must hold +0.0 everywhere on entry."""
    n, h, w, c = out.shape
    _, oh, ow, _ = values.shape
    for k in range(kh * kw):
        i, j = k // kw, k % kw
        for b in range(n):
            for p in range(oh):
                r = p * stride_h + i - pad_top
                if r < 0 or r >= h:
                    continue
                for q in range(ow):
                    s = q * stride_w + j - pad_left
                    if s < 0 or s >= w:
                        continue
                    for d in range(c):
                        if masked and picks[b, p, q, d] != k:
                            continue
                        if assign:
                            out[b, r, s, d] = values[b, p, q, d]
                        else:
                            out[b, r, s, d] = out[b, r, s, d] + values[b, p, q, d]


_NO_PICKS = np.empty((0, 0, 0, 0), np.int64)


def max_pool_grad(x, grad, kh, kw, stride_h, stride_w, pad_top, pad_left, assign, out) -> None:
    """``out`` (x's shape) must hold +0.0 everywhere on entry."""
    picks = _max_pool_picks(x, grad.shape[1], grad.shape[2], kh, kw, stride_h, stride_w, pad_top, pad_left)
    _scatter_windows(grad, picks, True, kh, kw, stride_h, stride_w, pad_top, pad_left, assign, out)


@lazy_njit
def avg_pool(x, kh, kw, stride_h, stride_w, pad_top, pad_left, counts, out):
    """``counts`` [1, OH, OW, 1]: real elements per window, in x's type. Each output adds
    its window row-major (channels innermost)."""
    n, h, w, c = x.shape
    _, oh, ow, _ = out.shape
    out[...] = 0.0
    for b in range(n):
        for p in range(oh):
            for i in range(kh):
                r = p * stride_h + i - pad_top
                if r < 0 or r >= h:
                    continue
                for q in range(ow):
                    for j in range(kw):
                        s = q * stride_w + j - pad_left
                        if s < 0 or s >= w:
                            continue
                        for d in range(c):
                            out[b, p, q, d] = out[b, p, q, d] + x[b, r, s, d]
            for q in range(ow):
                for d in range(c):
                    out[b, p, q, d] = out[b, p, q, d] / counts[0, p, q, 0]


def avg_pool_grad(grad, kh, kw, stride_h, stride_w, pad_top, pad_left, counts, assign, out) -> None:
    """``out`` (the input's shape) must hold +0.0 everywhere on entry; ``counts`` as for
    avg_pool, in grad's type. Each window's share, grad / count, goes to all its elements."""
    _scatter_windows(grad / counts, _NO_PICKS, False, kh, kw, stride_h, stride_w, pad_top, pad_left, assign, out)
