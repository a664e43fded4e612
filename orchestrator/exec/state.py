"""State that lives across ``Session.run`` calls, and the context a kernel sees.

Two kinds of variable storage, as in TF:

* **Ref variables** (``VariableV2``): the op's output is a reference. A ``Ref`` holder
  is created once per session for each variable op; kernels registered with
  ``ref_inputs`` receive the ``Ref`` and update its array *in place* (so tensors that
  alias the variable see the update, as TF's ref semantics do). Every other consumer
  receives the current array (the executor dereferences).
* **Resource variables** (``VarHandleOp``): the op outputs a ``ResourceHandle``;
  kernels look the variable up in ``SessionState.resources``. Updates *replace* the
  array (``ref.set``), so a value read earlier in the step never changes under the
  reader — TF's read-value semantics.

Random ops keep a per-op counter base (``random_offsets``) so that consecutive runs
of one op continue TF's Philox stream.
"""
from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator.errors import FailedPreconditionError, NotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from orchestrator.graph.model import Operation


class Ref:
    """Storage of one variable. ``value`` is None until the variable is initialized."""

    __slots__ = ("name", "dtype", "shape", "value")

    def __init__(self, name: str, dtype: np.dtype | None = None, shape: tuple | None = None):
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.value: np.ndarray | None = None

    @property
    def initialized(self) -> bool:
        return self.value is not None

    def get(self) -> np.ndarray:
        if self.value is None:
            raise FailedPreconditionError(
                f"Attempting to use uninitialized value {self.name}: run its initializer "
                f"(e.g. the graph's init op) or restore it from a checkpoint first")
        return self.value

    def set(self, value: np.ndarray) -> None:
        """Replace the stored array (resource semantics, and Assign with a new shape)."""
        self.value = value

    def mutable(self) -> np.ndarray:
        """The stored array, for an update in place when nothing else can see it; else a
        private copy, stored first (TF's copy-on-write for resource variables).

        "Nothing else": the array owns its memory (no view of another array), is writable,
        and this Ref holds the only reference to it (CPython's reference count). A value
        read earlier in the step (ReadVariableOp's output, any view of it), fetched by the
        caller, or assigned from a constant or a feed is referenced elsewhere, so it gets a
        copy and keeps its contents, as resource semantics require. A sparse update of a
        large embedding table thus touches its rows, not the whole table, once the table
        is the variable's own.
        """
        value = self.get()
        # References now: self.value, the local name, getrefcount's argument.
        if value.base is not None or not value.flags.writeable or sys.getrefcount(value) > 3:
            value = self.value = value.copy()
        return value

    def __repr__(self) -> str:
        shape = None if self.value is None else self.value.shape
        return f"Ref({self.name!r}, shape={shape})"


@dataclasses.dataclass(frozen=True)
class ResourceHandle:
    """What ``VarHandleOp`` (and other resource-creating ops) output: a key, not a value."""

    container: str
    shared_name: str
    dtype: Any = None
    shape: tuple | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.container, self.shared_name)


class SessionState:
    """Everything a session keeps between runs. One per ``Session``."""

    def __init__(self) -> None:
        self.ref_variables: dict[str, Ref] = {}
        self.resources: dict[tuple[str, str], Any] = {}
        self.random_offsets: dict[str, int] = {}

    def ref_variable(self, op_name: str, dtype: np.dtype | None = None, shape: tuple | None = None) -> Ref:
        """The Ref of the ``VariableV2`` op ``op_name``, created on first use."""
        ref = self.ref_variables.get(op_name)
        if ref is None:
            ref = self.ref_variables[op_name] = Ref(op_name, dtype, shape)
        return ref

    def resource_variable(self, handle: ResourceHandle, create: bool = False) -> Ref:
        """The Ref behind a resource handle; created (uninitialized) when ``create``."""
        ref = self.resources.get(handle.key)
        if ref is None:
            if not create:
                raise FailedPreconditionError(
                    f"Resource variable {handle.shared_name!r} (container {handle.container!r}) "
                    f"does not exist or is uninitialized: run its initializer or restore it first")
            ref = self.resources[handle.key] = Ref(handle.shared_name, handle.dtype, handle.shape)
        return ref

    def lookup_resource(self, handle: ResourceHandle) -> Any:
        try:
            return self.resources[handle.key]
        except KeyError:
            raise NotFoundError(f"resource {handle.shared_name!r} (container {handle.container!r}) "
                                f"not found") from None


@dataclasses.dataclass
class KernelContext:
    """Passed as ``ctx=`` to kernels registered with ``needs_ctx=True``.

    ``node`` is the graph Operation being run; ``state`` the session's state;
    ``session`` the Session (io kernels use its storage options); ``call_function``
    runs a function of the graph's library (functional control flow) and is set by the
    executor: ``call_function(name, inputs: list, attrs: dict) -> list``.
    """

    node: "Operation"
    state: SessionState
    session: Any = None
    call_function: Any = None

    @property
    def op_name(self) -> str:
        return self.node.name
