"""``TensorListConcatLists``: element-wise concatenation of two (batches of) TensorLists.

The inputs are DT_VARIANT tensors of one shape — a 0-d one holds a single list, a vector
holds a batch of lists (as ``TensorListPushBackBatch`` makes them) — and output ``i`` is
list ``a[i]`` followed by the elements of ``b[i]``, with ``a[i]``'s element shape and
``max_num_elements`` (TF copies ``a[i]`` and appends). Both lists must hold
``element_dtype`` and have *identical* element shapes (not merely compatible:
``[?]`` and ``[2]`` differ). Inputs are left as they are: lists have value semantics
(see :mod:`list_ops`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.collection_ops import attr_numpy_dtype, dtype_name, shape_str
from orchestrator.ops.list_ops import TensorList
from orchestrator.ops.registry import kernel

_OP = "TensorListConcatLists"


def _variant_batch(what: str, value: Any) -> np.ndarray:
    value = np.asarray(value)
    if value.dtype != object:
        raise InvalidArgumentError(f"{_OP}: {what} must be a variant tensor of TensorLists, found "
                                   f"dtype {value.dtype}")
    return value


def _list_at(what: str, flat: np.ndarray, i: int) -> TensorList:
    item = flat[i]
    if not isinstance(item, TensorList):
        raise InvalidArgumentError(f"{_OP}: {what} is not a TensorList at index {i}.  Saw: "
                                   f"'{type(item).__name__}'")
    return item


@kernel("TensorListConcatLists")
def tensor_list_concat_lists(input_a: Any, input_b: Any, *, element_dtype: DType = DType.FLOAT) -> np.ndarray:
    a, b = _variant_batch("input_a", input_a), _variant_batch("input_b", input_b)
    if a.shape != b.shape:
        raise InvalidArgumentError(f"{_OP}: Incompatible input TensorList tensor shapes: "
                                   f"{shape_str(a.shape)} vs. {shape_str(b.shape)}")
    want = attr_numpy_dtype(element_dtype)
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    out = np.empty(a.shape, dtype=object)
    flat_out = out.reshape(-1)
    for i in range(flat_a.size):
        la, lb = _list_at("input_a", flat_a, i), _list_at("input_b", flat_b, i)
        for name, tl in (("input_a", la), ("input_b", lb)):
            if tl.element_dtype != want:
                raise InvalidArgumentError(f"{_OP}: {name}[{i}].dtype != element_dtype.  Saw: "
                                           f"{dtype_name(tl.element_dtype)} vs. {dtype_name(want)}")
        if la.element_shape != lb.element_shape:
            raise InvalidArgumentError(f"{_OP}: input_a and input_b TensorList element shapes are not "
                                       f"identical at index {i}.  Saw {shape_str(la.element_shape)} vs. "
                                       f"{shape_str(lb.element_shape)}")
        flat_out[i] = la.with_tensors(la.tensors + lb.tensors)
    return out
