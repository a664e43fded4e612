"""TensorArray kernels (``TensorArrayV3`` and its Read/Write/Gather/Scatter/Concat/Split/
Size/Close/Grad ops), as v1 ``dynamic_rnn`` and ``tf.while_loop`` use them.

A TensorArray is a per-step resource (see :mod:`collection_ops`): the creating op returns
a handle carrying the array, plus a float32 scalar *flow* token whose only job is to order
the ops that use the array; every op passes its ``flow_in`` through unchanged.

TF's rules, kept here because models rely on them:

* an index is written once (``Could not write ... already been written to``), and never
  after it has been read; reading an unwritten index gives zeros when the element shape
  is fully known and is an error otherwise; with ``clear_after_read`` an index can be
  read once;
* gradient arrays (``TensorArrayGradV3``, one per (array, ``source``)) have the forward
  array's size and element shapes, *sum* repeated writes to an index (the partial
  gradients of repeated reads), read unwritten indices as zeros of the forward element's
  shape, and stop the forward array from growing;
* with ``identical_element_shapes`` the first write fixes the element shape.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.exec.state import KernelContext
from orchestrator.ops.collection_ops import (
    PartialShape, StepResourceHandle, as_partial_shape, attr_numpy_dtype, dtype_name, int_vector,
    is_compatible, is_fully_defined, merge_shapes, scalar_int, shape_str, step_resource, unique_name,
)
from orchestrator.ops.registry import kernel

_FLOW = np.zeros((), np.float32)
_FLOW.flags.writeable = False


class _Slot:
    """One index: the stored tensor (None = virtual zeros of ``shape``) and its history."""

    __slots__ = ("value", "shape", "written", "read", "cleared", "local_copy")

    def __init__(self, shape: tuple = (), written: bool = False):
        self.value: np.ndarray | None = None
        self.shape = shape
        self.written = written
        self.read = False
        self.cleared = False
        self.local_copy = False   # value is our own sum of several writes: may be added into


class TensorArray:
    def __init__(self, name: str, dtype: np.dtype, size: int, element_shape: PartialShape,
                 identical_element_shapes: bool, dynamic_size: bool, clear_after_read: bool,
                 multiple_writes_aggregate: bool = False, is_grad: bool = False, marked_size: int = -1):
        self.name = name
        self.dtype = dtype
        self.element_shape = element_shape
        self.identical_element_shapes = identical_element_shapes
        self.dynamic_size = dynamic_size
        self.clear_after_read = clear_after_read
        self.multiple_writes_aggregate = multiple_writes_aggregate
        self.is_grad = is_grad
        self.marked_size = marked_size   # size recorded by Split (pack/concat size of grads)
        self.gradients_disallowed = False
        self.closed = False
        self.slots = [_Slot() for _ in range(size)]
        self.grads: dict[str, TensorArray] = {}
        self.handle: StepResourceHandle | None = None   # a gradient array's handle, once made

    def fail(self, op: str, message: str) -> InvalidArgumentError:
        return InvalidArgumentError(f"{op}: TensorArray {self.name}: {message}")

    def check_open(self, op: str) -> None:
        if self.closed:
            raise InvalidArgumentError(f"{op}: TensorArray {self.name} has already been closed.")

    def size(self, op: str) -> int:
        self.check_open(op)
        return len(self.slots)

    def check_dtype(self, op: str, dtype: np.dtype, writing: bool) -> None:
        if dtype is not self.dtype and dtype != self.dtype:   # identity first: cheap
            doing = "Op is trying to write dtype" if writing else "Op requested dtype"
            raise self.fail(op, f"TensorArray dtype is {dtype_name(self.dtype)} but {doing} "
                                f"{dtype_name(dtype)}.")

    # ------------------------------------------------------------------- write

    def write(self, op: str, index: int, value: np.ndarray) -> None:
        self.check_open(op)
        if index < 0 or (not self.dynamic_size and index >= len(self.slots)):
            raise self.fail(op, f"Tried to write to index {index} but array is not resizeable "
                                f"and size is: {len(self.slots)}")
        if index >= len(self.slots):
            self.slots.extend(_Slot() for _ in range(index + 1 - len(self.slots)))
        slot = self.slots[index]
        if not is_compatible(self.element_shape, value.shape):
            raise self.fail(op, f"Could not write to TensorArray index {index} because the value "
                                f"shape is {shape_str(value.shape)} which is incompatible with the "
                                f"TensorArray's inferred element shape: {shape_str(self.element_shape)} "
                                f"(consider setting infer_shape=False).")
        if self.identical_element_shapes and not is_fully_defined(self.element_shape):
            self.element_shape = value.shape
        if slot.read:
            raise self.fail(op, f"Could not write to TensorArray index {index} because it has "
                                f"already been read.")
        if slot.written and not self.multiple_writes_aggregate:
            raise self.fail(op, f"Could not write to TensorArray index {index} because it has "
                                f"already been written to.")
        if not slot.written:
            slot.value, slot.shape, slot.written = value, value.shape, True
            return
        if value.shape != slot.shape:
            raise self.fail(op, f"Could not aggregate to TensorArray index {index} because the "
                                f"existing shape is {shape_str(slot.shape)} but the new input shape "
                                f"is {shape_str(value.shape)}.")
        if slot.value is None or slot.value.size == 0:
            slot.value = value   # the stored "tensor" was only a shape: zeros + value = value
            return
        if slot.local_copy:
            np.add(slot.value, value, out=slot.value)
        else:   # never add into the first writer's array: it belongs to the caller
            slot.value = np.add(slot.value, value)
            slot.local_copy = True
        self.gradients_disallowed = True

    # -------------------------------------------------------------------- read

    def read(self, op: str, index: int) -> np.ndarray:
        self.check_open(op)
        n = len(self.slots)
        if index < 0 or (not self.is_grad and index >= n):
            raise self.fail(op, f"Tried to read from index {index} but array size is: {n}")
        if index >= n or not self.slots[index].written:
            self._materialize_unwritten(op, index)
        slot = self.slots[index]
        if slot.cleared:
            raise self.fail(op, f"Could not read index {index} twice because it was cleared after "
                                f"a previous read (perhaps try setting clear_after_read = false?).")
        if slot.value is None or slot.value.size == 0:
            slot.value = np.zeros(slot.shape, self.dtype)
        value = slot.value
        if self.clear_after_read:
            slot.value = None
            slot.cleared = True
        slot.read = True
        return value

    def _materialize_unwritten(self, op: str, index: int) -> None:
        """An unwritten index reads as zeros — of the forward element's shape for a gradient
        array (backprop reaching an index no forward op read), else of the element shape."""
        n = len(self.slots)
        known = self.slots[index].shape if index < n else ()
        if self.is_grad and len(known) > 0:
            shape = known
        elif not is_fully_defined(self.element_shape):
            raise self.fail(op, f"Could not read from TensorArray index {index}.  Furthermore, the "
                                f"element shape is not fully defined: {shape_str(self.element_shape)}.  "
                                f"It is possible you are working with a resizeable TensorArray and "
                                f"stop_gradients is not allowing the gradients to be written.  If you "
                                f"set the full element_shape property on the forward TensorArray, the "
                                f"proper all-zeros tensor will be returned instead of incurring this error.")
        else:
            shape = self.element_shape
        if index >= n:
            self.slots.extend(_Slot(shape, written=True) for _ in range(index + 1 - n))
        else:
            self.slots[index].shape = shape
            self.slots[index].written = True

    def read_many(self, op: str, indices: Iterable[int]) -> list[np.ndarray]:
        return [self.read(op, int(i)) for i in indices]

    def pack_or_concat_size(self, op: str) -> int:
        self.check_open(op)
        if not self.is_grad:
            return len(self.slots)
        if self.marked_size < 0:
            raise self.fail(op, "gradient TensorArray has no recorded size: its forward array was "
                                "never split, so it cannot be concatenated")
        return self.marked_size


def _array(op: str, handle: Any) -> TensorArray:
    return step_resource(op, handle, TensorArray)


def _handle(ta: TensorArray, container: str) -> StepResourceHandle:
    return StepResourceHandle(container, ta.name, ta.dtype, ta.element_shape, ta)


# ---------------------------------------------------------------------- kernels

@kernel("TensorArrayV3", multi=True, needs_ctx=True, stateful=True)
def tensor_array_v3(size: Any, *, ctx: KernelContext, dtype: DType = DType.FLOAT,
                    element_shape: Any = None, dynamic_size: bool = False, clear_after_read: bool = True,
                    identical_element_shapes: bool = False, tensor_array_name: bytes = b""
                    ) -> tuple[StepResourceHandle, np.ndarray]:
    n = scalar_int("TensorArrayV3", "TensorArray size", size)
    if n < 0:
        raise InvalidArgumentError(f"TensorArrayV3 {ctx.op_name}: Size should be >= 0. Found {n}.")
    name = unique_name(tensor_array_name.decode() if tensor_array_name else ctx.op_name)
    ta = TensorArray(name, attr_numpy_dtype(dtype), n, as_partial_shape(element_shape),
                     identical_element_shapes, dynamic_size, clear_after_read)
    return _handle(ta, "_tensor_arrays"), _FLOW


def _grad(op: str, handle: Any, source: bytes, prefix: tuple[int, ...] | None) -> TensorArray:
    forward = _array(op, handle)
    if forward.is_grad:   # TF looks the forward array up in "_tensor_arrays" only
        raise InvalidArgumentError(f"{op}: Wrong input container. _tensor_array_grads{forward.name}: "
                                   f"gradient TensorArrays have no gradients of their own")
    forward.dynamic_size = False   # once gradients exist the forward array may not grow
    size = forward.size(op)
    if forward.gradients_disallowed:
        raise forward.fail(op, "Unable to create a gradients TensorArray: multiple writes were "
                               "aggregated into one index, so gradients cannot be computed.")
    key = source.decode()
    grad = forward.grads.get(key)
    if grad is None:
        if prefix is None:
            element_shape = forward.element_shape
        else:
            element_shape = None if forward.element_shape is None else prefix + forward.element_shape
        grad = TensorArray(f"{forward.name}@{key}", forward.dtype, size, element_shape,
                           forward.identical_element_shapes, dynamic_size=False, clear_after_read=True,
                           multiple_writes_aggregate=True, is_grad=True, marked_size=forward.marked_size)
        for slot, fwd in zip(grad.slots, forward.slots):
            if fwd.written:   # "virtual zeros" with the forward element's shape
                slot.shape = (prefix or ()) + tuple(fwd.shape)
                slot.written = True
        forward.grads[key] = grad
    return grad


@kernel("TensorArrayGradV3", multi=True, stateful=True)
def tensor_array_grad_v3(handle: Any, flow_in: Any, *, source: bytes = b""
                         ) -> tuple[StepResourceHandle, np.ndarray]:
    grad = _grad("TensorArrayGradV3", handle, source, None)
    return _grad_handle(grad), flow_in


@kernel("TensorArrayGradWithShape", multi=True, stateful=True)
def tensor_array_grad_with_shape(handle: Any, flow_in: Any, shape_to_prepend: Any, *,
                                 source: bytes = b"") -> tuple[StepResourceHandle, np.ndarray]:
    prefix = np.asarray(shape_to_prepend)
    if prefix.ndim != 1 or (prefix.size and prefix.min() < 0):
        raise InvalidArgumentError(f"TensorArrayGradWithShape: shape_to_prepend must be a vector of "
                                   f"non-negative sizes, found {prefix.tolist()}")
    grad = _grad("TensorArrayGradWithShape", handle, source, tuple(int(d) for d in prefix))
    return _grad_handle(grad), flow_in


def _grad_handle(grad: TensorArray) -> StepResourceHandle:
    """The gradient array's handle, made once: backprop loops ask for it every iteration
    and a handle (a frozen dataclass) costs microseconds to build. Kernels reach the array
    through it; its name and dtype never change (its shape field keeps the element shape
    known when it was made, as any handle does)."""
    handle = grad.handle
    if handle is None:
        handle = grad.handle = _handle(grad, "_tensor_array_grads")
    return handle


@kernel("TensorArrayWriteV3", stateful=True)
def tensor_array_write_v3(handle: Any, index: Any, value: Any, flow_in: Any) -> np.ndarray:
    op = "TensorArrayWriteV3"
    i = scalar_int(op, "TensorArray index", index)
    ta = _array(op, handle)
    value = np.asarray(value)
    ta.check_dtype(op, value.dtype, writing=True)
    ta.write(op, i, value)
    return flow_in


@kernel("TensorArrayReadV3", stateful=True)
def tensor_array_read_v3(handle: Any, index: Any, flow_in: Any, *, dtype: DType = DType.FLOAT) -> np.ndarray:
    op = "TensorArrayReadV3"
    i = scalar_int(op, "TensorArray index", index)
    ta = _array(op, handle)
    ta.check_dtype(op, attr_numpy_dtype(dtype), writing=False)
    return ta.read(op, i)


@kernel("TensorArrayGatherV3", stateful=True)
def tensor_array_gather_v3(handle: Any, indices: Any, flow_in: Any, *, dtype: DType = DType.FLOAT,
                           element_shape: Any = None) -> np.ndarray:
    op = "TensorArrayGatherV3"
    ta = _array(op, handle)
    ta.check_dtype(op, attr_numpy_dtype(dtype), writing=False)
    wanted = as_partial_shape(element_shape)
    ta.element_shape = merge_shapes(f"{op}: TensorArray {ta.name}", ta.element_shape, wanted)
    indices = int_vector(op, "indices", indices)
    if indices.size == 0:
        if not is_fully_defined(wanted):
            raise UnimplementedError(
                f"{op}: TensorArray {ta.name}: TensorArray has size zero, but element shape "
                f"{shape_str(wanted)} is not fully defined. Currently only static shapes are supported "
                f"when packing zero-size TensorArrays.")
        return np.zeros((0,) + wanted, ta.dtype)
    values = ta.read_many(op, indices.tolist())
    first = values[0].shape
    if not is_compatible(wanted, first):
        raise ta.fail(op, f"TensorArray was passed element_shape {shape_str(wanted)} which does not "
                          f"match the Tensor at index 0: {shape_str(first)}")
    for i, v in enumerate(values):
        if v.shape != first:
            raise ta.fail(op, f"TensorArray has inconsistent shapes.  Index 0 has shape: "
                              f"{shape_str(first)} but index {i} has shape: {shape_str(v.shape)}")
    return np.stack(values)


@kernel("TensorArrayConcatV3", multi=True, stateful=True)
def tensor_array_concat_v3(handle: Any, flow_in: Any, *, dtype: DType = DType.FLOAT,
                           element_shape_except0: Any = None) -> tuple[np.ndarray, np.ndarray]:
    op = "TensorArrayConcatV3"
    ta = _array(op, handle)
    ta.check_dtype(op, attr_numpy_dtype(dtype), writing=False)
    wanted = as_partial_shape(element_shape_except0)
    n = ta.pack_or_concat_size(op)
    if n == 0:
        if not is_fully_defined(wanted):
            raise UnimplementedError(
                f"{op}: TensorArray {ta.name}: TensorArray has size zero, but element_shape_except0 "
                f"{shape_str(wanted)} is not fully defined. Currently only static shapes are supported "
                f"when concatenating zero-size TensorArrays.")
        return np.zeros((0,) + wanted, ta.dtype), np.zeros(0, np.int64)
    values = ta.read_many(op, range(n))
    rest = None
    for i, v in enumerate(values):
        if v.ndim == 0:
            raise ta.fail(op, f"Concat saw a scalar shape at index {i} but requires at least vectors.  "
                              f"Did you mean to call pack?")
        if i == 0:
            rest = v.shape[1:]
            if not is_compatible(wanted, rest):
                raise ta.fail(op, f"TensorArray was passed element_shape_except0 {shape_str(wanted)} but "
                                  f"index 0 has (excepting dimension 0) shape: {shape_str(rest)} which "
                                  f"does not match.")
        elif v.shape[1:] != rest:
            raise ta.fail(op, f"TensorArray has inconsistent shapes.  Index 0 has (excepting dimension 0) "
                              f"shape: {shape_str(rest)} but index {i} has (excepting dimension 0) shape: "
                              f"{shape_str(v.shape[1:])}")
    lengths = np.array([v.shape[0] for v in values], np.int64)
    return np.concatenate(values, axis=0), lengths


@kernel("TensorArrayScatterV3", stateful=True)
def tensor_array_scatter_v3(handle: Any, indices: Any, value: Any, flow_in: Any) -> np.ndarray:
    op = "TensorArrayScatterV3"
    ta = _array(op, handle)
    value = np.asarray(value)
    ta.check_dtype(op, value.dtype, writing=True)
    if value.ndim == 0:
        raise ta.fail(op, f"Input value for unpack must be at least a vector but received shape: "
                          f"{shape_str(value.shape)}")
    size = ta.size(op)
    indices = int_vector(op, "indices", indices)
    if indices.size != value.shape[0]:
        raise ta.fail(op, f"Expected len(indices) == values.shape[0], but saw: {indices.size} vs. "
                          f"{value.shape[0]}")
    max_index = int(indices.max()) if indices.size else -1
    if ta.dynamic_size:
        size = max(size, max_index + 1)
    if max_index >= size:
        raise ta.fail(op, f"Max scatter index must be < array size ({max_index} vs. {size})")
    # TF copies each row out of `value`; one copy keeps the rows independent of the caller's buffer.
    rows = np.array(value, copy=True)
    for i, row in zip(indices.tolist(), rows):
        ta.write(op, i, row)
    return flow_in


@kernel("TensorArraySplitV3", stateful=True)
def tensor_array_split_v3(handle: Any, value: Any, lengths: Any, flow_in: Any) -> np.ndarray:
    op = "TensorArraySplitV3"
    ta = _array(op, handle)
    lengths = int_vector(op, "lengths", lengths)
    value = np.asarray(value)
    if value.ndim == 0:
        raise ta.fail(op, f"Expected value to be at least a vector, but received shape: "
                          f"{shape_str(value.shape)}")
    ends = np.cumsum(lengths.astype(np.int64))
    total = int(ends[-1]) if ends.size else 0
    if total != value.shape[0]:
        raise ta.fail(op, f"Expected sum of lengths to be equal to values.shape[0], but sum of lengths "
                          f"is {total} and value's shape is: {shape_str(value.shape)}")
    num = int(lengths.size)
    size = ta.size(op)
    if ta.dynamic_size and size < num:
        size = num
    if size != num:
        raise ta.fail(op, f"TensorArray's size is not equal to the size of lengths ({size} vs. {num}), "
                          f"and the TensorArray is not marked as dynamically resizeable")
    ta.check_dtype(op, value.dtype, writing=True)
    if (lengths < 0).any():
        raise ta.fail(op, f"lengths must be non-negative, found {lengths.tolist()}")
    pieces = np.split(np.array(value, copy=True), ends[:-1].tolist())
    ta.marked_size = size
    for i, piece in enumerate(pieces):
        ta.write(op, i, piece)
    return flow_in


@kernel("TensorArraySizeV3", stateful=True)
def tensor_array_size_v3(handle: Any, flow_in: Any) -> np.ndarray:
    return np.array(_array("TensorArraySizeV3", handle).size("TensorArraySizeV3"), np.int32)


@kernel("TensorArrayCloseV3", stateful=True)
def tensor_array_close_v3(handle: Any) -> None:
    ta = _array("TensorArrayCloseV3", handle)
    ta.slots.clear()
    ta.closed = True
