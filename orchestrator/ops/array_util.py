"""Small helpers the array kernel modules share: reading shape/axis tensors and
formatting shapes the way TF's messages print them (``[2,3]``, ``?`` for unknown)."""
from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError


def shape_str(shape: Any) -> str:
    """TF's TensorShape::DebugString: ``[2,3]``; unknown dims as ``?``, unknown rank ``<unknown>``."""
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None or d < 0 else str(int(d)) for d in shape) + "]"


def int_vector(op: str, what: str, value: Any) -> list[int]:
    """A 1-D (or scalar) integer tensor input as a list of Python ints."""
    arr = np.asarray(value)
    if arr.ndim > 1:
        raise InvalidArgumentError(f"{op}: {what} must be a vector, found shape {shape_str(arr.shape)}")
    if arr.dtype.kind not in "iu":
        raise InvalidArgumentError(f"{op}: {what} must be an integer tensor, found dtype {arr.dtype}")
    return arr.tolist() if arr.ndim == 1 else [arr.item()]


def int_scalar(op: str, what: str, value: Any) -> int:
    """A scalar (or one-element) integer tensor input as a Python int."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise InvalidArgumentError(f"{op}: {what} must be a scalar, found shape {shape_str(arr.shape)}")
    if arr.dtype.kind not in "iu":
        raise InvalidArgumentError(f"{op}: {what} must be an integer, found dtype {arr.dtype}")
    return arr.item()


def normalize_axis(op: str, axis: int, rank: int, what: str = "axis") -> int:
    """``axis`` in [-rank, rank) mapped to [0, rank); InvalidArgumentError otherwise."""
    if not -rank <= axis < rank:
        raise InvalidArgumentError(
            f"{op}: expected {what} in the range [{-rank}, {rank}), but got {axis}")
    return axis + rank if axis < 0 else axis


def index_str(shape: tuple[int, ...], flat_position: int) -> str:
    """TF's SliceDebugString: the multi-index of a flat position, e.g. ``[1,0]``."""
    if not shape:
        return ""
    return "[" + ",".join(str(int(i)) for i in np.unravel_index(flat_position, shape)) + "]"


# Up to this many indices (an embedding batch), min/max of a Python list beat two numpy
# reductions, whose per-call overhead dominates at that size.
_SMALL_INDEX_COUNT = 64


def indices_in_range(indices: np.ndarray, limit: int) -> bool:
    """Whether every element of the integer array ``indices`` is in [0, limit)."""
    if not indices.size:
        return True
    if indices.size <= _SMALL_INDEX_COUNT:
        listed = indices.ravel().tolist()
        return min(listed) >= 0 and max(listed) < limit
    return bool(indices.min() >= 0 and indices.max() < limit)


def first_bad(mask: np.ndarray) -> int:
    """Flat position of the first True element of ``mask``."""
    return int(np.flatnonzero(mask.reshape(-1))[0])


def zero_of(dtype: np.dtype) -> Any:
    """The value TF fills new elements with: 0, False, or the empty string."""
    return b"" if dtype == object else np.zeros((), dtype)


def zeros(shape: Any, dtype: np.dtype) -> np.ndarray:
    """A zero-filled array; string tensors are filled with ``b""`` as TF does."""
    if dtype == object:
        return np.full(shape, b"", dtype=object)
    return np.zeros(shape, dtype)
