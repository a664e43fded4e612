"""Compiled loops (ops/jit.py) behind nn_ops.py's softmax losses and BiasAddGrad on small
float32/float64 tensors, where the numpy forms are a dozen calls of ~1 us each.

np.exp and np.log stay numpy's (its vectorised exp/log are not libm's); everything
around them is exact IEEE arithmetic in the tensors' type, so the loops reproduce the
numpy forms' bits, sums included: numpy's add.reduce over a contiguous row is +0 plus
its pairwise sum (8 accumulators over blocks of 8, combined pairwise, then the tail;
rows of <= 128 elements are one block, the only ones taken here), and over the leading
axis of a [R, C >= 2] array it adds one row after another from +0. The softmax losses
take finite logits only (NaN payloads and inf - inf are left to numpy); the row max's
+0/-0 choice cannot show in their outputs (exp(+-0) = 1 and log(row sum) >= 0).
"""
from __future__ import annotations

import numpy as np

from orchestrator.ops.jit import lazy_njit

_FLOATS = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
_ONE = {dtype: dtype.type(1) for dtype in _FLOATS}
_ZERO = {dtype: dtype.type(0) for dtype in _FLOATS}
_MAX_ROW = 128                                     # one pairwise block of numpy's sum


@lazy_njit
def column_sums(rows, out):
    """out[c] = 0 + rows[0, c] + rows[1, c] + ... (rows: C-contiguous [R, C >= 2])."""
    for c in range(rows.shape[1]):
        out[c] = 0.0
    for r in range(rows.shape[0]):
        for c in range(rows.shape[1]):
            out[c] = out[c] + rows[r, c]


@lazy_njit
def masked_gradients(gradients, features, capped, zero, one, out):
    """out = gradients * (1 if 0 < features (< 6 when ``capped``) else 0), the mask in
    the gradients' type as numpy's astype makes it: a NaN/inf gradient times 0 stays NaN."""
    grad, feat, result = gradients.reshape(-1), features.reshape(-1), out.reshape(-1)
    for i in range(grad.size):
        f = feat[i]
        mask = one if f > 0 and (not capped or f < 6) else zero
        result[i] = grad[i] * mask


@lazy_njit
def _shift(logits, shifted):
    """shifted = logits - row max; False when a logit is not finite."""
    batch, classes = logits.shape
    for b in range(batch):
        top = logits[b, 0]
        for k in range(classes):
            v = logits[b, k]
            if not np.isfinite(v):
                return False
            if v > top:
                top = v
        for k in range(classes):
            shifted[b, k] = logits[b, k] - top
    return True


@lazy_njit
def _row_sums(values, total, normalise):
    """total[b, 0] = 0 + numpy's pairwise sum of row b (<= 128 long); then, if
    ``normalise``, values[b] /= total[b, 0]."""
    batch, n = values.shape
    lanes = np.empty(8, values.dtype)
    for b in range(batch):
        total[b, 0] = 0.0
        if n < 8:
            row_sum = total[b, 0]                     # +0 in the row's type
            for k in range(n):
                row_sum = row_sum + values[b, k]
        else:
            for j in range(8):
                lanes[j] = values[b, j]
            whole = n - n % 8
            for i in range(8, whole, 8):
                for j in range(8):
                    lanes[j] = lanes[j] + values[b, i + j]
            row_sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + \
                ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
            for k in range(whole, n):
                row_sum = row_sum + values[b, k]
        total[b, 0] = total[b, 0] + row_sum
        if normalise:
            for k in range(n):
                values[b, k] = values[b, k] / total[b, 0]


@lazy_njit
def _sparse_finish(shifted, labels, log_total, one, probs, loss):
    """loss[b] = log(total[b]) - shifted[b, label]; probs[b, label] -= 1 (the backprop);
    False (outputs unfinished) for a label out of range. ``one`` in the logits' type (an
    integer 1 would make numba subtract in float64)."""
    batch, classes = shifted.shape
    for b in range(batch):
        if labels[b] < 0 or labels[b] >= classes:
            return False
    for b in range(batch):
        label = labels[b]
        loss[b] = log_total[b, 0] - shifted[b, label]
        probs[b, label] = probs[b, label] - one
    return True


@lazy_njit
def _dense_finish(shifted, labels, log_total, probs, terms):
    """terms = labels * (log(total) - shifted) (the loss's summands); probs -= labels."""
    batch, classes = shifted.shape
    for b in range(batch):
        for k in range(classes):
            terms[b, k] = labels[b, k] * (log_total[b, 0] - shifted[b, k])
            probs[b, k] = probs[b, k] - labels[b, k]


def _softmax_parts(features: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(shifted logits, softmax, log of the row sums of exp) or None when the loops do not apply."""
    if not (features.dtype in _FLOATS and features.ndim == 2 and features.shape[0]
            and 0 < features.shape[1] <= _MAX_ROW and features.flags.c_contiguous):
        return None
    shifted = np.empty_like(features)
    if not _shift(features, shifted):
        return None
    probs = np.exp(shifted)
    total = np.empty((features.shape[0], 1), features.dtype)
    _row_sums(probs, total, True)
    return shifted, probs, np.log(total)


@lazy_njit
def _subtract_row_values(shifted, log_total):
    """shifted[b] -= log_total[b, 0] (LogSoftmax's last step)."""
    for b in range(shifted.shape[0]):
        for k in range(shifted.shape[1]):
            shifted[b, k] = shifted[b, k] - log_total[b, 0]


def relu_gradients(gradients: np.ndarray, features: np.ndarray, capped: bool) -> np.ndarray | None:
    """ReluGrad (Relu6Grad when ``capped``) of same-shape float32/float64 C-contiguous
    tensors of one type, or None."""
    if type(gradients) is not np.ndarray or type(features) is not np.ndarray:
        return None
    dtype = gradients.dtype
    if not (dtype in _FLOATS and features.dtype is dtype and gradients.flags.c_contiguous
            and features.flags.c_contiguous):
        return None
    out = np.empty(gradients.shape, dtype)
    masked_gradients(gradients, features, capped, _ZERO[dtype], _ONE[dtype], out)
    return out


def _as_rows(logits: np.ndarray) -> np.ndarray | None:
    """logits as C-contiguous [rows, classes] for the loops, or None."""
    if not (logits.dtype in _FLOATS and logits.ndim and logits.size and 0 < logits.shape[-1] <= _MAX_ROW
            and logits.flags.c_contiguous):
        return None
    return logits.reshape(-1, logits.shape[-1])


def _shifted_rows(logits: np.ndarray) -> np.ndarray | None:
    """x - row max over the last axis, as [rows, classes], or None (the numpy form runs)."""
    rows = _as_rows(logits)
    if rows is None:
        return None
    shifted = np.empty_like(rows)
    return shifted if _shift(rows, shifted) else None


def softmax(logits: np.ndarray) -> np.ndarray | None:
    """Softmax over the last axis (exp(x - max) / row sum), or None."""
    shifted = _shifted_rows(logits)
    if shifted is None:
        return None
    probs = np.exp(shifted)
    _row_sums(probs, np.empty((shifted.shape[0], 1), shifted.dtype), True)
    return probs.reshape(logits.shape)


def log_softmax(logits: np.ndarray) -> np.ndarray | None:
    """LogSoftmax over the last axis (x - max - log(row sum of exp)), or None."""
    shifted = _shifted_rows(logits)
    if shifted is None:
        return None
    total = np.empty((shifted.shape[0], 1), shifted.dtype)
    _row_sums(np.exp(shifted), total, False)
    _subtract_row_values(shifted, np.log(total))
    return shifted.reshape(logits.shape)


def sparse_softmax_cross_entropy(features: np.ndarray, labels: np.ndarray
                                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """(loss, backprop) of SparseSoftmaxCrossEntropyWithLogits (shapes already checked),
    or None: the numpy form then runs (and reports bad labels)."""
    if labels.dtype.kind != "i":
        return None
    parts = _softmax_parts(features)
    if parts is None:
        return None
    shifted, probs, log_total = parts
    loss = np.empty(features.shape[0], features.dtype)
    if not _sparse_finish(shifted, labels, log_total, _ONE[features.dtype], probs, loss):
        return None
    return loss, probs


def softmax_cross_entropy(features: np.ndarray, labels: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray] | None:
    """(loss, backprop) of SoftmaxCrossEntropyWithLogits for same-shape 2-D logits and
    labels of one float type, or None (broadcasting and the rest: the numpy form)."""
    if type(labels) is not np.ndarray or labels.dtype is not features.dtype \
            or labels.shape != features.shape or not labels.flags.c_contiguous:
        return None
    parts = _softmax_parts(features)
    if parts is None:
        return None
    shifted, probs, log_total = parts
    terms = np.empty_like(features)
    _dense_finish(shifted, labels, log_total, probs, terms)
    loss = np.empty((features.shape[0], 1), features.dtype)
    _row_sums(terms, loss, False)
    return loss.reshape(features.shape[0]), probs
