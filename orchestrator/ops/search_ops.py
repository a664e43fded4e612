"""``LowerBound`` and ``UpperBound``: batched binary search (``tf.searchsorted``).

``sorted_inputs`` is ``[batch, n]`` and ``values`` ``[batch, m]``; output ``[b, j]`` is
the index of the first element of row ``b`` that is not less than (LowerBound) /
greater than (UpperBound) ``values[b, j]``, in ``out_type``.

TF runs ``std::lower_bound``/``std::upper_bound`` on each row. The halving loop below is
that algorithm step for step, over all values at once, so the results are TF's also where
``np.searchsorted`` would differ: NaN values or rows that are not actually sorted (numpy
orders NaN last; the C++ comparisons are simply false).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.array_util import shape_str
from orchestrator.ops.registry import kernel


def _check(op: str, sorted_inputs: np.ndarray, values: np.ndarray) -> None:
    for what, x in (("sorted_inputs", sorted_inputs), ("values", values)):
        if x.ndim != 2:
            raise InvalidArgumentError(f"{op}: Shape must be rank 2 but is rank {x.ndim} for `{what}` "
                                       f"argument (shape {shape_str(x.shape)})")
    if sorted_inputs.shape[0] != values.shape[0]:
        raise InvalidArgumentError(f"{op}: Leading dim_size of both tensors must match. sorted_inputs has "
                                   f"shape {shape_str(sorted_inputs.shape)}, values {shape_str(values.shape)}")


def _bound(op: str, sorted_inputs: Any, values: Any, out_type: DType, upper: bool) -> np.ndarray:
    sorted_inputs, values = np.asarray(sorted_inputs), np.asarray(values)
    _check(op, sorted_inputs, values)
    batch, n = sorted_inputs.shape
    first = np.zeros(values.shape, np.int64)
    if n == 0 or values.size == 0:
        return first.astype(out_type.numpy)
    length = np.full(values.shape, n, np.int64)
    rows = np.arange(batch)[:, None]
    while True:
        active = length > 0
        if not active.any():
            break
        half = length >> 1
        middle = np.minimum(first + half, n - 1)   # clipped only where length == 0 (inactive)
        probe = sorted_inputs[rows, middle]
        # lower_bound advances while element < value; upper_bound while !(value < element).
        advance = ~(values < probe) if upper else probe < values
        advance &= active
        first = np.where(advance, first + half + 1, first)
        length = np.where(advance, length - half - 1, np.where(active, half, 0))
    return first.astype(out_type.numpy)


@kernel("LowerBound")
def lower_bound(sorted_inputs: Any, values: Any, *, out_type: DType = DType.INT32) -> np.ndarray:
    return _bound("LowerBound", sorted_inputs, values, out_type, upper=False)


@kernel("UpperBound")
def upper_bound(sorted_inputs: Any, values: Any, *, out_type: DType = DType.INT32) -> np.ndarray:
    return _bound("UpperBound", sorted_inputs, values, out_type, upper=True)
