"""TensorList kernels that derive a new list from an old one (push/pop/set/resize/scatter
into/concat) and the variant arithmetic of list gradients. See :mod:`list_ops` for the
representation: every kernel here copies the element references and returns a new list;
the input list is left exactly as it was (TF's value semantics).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.collection_ops import (
    as_partial_shape, attr_numpy_dtype, dtype_name, is_compatible, is_fully_defined, merge_shapes,
    scalar_int, shape_from_tensor, shape_str,
)
from orchestrator.ops.list_ops import _OBJECT, TensorList, _check_dtype, _element_shape, as_variant, input_list
from orchestrator.ops.registry import kernel

_empty = np.empty


def _check_item(op: str, tl: TensorList, item: np.ndarray, what: str) -> None:
    if item.dtype is not tl.element_dtype and item.dtype != tl.element_dtype:
        raise InvalidArgumentError(f"{op}: Invalid data types; list elements {dtype_name(tl.element_dtype)} "
                                   f"but tried to {what} {dtype_name(item.dtype)}")
    if not is_compatible(tl.element_shape, item.shape):
        raise InvalidArgumentError(f"{op}: Tried to {what} a tensor with incompatible shape to a list. "
                                   f"Op element shape: {shape_str(item.shape)} list shape: "
                                   f"{shape_str(tl.element_shape)}")


@kernel("TensorListPushBack")
def tensor_list_push_back(input_handle: Any, tensor: Any, *,
                          element_dtype: DType = DType.FLOAT) -> np.ndarray:
    op = "TensorListPushBack"
    # input_list's and as_variant's common cases inline (v2 loops push ~50 times a step)
    tl = input_handle[()] if (type(input_handle) is np.ndarray and input_handle.dtype is _OBJECT
                              and not input_handle.shape) else None
    if type(tl) is not TensorList:
        tl = input_list(op, input_handle)
    item = tensor if type(tensor) is np.ndarray else np.asarray(tensor)
    # v2 loops push ~50 times a step: the common case (unbounded list, item of exactly the
    # list's dtype and shape) is recognised by identity/equality checks without helper calls.
    if not (tl.max_num_elements == -1 and item.dtype is tl.element_dtype
            and attr_numpy_dtype(element_dtype) is item.dtype
            and (tl.element_shape is None or tl.element_shape == item.shape)):
        _check_dtype(op, element_dtype, tl)
        _check_item(op, tl, item, "append")
        if tl.max_num_elements != -1 and len(tl.tensors) >= tl.max_num_elements:
            raise InvalidArgumentError(f"{op}: Tried to push item into a full list list size: "
                                       f"{len(tl.tensors)} max_num_elements: {tl.max_num_elements}")
    out = _empty((), _OBJECT)
    out[()] = TensorList(tl.tensors + [item], tl.element_shape, tl.element_dtype, tl.max_num_elements)
    return out


@kernel("TensorListPushBackBatch")
def tensor_list_push_back_batch(input_handles: Any, tensor: Any, *,
                                element_dtype: DType = DType.FLOAT) -> np.ndarray:
    op = "TensorListPushBackBatch"
    handles = np.asarray(input_handles)
    items = np.asarray(tensor)
    if handles.ndim != 1:
        raise InvalidArgumentError(f"{op}: Expected input_handles to be a vector, but saw shape: "
                                   f"{shape_str(handles.shape)}")
    if items.ndim == 0 or items.shape[0] != handles.shape[0]:
        raise InvalidArgumentError(f"{op}: Expected tensor.shape[0] == input_handles.size, but saw "
                                   f"{shape_str(items.shape)} vs. {handles.shape[0]}")
    out = np.empty(handles.shape, dtype=object)
    for b in range(handles.shape[0]):
        tl = input_list(op, handles[b])
        _check_dtype(op, element_dtype, tl)
        _check_item(op, tl, items[b], "append")
        out[b] = tl.with_tensors(tl.tensors + [np.array(items[b], copy=True)])
    return out


@kernel("TensorListPopBack", multi=True)
def tensor_list_pop_back(input_handle: Any, element_shape: Any, *,
                         element_dtype: DType = DType.FLOAT) -> tuple[np.ndarray, np.ndarray]:
    op = "TensorListPopBack"
    tl = input_handle[()] if (type(input_handle) is np.ndarray and input_handle.dtype is _OBJECT
                              and not input_handle.shape) else None
    if type(tl) is not TensorList:                # input_list's common case inline (as push's)
        tl = input_list(op, input_handle)
    dtype = attr_numpy_dtype(element_dtype)
    if dtype is not tl.element_dtype:             # identity: the cheap common case
        dtype = _check_dtype(op, element_dtype, tl)
    if not tl.tensors:
        raise InvalidArgumentError(f"{op}: Trying to pop from an empty list.")
    item = tl.tensors[-1]
    if item is not None:                          # v2 backprop pops ~50 times a step
        out = _empty((), _OBJECT)
        out[()] = TensorList(tl.tensors[:-1], tl.element_shape, tl.element_dtype, tl.max_num_elements)
        return out, item
    shape = _element_shape(op, tl, element_shape)
    if not is_fully_defined(shape):
        raise InvalidArgumentError(f"{op}: Trying to read an uninitialized tensor but element_shape is "
                                   f"not fully defined: {shape_str(shape)}")
    item = np.zeros(shape, dtype)
    return as_variant(tl.with_tensors(tl.tensors[:-1])), item


@kernel("TensorListSetItem")
def tensor_list_set_item(input_handle: Any, index: Any, item: Any, *, element_dtype: DType = DType.FLOAT,
                         resize_if_index_out_of_bounds: bool = False) -> np.ndarray:
    op = "TensorListSetItem"
    tl = input_list(op, input_handle)
    if attr_numpy_dtype(element_dtype) is not tl.element_dtype:   # identity: the cheap common case
        _check_dtype(op, element_dtype, tl)
    i = scalar_int(op, "index", index)
    n = len(tl.tensors)
    if i < 0 or (i >= n and not resize_if_index_out_of_bounds):
        raise InvalidArgumentError(f"{op}: Trying to modify element {i} in a list with {n} elements.")
    value = item if type(item) is np.ndarray else np.asarray(item)
    if tl.element_shape is not None and tl.element_shape != value.shape \
            and not is_compatible(tl.element_shape, value.shape):
        raise InvalidArgumentError(f"{op}: Tried to set a tensor with incompatible shape at a list index. "
                                   f"Item element shape: {shape_str(value.shape)} list shape: "
                                   f"{shape_str(tl.element_shape)}")
    tensors = tl.tensors + [None] * (i + 1 - n) if i >= n else list(tl.tensors)
    tensors[i] = value
    return as_variant(TensorList(tensors, tl.element_shape, tl.element_dtype, tl.max_num_elements))


@kernel("TensorListResize")
def tensor_list_resize(input_handle: Any, size: Any) -> np.ndarray:
    op = "TensorListResize"
    tl = input_list(op, input_handle)
    n = scalar_int(op, "size", size)
    if n < 0:
        raise InvalidArgumentError(f"{op}: TensorListSlice expects size to be non-negative. Got: {n}")
    tensors = tl.tensors[:n] + [None] * (n - len(tl.tensors))
    return as_variant(tl.with_tensors(tensors))


@kernel("TensorListScatterIntoExistingList")
def tensor_list_scatter_into_existing_list(input_handle: Any, tensor: Any, indices: Any, *,
                                           element_dtype: DType = DType.FLOAT) -> np.ndarray:
    op = "TensorListScatterIntoExistingList"
    tl = input_list(op, input_handle)
    value = np.asarray(tensor)
    if value.dtype != tl.element_dtype:
        raise InvalidArgumentError(f"{op}: Invalid data types; input tensor type: {dtype_name(value.dtype)} "
                                   f"list element_type: {dtype_name(tl.element_dtype)}")
    if value.ndim == 0:
        raise InvalidArgumentError(f"{op}: Tensor must be at least a vector, but saw shape: []")
    indices = np.asarray(indices)
    if indices.ndim != 1:
        raise InvalidArgumentError(f"{op}: Expected indices to be a vector, but received shape: "
                                   f"{shape_str(indices.shape)}")
    if indices.size != value.shape[0]:
        raise InvalidArgumentError(f"{op}: Expected len(indices) == tensor.shape[0], but saw: "
                                   f"{indices.size} vs. {value.shape[0]}")
    if indices.size and indices.min() < 0:
        raise InvalidArgumentError(f"{op}: indices must be non-negative, found {int(indices.min())}")
    if not is_compatible(tl.element_shape, value.shape[1:]):
        raise InvalidArgumentError(f"{op}: rows of shape {shape_str(value.shape[1:])} are incompatible "
                                   f"with the list's element shape {shape_str(tl.element_shape)}")
    highest = int(indices.max()) if indices.size else -1
    tensors = list(tl.tensors) + [None] * (highest + 1 - len(tl.tensors))
    rows = np.array(value, copy=True)
    for i, row in zip(indices.tolist(), rows):
        tensors[i] = row
    return as_variant(tl.with_tensors(tensors))


def _concat(op: str, tl: TensorList, first_dim: int | None, rest: Any,
            leading_dims: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """TensorListConcat(V2): elements joined on axis 0; unset ones are zeros whose leading
    size comes from element_shape[0] or ``leading_dims``."""
    if not tl.tensors and not is_fully_defined(rest):
        raise InvalidArgumentError(f"{op}: All except the first dimension must be fully defined when "
                                   f"concating an empty tensor list. element_shape: {shape_str(rest)}")
    if not is_fully_defined(tl.element_shape):
        check, inferred = first_dim is None, first_dim
        for i, t in enumerate(tl.tensors):
            if t is None:
                continue
            if t.ndim == 0:
                raise InvalidArgumentError(f"{op}: Concat saw a scalar shape at index {i} but requires at "
                                           f"least vectors.")
            rest = merge_shapes(op, rest, t.shape[1:])
            if first_dim is not None and first_dim != t.shape[0]:
                raise InvalidArgumentError(f"{op}: First entry of element_shape input does not match the "
                                           f"first dim of list element at index: {i} Expected: {first_dim} "
                                           f"Actual: {t.shape[0]}")
            if check:
                if inferred is None:
                    inferred = t.shape[0]
                elif inferred != t.shape[0]:
                    inferred, check = None, False
        first_dim = inferred
    if not is_fully_defined(rest):
        raise InvalidArgumentError(f"{op}: Trying to concat list with only uninitialized tensors but "
                                   f"element_shape_except_first_dim is not fully defined: {shape_str(rest)}")
    lengths = np.zeros(len(tl.tensors), np.int64)
    pieces = []
    for i, t in enumerate(tl.tensors):
        if t is None:
            if (leading_dims is None or i >= leading_dims.size) and first_dim is not None:
                dim = first_dim
            elif leading_dims is None:
                raise InvalidArgumentError(f"{op}: Concating lists with uninitialized tensors is not "
                                           f"supported in this version of TensorListConcat.")
            elif i >= leading_dims.size:
                raise InvalidArgumentError(f"{op}: List contains uninitialized tensor at index {i} but "
                                           f"leading_dims has only {leading_dims.size} elements.")
            else:
                dim = int(leading_dims[i])
            t = np.zeros((dim,) + rest, tl.element_dtype)
        elif t.shape[1:] != rest:
            raise InvalidArgumentError(f"{op}: list element {i} has shape {shape_str(t.shape)}, expected "
                                       f"{shape_str((None,) + rest)}")
        lengths[i] = t.shape[0]
        pieces.append(t)
    if not pieces:
        return np.zeros((0,) + rest, tl.element_dtype), lengths
    return np.concatenate(pieces, axis=0), lengths


@kernel("TensorListConcat", multi=True)
def tensor_list_concat(input_handle: Any, *, element_dtype: DType = DType.FLOAT,
                       element_shape: Any = None) -> tuple[np.ndarray, np.ndarray]:
    op = "TensorListConcat"
    shape = as_partial_shape(element_shape)
    if shape is not None and not shape:
        raise InvalidArgumentError(f"{op}: element_shape must not be empty")
    tl = input_list(op, input_handle)
    _check_dtype(op, element_dtype, tl)
    return _concat(op, tl, None, None if shape is None else shape[1:], None)


@kernel("TensorListConcatV2", multi=True)
def tensor_list_concat_v2(input_handle: Any, element_shape: Any, leading_dims: Any, *,
                          element_dtype: DType = DType.FLOAT,
                          shape_type: DType = DType.INT32) -> tuple[np.ndarray, np.ndarray]:
    op = "TensorListConcatV2"
    tl = input_list(op, input_handle)
    _check_dtype(op, element_dtype, tl)
    shape = _element_shape(op, tl, element_shape)
    if shape is not None and not shape:
        raise InvalidArgumentError(f"{op}: Concat requires elements to be at least vectors, found scalars "
                                   f"instead.")
    first_dim = None if shape is None else shape[0]
    rest = None if shape is None else shape[1:]
    return _concat(op, tl, first_dim, rest, np.asarray(leading_dims).reshape(-1))


# ------------------------------------------------------------- list arithmetic

def is_list_variant(value: Any) -> bool:
    """Whether a kernel input is a DT_VARIANT TensorList (lets ZerosLike/AddN dispatch here).
    The dtype test is by identity: numeric inputs (nearly all calls) leave at once."""
    return (isinstance(value, np.ndarray) and value.dtype is _OBJECT and value.ndim == 0
            and isinstance(value[()], TensorList))


def zeros_like_list(op: str, value: Any) -> np.ndarray:
    """ZerosLike of a DT_VARIANT list: same length/shape/dtype, zeros where set, unset stays unset."""
    tl = input_list(op, value)
    # np.zeros for C-ordered elements (what lists hold nearly always): numpy's zeros_like is
    # a Python-level function costing several times more, and loop gradients zero whole lists.
    return as_variant(tl.with_tensors([
        None if t is None else np.zeros(t.shape, t.dtype) if t.flags.c_contiguous else np.zeros_like(t)
        for t in tl.tensors]))


def add_lists(op: str, a: Any, b: Any) -> np.ndarray:
    """The sum of two DT_VARIANT lists element by element (AddN of list gradients); an unset
    element counts as zero."""
    la, lb = input_list(op, a), input_list(op, b)
    if la.element_dtype != lb.element_dtype:
        raise InvalidArgumentError(f"{op}: Trying to add two lists of tensors of different dtypes. One is "
                                   f"{dtype_name(la.element_dtype)} and the other is "
                                   f"{dtype_name(lb.element_dtype)}")
    shape = merge_shapes(f"{op}: Trying to add two lists of tensors with incompatible element shapes",
                         la.element_shape, lb.element_shape)
    if len(la.tensors) != len(lb.tensors):
        raise InvalidArgumentError(f"{op}: Trying to add two lists of tensors with different lengths. One is "
                                   f"{len(la.tensors)} and the other is {len(lb.tensors)}")
    out = []
    for x, y in zip(la.tensors, lb.tensors):
        if x is None or y is None:
            out.append(y if x is None else x)
        elif x.shape != y.shape:
            raise InvalidArgumentError(f"{op}: Trying to add two tensors with incompatible element shapes. "
                                       f"One is {shape_str(x.shape)} and the other is {shape_str(y.shape)}")
        else:
            out.append(np.add(x, y))
    return as_variant(TensorList(out, shape, la.element_dtype, la.max_num_elements))


def add_n_lists(op: str, values: list) -> np.ndarray:
    total = values[0]
    for v in values[1:]:
        total = add_lists(op, total, v)
    return total
