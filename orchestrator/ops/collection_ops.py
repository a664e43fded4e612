"""Stacks (``StackV2``/``StackPushV2``/``StackPopV2``/``StackCloseV2``) and the pieces the
TensorArray (:mod:`tensor_array_ops`) and TensorList (:mod:`list_ops`) kernels share:
partial shapes and handles of per-step resources.

**Per-step resources.** TF keeps stacks and TensorArrays in the *step* container of the
resource manager: each run of the creating op makes a fresh object under a unique name,
and everything the step created is dropped when the step ends. Here the creating kernel
returns a :class:`StepResourceHandle` that carries the object itself; consumers reach it
through the handle. The object then lives exactly as long as the executor keeps the
handle value (it frees values after their last use), so nothing accumulates in
``SessionState`` across steps, and two runs — or two iterations of an outer loop — never
see each other's arrays.

**Partial shapes** are ``None`` (unknown rank) or a tuple of ``int | None`` per
dimension, as the graph model decodes shape attrs; negative dims are read as unknown.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from orchestrator.dtypes import DType, as_dtype
from orchestrator.errors import InvalidArgumentError
from orchestrator.exec.state import KernelContext, ResourceHandle
from orchestrator.ops.registry import kernel

PartialShape = tuple | None

# Unique suffixes for resource names, as TF's process-wide counters give them
# ("stack_3", "rnn/TensorArray_7"): names only appear in messages.
_names = itertools.count()


def unique_name(base: str) -> str:
    return f"{base}_{next(_names)}"


# ----------------------------------------------------------------- partial shapes

def as_partial_shape(shape: Any) -> PartialShape:
    """A shape attr value (tuple/list with None or -1 for unknown dims, or None) normalised."""
    if shape is None:
        return None
    return tuple(None if d is None or int(d) < 0 else int(d) for d in shape)


def is_fully_defined(shape: PartialShape) -> bool:
    return shape is not None and None not in shape


def is_compatible(partial: PartialShape, shape: Sequence) -> bool:
    """Whether ``shape`` (partial or concrete) can be an instance of ``partial``."""
    if partial is None or shape is None or partial == shape:   # the common cases, cheaply
        return True
    if len(partial) != len(shape):
        return False
    return all(a is None or b is None or a == b for a, b in zip(partial, shape))


def merge_shapes(op: str, a: PartialShape, b: PartialShape) -> PartialShape:
    """TF's PartialTensorShape::MergeWith: the most specific shape compatible with both."""
    if a is None:
        return b
    if b is None:
        return a
    if not is_compatible(a, b):
        raise InvalidArgumentError(f"{op}: Incompatible shapes during merge: {shape_str(a)} vs. "
                                   f"{shape_str(b)}")
    return tuple(x if x is not None else y for x, y in zip(a, b))


def shape_str(shape: PartialShape) -> str:
    """TF's DebugString of a (partial) shape: ``[2,?,3]``, ``[]`` for scalars, ``<unknown>``."""
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def shape_from_tensor(op: str, value: Any) -> PartialShape:
    """An ``element_shape`` *input* tensor: int32/int64, -1 entries unknown, scalar -1 unknown rank."""
    value = np.asarray(value)
    if value.dtype not in (np.int32, np.int64):
        raise InvalidArgumentError(f"{op}: Expected an int32 or int64 shape tensor; found {value.dtype}")
    if value.ndim == 0:
        if int(value) == -1:
            return None
        raise InvalidArgumentError(
            f"{op}: The only valid scalar shape tensor is the fully unknown shape specified as -1. "
            f"Found {int(value)}.")
    if value.ndim > 1:
        raise InvalidArgumentError(f"{op}: element_shape must be at most rank 1 but has the shape of "
                                   f"{shape_str(value.shape)}")
    dims = value.tolist()
    if any(d < -1 for d in dims):
        raise InvalidArgumentError(f"{op}: shape {dims} has a dimension below -1")
    return tuple(None if d == -1 else d for d in dims)


def dtype_name(dtype: Any) -> str:
    """TF's DataTypeString (``float``, ``double``, ``int32`` ...), as its messages say it."""
    try:
        return as_dtype(dtype).name.lower()
    except InvalidArgumentError:
        return str(dtype)


_NUMPY_OF: dict[Any, np.dtype] = {}   # DType -> numpy dtype, filled on first use (hot path)


def attr_numpy_dtype(dtype: Any) -> np.dtype:
    """The numpy dtype of a type attr (a DType, or anything ``np.dtype`` takes)."""
    found = _NUMPY_OF.get(dtype)
    if found is None:
        found = dtype.numpy if isinstance(dtype, DType) else np.dtype(dtype)
        if isinstance(dtype, DType):
            _NUMPY_OF[dtype] = found
    return found


def scalar_int(op: str, what: str, value: Any) -> int:
    if type(value) is np.ndarray and value.ndim == 0:   # what the executor passes
        return int(value)
    value = np.asarray(value)
    if value.ndim != 0:
        raise InvalidArgumentError(f"{op}: {what} must be a scalar, but had shape: {shape_str(value.shape)}")
    return int(value)


def int_vector(op: str, what: str, value: Any) -> np.ndarray:
    value = np.asarray(value)
    if value.ndim != 1:
        raise InvalidArgumentError(f"{op}: Expected {what} to be a vector, but received shape: "
                                   f"{shape_str(value.shape)}")
    return value


# ------------------------------------------------------------------------ handles

@dataclasses.dataclass(frozen=True)
class StepResourceHandle(ResourceHandle):
    """Handle of a per-step resource that carries the resource object (see module doc)."""

    resource: Any = dataclasses.field(default=None, compare=False, repr=False)


def step_resource(op: str, handle: Any, kind: type) -> Any:
    """The ``kind`` object behind a handle input (the handle or a 0-d object array of it)."""
    if type(handle) is StepResourceHandle:        # what the executor passes: identity checks only
        resource = handle.resource                # (v1 loops push/pop stacks ~90 times a step)
        if type(resource) is kind:
            return resource
    if isinstance(handle, np.ndarray) and handle.dtype == object and handle.size == 1:
        handle = handle.reshape(-1)[0]
    resource = getattr(handle, "resource", None)
    if not isinstance(resource, kind):
        found = type(resource).__name__ if resource is not None else type(handle).__name__
        raise InvalidArgumentError(f"{op}: input 0 must be a {kind.__name__} handle, found {found}")
    return resource


# ------------------------------------------------------------------------- stacks

class Stack:
    """LIFO of tensors of one dtype; ``max_size < 0`` means unbounded (TF's default -1)."""

    __slots__ = ("name", "dtype", "max_size", "items", "closed")

    def __init__(self, name: str, dtype: np.dtype, max_size: int):
        self.name = name
        self.dtype = dtype
        self.max_size = max_size
        self.items: list[np.ndarray] = []
        self.closed = False

    def check_open(self, op: str) -> None:
        if self.closed:
            raise InvalidArgumentError(f"{op}: Stack[{self.name}] has already been closed.")


@kernel("StackV2", needs_ctx=True, stateful=True)
def stack_v2(max_size: Any, *, ctx: KernelContext, elem_type: DType = DType.FLOAT,
             stack_name: bytes = b"") -> StepResourceHandle:
    """A fresh stack per run (v1 while-loop backprop pushes forward values, pops them back)."""
    limit = scalar_int("StackV2", "max_size", max_size)
    name = unique_name(stack_name.decode() if stack_name else ctx.op_name)
    stack = Stack(name, attr_numpy_dtype(elem_type), limit)
    return StepResourceHandle("_stacks", name, stack.dtype, None, stack)


@kernel("StackPushV2", stateful=True)
def stack_push_v2(handle: Any, elem: Any, *, swap_memory: bool = False) -> np.ndarray:
    # swap_memory asks TF to move the value to host memory: everything is host memory here.
    # v1 backprop loops push/pop ~45 times a step each: the usual handle is read directly.
    stack = handle.resource if type(handle) is StepResourceHandle else None
    if type(stack) is not Stack:
        stack = step_resource("StackPushV2", handle, Stack)
    if stack.closed:
        stack.check_open("StackPushV2")
    if type(elem) is not np.ndarray:
        elem = np.asarray(elem)
    if elem.dtype is not stack.dtype and elem.dtype != stack.dtype:   # identity: the cheap common case
        raise InvalidArgumentError(f"StackPushV2: Stack[{stack.name}] must have type "
                                   f"{dtype_name(stack.dtype)} but got {dtype_name(elem.dtype)}")
    if 0 <= stack.max_size <= len(stack.items):
        raise InvalidArgumentError(f"StackPushV2: Stack[{stack.name}] overflowed its max_size "
                                   f"({stack.max_size})")
    stack.items.append(elem)
    return elem


@kernel("StackPopV2", stateful=True)
def stack_pop_v2(handle: Any, *, elem_type: DType = DType.FLOAT) -> np.ndarray:
    stack = handle.resource if type(handle) is StepResourceHandle else None
    if type(stack) is not Stack:
        stack = step_resource("StackPopV2", handle, Stack)
    if stack.closed:
        stack.check_open("StackPopV2")
    if not stack.items:
        raise InvalidArgumentError(f"StackPopV2: Stack[{stack.name}] is empty when calling Pop().")
    want = _NUMPY_OF.get(elem_type) or attr_numpy_dtype(elem_type)
    if want is not stack.dtype and want != stack.dtype:
        raise InvalidArgumentError(f"StackPopV2: Stack[{stack.name}] holds {dtype_name(stack.dtype)} "
                                   f"elements but the op expects elem_type {dtype_name(want)}")
    return stack.items.pop()


@kernel("StackCloseV2", stateful=True)
def stack_close_v2(handle: Any) -> None:
    stack = step_resource("StackCloseV2", handle, Stack)
    stack.items.clear()
    stack.closed = True
