"""Activations and their gradients, BiasAdd, softmax and the softmax losses, L2Loss.

Formulas follow TF's CPU kernels where the choice shows in the last bits: Elu/Selu use
``exp(x) - 1`` (not ``expm1``), Softplus switches to ``x`` / ``exp(x)`` outside a
threshold of ``log(eps) + 2``, the grads multiply by a 0/1 mask (so NaN gradients stay
NaN), softmax subtracts the row maximum first. Top-k lives in topk_ops.py; convolutions,
pooling and normalisation in conv_ops.py, depthwise_ops.py, pool_ops.py (+ pool_tiles.py,
pool_argmax_ops.py), conv3d_ops.py, pool3d_ops.py and norm_ops.py.
"""
from __future__ import annotations

import functools

import ml_dtypes
import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops import nn_loops
from orchestrator.ops.registry import kernel

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def data_format_str(data_format: bytes | str) -> str:
    """Attr strings arrive as bytes from the graph; accept str too (direct calls)."""
    return data_format.decode() if isinstance(data_format, bytes) else str(data_format)


def is_float(dtype: np.dtype) -> bool:
    """Floating point, bfloat16 included (numpy files ml_dtypes' bfloat16 under kind 'V')."""
    return dtype.kind == "f" or dtype == ml_dtypes.bfloat16


def finfo(dtype: np.dtype) -> ml_dtypes.finfo:
    """np.finfo that also knows bfloat16."""
    return ml_dtypes.finfo(dtype)


def accumulator(dtype: np.dtype) -> np.dtype:
    """The type sums run in: float32 for the 16-bit floats (TF's accumulator type for them)."""
    return np.dtype(np.float32) if dtype in _SIXTEEN_BIT else dtype


_SIXTEEN_BIT = {np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)}


def _scalar(x: np.ndarray, value: float) -> np.generic:
    """``value`` in x's dtype, so float16/float32 arithmetic is not promoted."""
    return x.dtype.type(value)


def _float_attr(x: np.ndarray, value: float) -> np.generic:
    """A float attr as the kernel sees it: TF stores attrs as float32, then casts to T
    (so alpha=0.1 on float64 data is 0.10000000149011612)."""
    return x.dtype.type(np.float32(value))


def _check_same_shape(op: str, gradients: np.ndarray, other: np.ndarray, other_name: str) -> None:
    if gradients.shape != other.shape:
        raise InvalidArgumentError(
            f"{op}: gradients shape {list(gradients.shape)} and {other_name} shape "
            f"{list(other.shape)} must be the same")


# ---------------------------------------------------------------------- activations

@kernel("Relu")
def relu(features: np.ndarray) -> np.ndarray:
    return np.maximum(features, _scalar(features, 0))   # NaN stays NaN, as in TF


@kernel("Relu6")
def relu6(features: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(features, _scalar(features, 0)), _scalar(features, 6))


@kernel("LeakyRelu")
def leaky_relu(features: np.ndarray, *, alpha: float = 0.2) -> np.ndarray:
    # A select, not max(x, alpha*x): the two differ when alpha > 1.
    return np.where(features > 0, features, features * _float_attr(features, alpha))


@kernel("Elu")
def elu(features: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):   # exp of large positives overflows in the unused branch
        return np.where(features < 0, np.exp(features) - _scalar(features, 1), features)


@kernel("Selu")
def selu(features: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):   # exp of large positives overflows in the unused branch
        negative = _scalar(features, SELU_SCALE * SELU_ALPHA) * (np.exp(features) - _scalar(features, 1))
    return np.where(features < 0, negative, features * _scalar(features, SELU_SCALE))


@kernel("Softplus")
def softplus(features: np.ndarray) -> np.ndarray:
    # Outside +-threshold log1p(exp(x)) equals x (or exp(x)) to working precision.
    threshold = np.log(finfo(features.dtype).eps) + 2
    with np.errstate(over="ignore"):
        exp = np.exp(features)
        result = np.where(features < threshold, exp, np.log1p(exp))
    return np.where(features > -threshold, features, result).astype(features.dtype, copy=False)


@kernel("Softsign")
def softsign(features: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):   # inf / inf = NaN, as TF gives
        return features / (_scalar(features, 1) + np.abs(features))


def _register_masked_grad(op: str, mask_fn, capped: bool) -> None:
    @kernel(op)
    def masked_grad(gradients: np.ndarray, features: np.ndarray) -> np.ndarray:
        _check_same_shape(op, gradients, features, "features")
        fast = nn_loops.relu_gradients(gradients, features, capped)   # one pass, same bits
        if fast is not None:
            return fast
        return gradients * mask_fn(features).astype(gradients.dtype)

    masked_grad.__name__ = masked_grad.__qualname__ = op


_register_masked_grad("ReluGrad", lambda f: f > 0, capped=False)
_register_masked_grad("Relu6Grad", lambda f: (f > 0) & (f < 6), capped=True)


@kernel("LeakyReluGrad")
def leaky_relu_grad(gradients: np.ndarray, features: np.ndarray, *, alpha: float = 0.2) -> np.ndarray:
    _check_same_shape("LeakyReluGrad", gradients, features, "features")
    return np.where(features > 0, gradients, gradients * _float_attr(gradients, alpha))


@kernel("EluGrad")
def elu_grad(gradients: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    _check_same_shape("EluGrad", gradients, outputs, "outputs")
    return np.where(outputs < 0, gradients * (outputs + _scalar(outputs, 1)), gradients)


@kernel("SeluGrad")
def selu_grad(gradients: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    _check_same_shape("SeluGrad", gradients, outputs, "outputs")
    negative = gradients * (outputs + _scalar(outputs, SELU_SCALE * SELU_ALPHA))
    return np.where(outputs < 0, negative, gradients * _scalar(gradients, SELU_SCALE))


@kernel("SoftplusGrad")
def softplus_grad(gradients: np.ndarray, features: np.ndarray) -> np.ndarray:
    _check_same_shape("SoftplusGrad", gradients, features, "features")
    with np.errstate(over="ignore"):
        return gradients / (_scalar(features, 1) + np.exp(-features))


@kernel("SoftsignGrad")
def softsign_grad(gradients: np.ndarray, features: np.ndarray) -> np.ndarray:
    _check_same_shape("SoftsignGrad", gradients, features, "features")
    denominator = _scalar(features, 1) + np.abs(features)
    return gradients / (denominator * denominator)


# ----------------------------------------------------------------------------- bias

def _bias_axis(op: str, value: np.ndarray, data_format: bytes | str) -> int:
    return _cached_bias_axis(op, value.ndim, value.shape, data_format)


@functools.lru_cache(maxsize=256)
def _cached_bias_axis(op: str, ndim: int, shape: tuple[int, ...], data_format: bytes | str) -> int:
    if ndim < 2:
        raise InvalidArgumentError(f"{op}: input tensor must be at least 2-D, found shape "
                                   f"{list(shape)}")
    fmt = data_format_str(data_format)
    if fmt.startswith("NC"):
        return 1
    if fmt.startswith("N") and fmt.endswith("C"):
        return ndim - 1
    raise InvalidArgumentError(f"{op}: unknown data_format {fmt!r} (expected NHWC or NCHW)")


def _bias_add(op: str, value: np.ndarray, bias: np.ndarray, data_format: bytes | str) -> np.ndarray:
    if data_format == b"NHWC" and value.ndim >= 2 and bias.ndim == 1 and bias.shape[0] == value.shape[-1]:
        return np.add(value, bias)      # the usual case, decided without the general checks
    axis = _bias_axis(op, value, data_format)
    if bias.ndim != 1 or bias.shape[0] != value.shape[axis]:
        raise InvalidArgumentError(
            f"{op}: bias must be 1-D with as many elements as dimension {axis} of the input "
            f"({value.shape[axis]}, {data_format_str(data_format)}); found bias shape "
            f"{list(bias.shape)} for input shape {list(value.shape)}")
    if axis == value.ndim - 1:
        return np.add(value, bias)      # a 1-D bias broadcasts along the last axis as it is
    return value + bias.reshape((-1,) + (1,) * (value.ndim - 1 - axis))


@kernel("BiasAdd")
def bias_add(value: np.ndarray, bias: np.ndarray, *, data_format: bytes = b"NHWC") -> np.ndarray:
    return _bias_add("BiasAdd", value, bias, data_format)


@kernel("BiasAddV1")
def bias_add_v1(value: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The original op: no data_format attr, the bias always goes on the last dimension."""
    return _bias_add("BiasAddV1", value, bias, b"NHWC")


_COLUMN_SUM_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


@kernel("BiasAddGrad")
def bias_add_grad(out_backprop: np.ndarray, *, data_format: bytes = b"NHWC") -> np.ndarray:
    axis = _bias_axis("BiasAddGrad", out_backprop, data_format)
    channels = out_backprop.shape[axis]
    if axis == out_backprop.ndim - 1 and out_backprop.dtype in _COLUMN_SUM_DTYPES and channels > 1 \
            and out_backprop.size and out_backprop.flags.c_contiguous:
        # The add.reduce below as one compiled loop (~6 us of numpy wrappers on small grads);
        # one channel is left to it (its reduction then runs pairwise along the row).
        total = np.empty(channels, out_backprop.dtype)
        nn_loops.column_sums(out_backprop.reshape(-1, channels), total)
        return total
    # TF sums 16-bit floats in float32 and rounds once at the end.
    acc = accumulator(out_backprop.dtype)
    if axis == out_backprop.ndim - 1 and out_backprop.flags.c_contiguous and out_backprop.size:
        # The same row-by-row reduction numpy runs over the leading axes, without its wrappers.
        total = np.add.reduce(out_backprop.reshape(-1, out_backprop.shape[-1]), axis=0, dtype=acc)
    else:
        total = out_backprop.sum(axis=tuple(a for a in range(out_backprop.ndim) if a != axis), dtype=acc)
    return total.astype(out_backprop.dtype, copy=False)


# -------------------------------------------------------------------------- softmax

def _check_logits(op: str, logits: np.ndarray) -> None:
    if logits.ndim < 1:
        raise InvalidArgumentError(f"{op}: logits must have >= 1 dimension, found a scalar")


@kernel("Softmax")
def softmax(logits: np.ndarray) -> np.ndarray:
    _check_logits("Softmax", logits)
    if logits.size == 0:
        return np.empty_like(logits)
    fast = nn_loops.softmax(logits)
    if fast is not None:
        return fast
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


@kernel("LogSoftmax")
def log_softmax(logits: np.ndarray) -> np.ndarray:
    _check_logits("LogSoftmax", logits)
    if logits.size == 0:
        return np.empty_like(logits)
    fast = nn_loops.log_softmax(logits)
    if fast is not None:
        return fast
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _shifted_and_log_sum(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(logits - row max, exp of that, log of its row sum) for a 2-D batch."""
    # ufunc reductions called directly: the ndarray methods add a Python wrapper per call
    shifted = logits - np.maximum.reduce(logits, axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = np.add.reduce(exp, axis=1, keepdims=True)
    return shifted, np.divide(exp, total, out=exp), np.log(total)


@kernel("SoftmaxCrossEntropyWithLogits", multi=True)
def softmax_cross_entropy_with_logits(features: np.ndarray, labels: np.ndarray
                                      ) -> tuple[np.ndarray, np.ndarray]:
    op = "SoftmaxCrossEntropyWithLogits"
    try:
        shape = np.broadcast_shapes(features.shape, labels.shape)
    except ValueError:
        raise InvalidArgumentError(
            f"{op}: logits and labels must be broadcastable: logits shape {list(features.shape)}, "
            f"labels shape {list(labels.shape)}") from None
    if len(shape) != 2:
        raise InvalidArgumentError(
            f"{op}: logits and labels must be 2-D (or broadcast to 2-D); found logits shape "
            f"{list(features.shape)}, labels shape {list(labels.shape)}")
    fast = nn_loops.softmax_cross_entropy(features, labels)
    if fast is not None:
        return fast
    logits = np.broadcast_to(features, shape)
    labels = np.broadcast_to(labels, shape)
    if logits.size == 0:
        return np.zeros(shape[0], features.dtype), np.zeros(shape, features.dtype)
    shifted, probs, log_sum = _shifted_and_log_sum(logits)
    with np.errstate(invalid="ignore"):   # 0 * inf = NaN for -inf logits, as TF gives
        loss = (labels * (log_sum - shifted)).sum(axis=1)
    return loss, probs - labels


@kernel("SparseSoftmaxCrossEntropyWithLogits", multi=True)
def sparse_softmax_cross_entropy_with_logits(features: np.ndarray, labels: np.ndarray
                                             ) -> tuple[np.ndarray, np.ndarray]:
    op = "SparseSoftmaxCrossEntropyWithLogits"
    if features.ndim != 2 or labels.ndim != 1 or labels.shape[0] != features.shape[0]:
        raise InvalidArgumentError(
            f"{op}: logits must be 2-D and labels 1-D with the same first dimension; found logits "
            f"shape {list(features.shape)}, labels shape {list(labels.shape)}")
    fast = nn_loops.sparse_softmax_cross_entropy(features, labels)
    if fast is not None:
        return fast
    batch, classes = features.shape
    # Negative labels wrap to huge unsigned values: one comparison finds both kinds of bad label.
    if labels.size and labels.view(_UNSIGNED[labels.dtype.itemsize]).max() >= classes:
        bad = (labels < 0) | (labels >= classes)
        raise InvalidArgumentError(
            f"{op}: received a label value of {int(labels[np.argmax(bad)])} which is outside the "
            f"valid range of [0, {classes}). Label values: {' '.join(map(str, labels.tolist()[:20]))}")
    if features.size == 0:
        return np.zeros(features.shape[0], features.dtype), np.zeros_like(features)
    shifted, probs, log_sum = _shifted_and_log_sum(features)
    picked = _row_starts(batch, classes) + labels            # flat index of each row's label
    loss = log_sum[:, 0] - shifted.reshape(-1).take(picked)
    backprop = probs.reshape(-1)                              # a fresh array: updated in place
    backprop[picked] -= _scalar(backprop, 1)
    return loss, probs


_UNSIGNED = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16), 4: np.dtype(np.uint32), 8: np.dtype(np.uint64)}


@functools.lru_cache(maxsize=64)
def _row_starts(batch: int, classes: int) -> np.ndarray:
    starts = np.arange(batch, dtype=np.intp) * classes
    starts.flags.writeable = False
    return starts


@kernel("L2Loss")
def l2_loss(t: np.ndarray) -> np.ndarray:
    # float32 accumulation for float16 (TF's sum rounds the half squares once more; within 1e-3).
    acc = accumulator(t.dtype)
    total = np.square(t, dtype=acc).sum(dtype=acc) * acc.type(0.5)
    return np.asarray(total, dtype=t.dtype)
