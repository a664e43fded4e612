"""Top-k family: TopKV2 (values and indices, descending, ties to the lower index),
InTopKV2 / InTopK (is the target among the k best), NthElement.

InTopK takes ``k`` as an attr, InTopKV2 as a scalar input; both share one body. The V1
``TopK`` op has no CPU kernel in TF 2.21 (its kernel constrains an attr the op lacks), so
it has none here either.
"""
from __future__ import annotations

import numpy as np

from orchestrator.dtypes import DType, numpy_dtype
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.nn_ops import is_float
from orchestrator.ops.registry import kernel


def _scalar_int(op: str, name: str, value: np.ndarray | int) -> int:
    value = np.asarray(value)
    if value.ndim != 0:
        raise InvalidArgumentError(f"{op}: {name} must be a scalar, found shape {list(value.shape)}")
    return int(value)


def _top_k(op: str, x: np.ndarray, k: int, index_type: DType) -> tuple[np.ndarray, np.ndarray]:
    if k < 0:
        raise InvalidArgumentError(f"{op}: need k >= 0, got {k}")
    if x.ndim < 1:
        raise InvalidArgumentError(f"{op}: input must be >= 1-D, found a scalar")
    n = x.shape[-1]
    if n < k:
        raise InvalidArgumentError(f"{op}: input must have at least k columns: had {n}, needed {k}")
    if 0 < k * 4 < n and not (is_float(x.dtype) and np.isnan(x).any()):
        indices = _top_k_by_partition(x, k)
    else:
        indices = _descending_order(x)[..., :k]
    return np.take_along_axis(x, indices, axis=-1), indices.astype(numpy_dtype(index_type))


def _descending_order(x: np.ndarray) -> np.ndarray:
    """Indices sorting the last axis descending, ties to the lower index: a stable ascending
    sort of the reversed row read backwards (no negation, which would wrap unsigned ints)."""
    n = x.shape[-1]
    return (n - 1) - np.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1]


def _top_k_by_partition(x: np.ndarray, k: int) -> np.ndarray:
    """Top-k indices without sorting whole rows: everything above the k-th largest value, plus
    the lowest-indexed elements equal to it, then those k sorted (O(n) + O(k log k) per row)."""
    n = x.shape[-1]
    rows = x.reshape(-1, n)
    kth = np.partition(rows, n - k, axis=-1)[:, n - k:n - k + 1]
    above = rows > kth
    ties = rows == kth
    room = k - above.sum(axis=1, keepdims=True)
    chosen = above | (ties & (np.cumsum(ties, axis=1) <= room))
    picked = np.nonzero(chosen)[1].reshape(-1, k)           # ascending index within each row
    order = _descending_order(np.take_along_axis(rows, picked, axis=1))
    return np.take_along_axis(picked, order, axis=1).reshape(x.shape[:-1] + (k,))


@kernel("TopKV2", multi=True)
def top_k_v2(input: np.ndarray, k: np.ndarray, *, sorted: bool = True,
             index_type: DType = DType.INT32) -> tuple[np.ndarray, np.ndarray]:
    # sorted=False lets TF return any order; sorting is one valid choice.
    return _top_k("TopKV2", input, _scalar_int("TopKV2", "k", k), index_type)


def _in_top_k(op: str, predictions: np.ndarray, targets: np.ndarray, k: int) -> np.ndarray:
    """True where fewer than k classes score strictly higher than the target; False for a
    target out of range or a row holding any non-finite prediction (TF cannot say)."""
    if predictions.ndim != 2 or targets.ndim != 1 or targets.shape[0] != predictions.shape[0]:
        raise InvalidArgumentError(
            f"{op}: predictions must be 2-D and targets 1-D of the same length; found predictions "
            f"shape {list(predictions.shape)}, targets shape {list(targets.shape)}")
    classes = predictions.shape[1]
    valid = (targets >= 0) & (targets < classes)
    rows = np.arange(predictions.shape[0])
    target_score = predictions[rows, np.where(valid, targets, 0)] if classes else \
        np.zeros(predictions.shape[0], predictions.dtype)
    higher = (predictions > target_score[:, None]).sum(axis=1)
    return valid & np.isfinite(predictions).all(axis=1) & (higher < k)


@kernel("InTopKV2")
def in_top_k_v2(predictions: np.ndarray, targets: np.ndarray, k: np.ndarray) -> np.ndarray:
    return _in_top_k("InTopKV2", predictions, targets, _scalar_int("InTopKV2", "k", k))


@kernel("InTopK")
def in_top_k(predictions: np.ndarray, targets: np.ndarray, *, k: int) -> np.ndarray:
    return _in_top_k("InTopK", predictions, targets, int(k))


@kernel("NthElement")
def nth_element(input: np.ndarray, n: np.ndarray, *, reverse: bool = False) -> np.ndarray:
    """The n-th smallest (n-th largest with reverse) value along the last axis."""
    op = "NthElement"
    n = _scalar_int(op, "n", n)
    if input.ndim < 1:
        raise InvalidArgumentError(f"{op}: input must be at least rank 1, found a scalar")
    depth = input.shape[-1]
    if not 0 <= n < depth:
        raise InvalidArgumentError(f"{op}: n must be in [0, {depth}) (the last dimension), got {n}")
    position = depth - 1 - n if reverse else n
    return np.partition(input, position, axis=-1)[..., position]
