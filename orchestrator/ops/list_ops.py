"""TensorList kernels: the DT_VARIANT lists of control flow v2 (``StatelessWhile`` bodies
accumulate forward values with ``TensorListPushBack``/``SetItem`` and backprop pops them).

A variant tensor in our executor is a 0-d ``np.ndarray`` of dtype object holding one
:class:`TensorList`. TF gives lists *value* semantics — an op that "modifies" a list
outputs a new list and the input stays valid — so a :class:`TensorList` is never changed
after it is made: modifying ops copy the (cheap) Python list of element references and
build a new one. Elements never set (``TensorListReserve``, ``Resize``, ``Scatter`` gaps)
are ``None`` and read as zeros of the element shape when that shape can be known.

``zeros_like_list``/``add_lists`` are what ``ZerosLike``/``AddN`` on DT_VARIANT (the
gradient of a loop-carried list) must compute; the math kernels can call them.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.collection_ops import (
    PartialShape, attr_numpy_dtype, dtype_name, int_vector, is_compatible,
    is_fully_defined, merge_shapes, scalar_int, shape_from_tensor, shape_str,
)
from orchestrator.ops.registry import kernel


class TensorList:
    """An immutable-by-convention list of tensors of one dtype (None = not set yet)."""

    __slots__ = ("tensors", "element_shape", "element_dtype", "max_num_elements")

    def __init__(self, tensors: list, element_shape: PartialShape, element_dtype: np.dtype,
                 max_num_elements: int = -1):
        self.tensors = tensors
        self.element_shape = element_shape
        self.element_dtype = element_dtype
        self.max_num_elements = max_num_elements

    def with_tensors(self, tensors: list) -> TensorList:
        return TensorList(tensors, self.element_shape, self.element_dtype, self.max_num_elements)

    def __len__(self) -> int:
        return len(self.tensors)

    def __repr__(self) -> str:
        return (f"TensorList(len={len(self.tensors)}, element_shape={shape_str(self.element_shape)}, "
                f"dtype={dtype_name(self.element_dtype)})")


_OBJECT = np.dtype(object)


def as_variant(tensor_list: TensorList) -> np.ndarray:
    """The 0-d object array the executor carries for a DT_VARIANT value."""
    out = np.empty((), _OBJECT)
    out[()] = tensor_list
    return out


def input_list(op: str, value: Any) -> TensorList:
    # The common case first, by identity checks only (v2 loops push/pop lists ~100 times a step).
    if type(value) is np.ndarray and value.dtype is _OBJECT and not value.shape:
        item = value[()]
        if type(item) is TensorList:
            return item
    if isinstance(value, TensorList):
        return value
    if isinstance(value, np.ndarray) and value.dtype == object:
        if value.ndim != 0:
            raise InvalidArgumentError(f"{op}: Input list must be a scalar saw: {shape_str(value.shape)}")
        item = value[()]
        if isinstance(item, TensorList):
            return item
        value = item
    raise InvalidArgumentError(f"{op}: Input handle is not a list. Saw: '{type(value).__name__}'")


def _check_dtype(op: str, want: DType, tl: TensorList) -> np.dtype:
    dtype = attr_numpy_dtype(want)
    if dtype is not tl.element_dtype and dtype != tl.element_dtype:   # identity first: cheap
        raise InvalidArgumentError(f"{op}: Invalid data types; op elements {dtype_name(dtype)} but list "
                                   f"elements {dtype_name(tl.element_dtype)}")
    return dtype


def _element_shape(op: str, tl: TensorList, shape_input: Any) -> PartialShape:
    """GetElementShapeFromInput: the op's element_shape input merged with the list's."""
    return merge_shapes(op, shape_from_tensor(op, shape_input), tl.element_shape)


def _infer_from_elements(op: str, shape: PartialShape, elements: Sequence) -> PartialShape:
    """Merge a partial shape with the shapes of the set elements (all must agree)."""
    for t in elements:
        if t is not None:
            shape = merge_shapes(op, shape, t.shape)
    return shape


def _stacked(op: str, tensors: Sequence, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """The elements stacked along a new axis 0, zeros for unset ones (TF's Stack/Gather)."""
    for i, t in enumerate(tensors):
        if t is not None and t.shape != shape:
            raise InvalidArgumentError(f"{op}: list element {i} has shape {shape_str(t.shape)}, "
                                       f"expected {shape_str(shape)}")
    if tensors and all(t is not None for t in tensors):
        if dtype != _OBJECT:          # same-shape numeric arrays: np.array is ~2x np.stack
            return np.array(tensors, dtype)
        return np.stack(tensors)
    out = np.zeros((len(tensors),) + shape, dtype)
    for i, t in enumerate(tensors):
        if t is not None:
            out[i] = t
    return out


# --------------------------------------------------------------------- creation

@kernel("EmptyTensorList")
def empty_tensor_list(element_shape: Any, max_num_elements: Any, *, element_dtype: DType = DType.FLOAT,
                      shape_type: DType = DType.INT32) -> np.ndarray:
    op = "EmptyTensorList"
    limit = scalar_int(op, "max_num_elements", max_num_elements)
    return as_variant(TensorList([], shape_from_tensor(op, element_shape), attr_numpy_dtype(element_dtype),
                                 limit))


@kernel("TensorListReserve")
def tensor_list_reserve(element_shape: Any, num_elements: Any, *, element_dtype: DType = DType.FLOAT,
                        shape_type: DType = DType.INT32) -> np.ndarray:
    op = "TensorListReserve"
    n = scalar_int(op, "num_elements", num_elements)
    if n < 0:
        raise InvalidArgumentError(f"{op}: The num_elements to reserve must be a non negative number, "
                                   f"but got {n}")
    return as_variant(TensorList([None] * n, shape_from_tensor(op, element_shape),
                                 attr_numpy_dtype(element_dtype)))


@kernel("TensorListFromTensor")
def tensor_list_from_tensor(tensor: Any, element_shape: Any, *, element_dtype: DType = DType.FLOAT,
                            shape_type: DType = DType.INT32) -> np.ndarray:
    op = "TensorListFromTensor"
    shape = shape_from_tensor(op, element_shape)
    tensor = np.asarray(tensor)
    if tensor.ndim == 0:
        raise InvalidArgumentError(f"{op}: Tensor must be at least a vector, but saw shape: []")
    if not is_compatible(shape, tensor.shape[1:]):
        raise InvalidArgumentError(f"{op}: Specified a list with shape {shape_str(shape)} from a tensor "
                                   f"with shape {shape_str(tensor.shape[1:])}")
    # TF copies each row; one private copy keeps rows independent of the caller's buffer.
    rows = np.array(tensor, copy=True)
    return as_variant(TensorList(list(rows), shape, tensor.dtype))


def _scatter_new(op: str, tensor: Any, indices: Any, element_shape: Any, num_elements: int) -> np.ndarray:
    shape = shape_from_tensor(op, element_shape)
    if num_elements < -1:
        raise InvalidArgumentError(f"{op}: TensorListScatter expects num_elements >= -1, found: "
                                   f"{num_elements}")
    tensor = np.asarray(tensor)
    if tensor.ndim == 0:
        raise InvalidArgumentError(f"{op}: Tensor must be at least a vector, but saw shape: []")
    if not is_compatible(shape, tensor.shape[1:]):
        raise InvalidArgumentError(f"{op}: Specified a list with shape {shape_str(shape)} from a tensor "
                                   f"with shape {shape_str(tensor.shape[1:])}")
    indices = np.asarray(indices).reshape(-1)
    if indices.size != tensor.shape[0]:
        raise InvalidArgumentError(f"{op}: Invalid number of rows in input tensor. Expected: {indices.size} "
                                   f"Actual: {tensor.shape[0]}")
    if indices.size and indices.min() < 0:
        raise InvalidArgumentError(f"{op}: Indices in TensorListScatter must all be non-negative.")
    if num_elements != -1 and indices.size and indices.max() >= num_elements:
        raise InvalidArgumentError(f"{op}: TensorListScatter: Trying to scatter at index "
                                   f"{int(indices.max())} in list with size {num_elements}")
    highest = int(indices.max()) if indices.size else -1
    tensors: list = [None] * max(highest + 1, num_elements)
    rows = np.array(tensor, copy=True)
    for i, row in zip(indices.tolist(), rows):
        tensors[i] = row
    return as_variant(TensorList(tensors, shape, tensor.dtype))


@kernel("TensorListScatter")
def tensor_list_scatter(tensor: Any, indices: Any, element_shape: Any, *, element_dtype: DType = DType.FLOAT,
                        shape_type: DType = DType.INT32) -> np.ndarray:
    return _scatter_new("TensorListScatter", tensor, indices, element_shape, -1)


@kernel("TensorListScatterV2")
def tensor_list_scatter_v2(tensor: Any, indices: Any, element_shape: Any, num_elements: Any, *,
                           element_dtype: DType = DType.FLOAT, shape_type: DType = DType.INT32) -> np.ndarray:
    op = "TensorListScatterV2"
    return _scatter_new(op, tensor, indices, element_shape, scalar_int(op, "num_elements", num_elements))


@kernel("TensorListSplit")
def tensor_list_split(tensor: Any, element_shape: Any, lengths: Any, *, element_dtype: DType = DType.FLOAT,
                      shape_type: DType = DType.INT32) -> np.ndarray:
    op = "TensorListSplit"
    shape = shape_from_tensor(op, element_shape)
    if shape is not None and len(shape) < 1:
        raise InvalidArgumentError(f"{op}: TensorListSplit requires element_shape to be at least of rank 1, "
                                   f"but saw: {shape_str(shape)}")
    tensor = np.asarray(tensor)
    if tensor.ndim == 0:
        raise InvalidArgumentError(f"{op}: Tensor must be at least a vector, but saw shape: []")
    if not is_compatible(None if shape is None else shape[1:], tensor.shape[1:]):
        raise InvalidArgumentError(f"{op}: tensor shape {shape_str(tensor.shape)} is not compatible with "
                                   f"element_shape {shape_str(shape)}")
    lengths = int_vector(op, "lengths", lengths)
    rows = np.array(tensor, copy=True)
    pieces, start = [], 0
    for length in lengths.tolist():
        if length < 0:
            raise InvalidArgumentError(f"{op}: Invalid value in lengths: {length}")
        end = start + length
        if end > tensor.shape[0]:
            raise InvalidArgumentError(f"{op}: Attempting to slice [{start}, {end}] from tensor with length "
                                       f"{tensor.shape[0]}")
        pieces.append(rows[start:end])
        start = end
    if start != tensor.shape[0]:
        raise InvalidArgumentError(f"{op}: Unused values in tensor. Length of tensor: {tensor.shape[0]} "
                                   f"Values used: {start}")
    return as_variant(TensorList(pieces, shape, tensor.dtype))


# --------------------------------------------------------------------- queries

@kernel("TensorListLength")
def tensor_list_length(input_handle: Any) -> np.ndarray:
    return np.array(len(input_list("TensorListLength", input_handle)), np.int32)


@kernel("TensorListElementShape")
def tensor_list_element_shape(input_handle: Any, *, shape_type: DType = DType.INT32) -> np.ndarray:
    shape = input_list("TensorListElementShape", input_handle).element_shape
    dtype = attr_numpy_dtype(shape_type)
    if shape is None:
        return np.array(-1, dtype)
    return np.array([-1 if d is None else d for d in shape], dtype)


@kernel("TensorListGetItem")
def tensor_list_get_item(input_handle: Any, index: Any, element_shape: Any, *,
                         element_dtype: DType = DType.FLOAT) -> np.ndarray:
    op = "TensorListGetItem"
    tl = input_list(op, input_handle)
    dtype = _check_dtype(op, element_dtype, tl)
    i = scalar_int(op, "index", index)
    if not 0 <= i < len(tl.tensors):
        raise InvalidArgumentError(f"{op}: Trying to access element {i} in a list with {len(tl.tensors)} "
                                   f"elements.")
    item = tl.tensors[i]
    if item is not None:
        return item
    shape = _element_shape(op, tl, element_shape)
    if not is_fully_defined(shape):
        shape = _infer_from_elements(op, shape, tl.tensors)
    if not is_fully_defined(shape):
        raise InvalidArgumentError(f"{op}: Trying to read an uninitialized tensor but element_shape is not "
                                   f"fully defined: {shape_str(shape)} and no list element is set.")
    return np.zeros(shape, dtype)


@kernel("TensorListStack")
def tensor_list_stack(input_handle: Any, element_shape: Any, *, element_dtype: DType = DType.FLOAT,
                      num_elements: int = -1) -> np.ndarray:
    op = "TensorListStack"
    tl = input_list(op, input_handle)
    dtype = _check_dtype(op, element_dtype, tl)
    if num_elements != -1 and len(tl.tensors) != num_elements:
        raise InvalidArgumentError(f"{op}: Operation expected a list with {num_elements} elements but got "
                                   f"a list with {len(tl.tensors)} elements.")
    shape = _element_shape(op, tl, element_shape)
    if not is_fully_defined(shape) and not tl.tensors:
        raise InvalidArgumentError(f"{op}: Tried to stack elements of an empty list with non-fully-defined "
                                   f"element_shape: {shape_str(shape)}")
    if not is_fully_defined(tl.element_shape):
        shape = _infer_from_elements(op, shape, tl.tensors)
    if not is_fully_defined(shape):
        raise InvalidArgumentError(f"{op}: Tried to stack list which only contains uninitialized tensors "
                                   f"and has a non-fully-defined element_shape: {shape_str(shape)}")
    return _stacked(op, tl.tensors, shape, dtype)


@kernel("TensorListGather")
def tensor_list_gather(input_handle: Any, indices: Any, element_shape: Any, *,
                       element_dtype: DType = DType.FLOAT) -> np.ndarray:
    op = "TensorListGather"
    tl = input_list(op, input_handle)
    dtype = _check_dtype(op, element_dtype, tl)
    indices = np.asarray(indices).reshape(-1).tolist()
    shape = _element_shape(op, tl, element_shape)
    if not is_fully_defined(shape) and not indices:
        raise InvalidArgumentError(f"{op}: Tried to gather 0-elements from a list with non-fully-defined "
                                   f"shape: {shape_str(shape)}")
    for i in indices:
        if not 0 <= i < len(tl.tensors):
            n = len(tl.tensors)   # TF words it two ways, depending on when it finds out
            if is_fully_defined(tl.element_shape):
                raise InvalidArgumentError(f"{op}: Index {i} out o range; list only has {n} elements.")
            raise InvalidArgumentError(f"{op}: Trying to gather element {i} in a list with {n} elements.")
    picked = [tl.tensors[i] for i in indices]
    if not is_fully_defined(tl.element_shape):
        shape = _infer_from_elements(op, shape, picked)
    if not is_fully_defined(shape):
        raise InvalidArgumentError(f"{op}: Tried to gather uninitialized tensors from a list with "
                                   f"non-fully-defined element_shape: {shape_str(shape)}")
    return _stacked(op, picked, shape, dtype)
