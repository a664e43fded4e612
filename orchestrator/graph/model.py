"""The graph model: ``Graph``, ``Operation``, ``Tensor`` and the default-graph stack.

A plain data structure mirroring TF1's Python graph closely enough that resume scripts
(``graph.get_tensor_by_name("loss:0")``, ``tf.get_collection("train_op")[0]``) work
unchanged. Nothing here executes; the executor compiles from it.

Operations keep their NodeDef's attrs as AttrValue protos (so ``as_graph_def()`` gives
back exactly what was imported) and decode them once, on first use, into the Python
values described in ARCHITECTURE.md.
"""
from __future__ import annotations

import contextlib
import copy
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from orchestrator.dtypes import DType
from orchestrator.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError, suggest
from orchestrator.graph import attrs as attr_codec
from orchestrator.graph import names as naming
from orchestrator.graph import op_defs as opdefs
from orchestrator.graph.collections import GraphKeys, VariableInfo  # noqa: F401  (re-exported)
from orchestrator.protos import graph_pb2, node_def_pb2

VersionDef = type(graph_pb2.GraphDef().versions)   # found via GraphDef: no module-name assumption


class Tensor:
    """Output ``value_index`` of ``op``. ``dtype`` is the base type; ``is_ref`` marks ref outputs."""

    __slots__ = ("op", "value_index", "dtype", "is_ref", "shape")

    def __init__(self, op: Operation, value_index: int, dtype: DType, is_ref: bool = False,
                 shape: tuple | None = None):
        self.op = op
        self.value_index = value_index
        self.dtype = dtype
        self.is_ref = is_ref
        self.shape = shape

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def graph(self) -> Graph:
        return self.op.graph

    @property
    def device(self) -> str:
        return self.op.device

    def consumers(self) -> list[Operation]:
        """Operations that take this tensor as a data input, in graph order."""
        return self.op.graph._consumers_of(self)

    def __repr__(self) -> str:
        ref = "_ref" if self.is_ref else ""
        return f"<Tensor {self.name!r} shape={self.shape} dtype={self.dtype.tf_name}{ref}>"


class Operation:
    """One node. ``attrs`` are decoded lazily; ``node_def`` is rebuilt from the fields."""

    def __init__(self, graph: Graph, name: str, op_type: str, inputs: Sequence[Tensor] = (),
                 control_inputs: Sequence[Operation] = (), device: str = "",
                 attr_protos: Mapping[str, Any] | None = None,
                 output_types: Sequence[tuple[DType, bool]] = ()):
        self.graph = graph
        self.name = name
        self.type = op_type
        self.device = device
        self.inputs: tuple[Tensor, ...] = tuple(inputs)
        self.control_inputs: tuple[Operation, ...] = tuple(control_inputs)
        self._attr_protos: dict[str, Any] = dict(attr_protos or {})
        self._attrs: dict[str, Any] | None = None
        shapes = self._output_shapes(len(output_types))
        self.outputs: tuple[Tensor, ...] = tuple(
            Tensor(self, i, dtype, is_ref, shapes[i]) for i, (dtype, is_ref) in enumerate(output_types))

    def _output_shapes(self, count: int) -> list[tuple | None]:
        raw = self._attr_protos.get("_output_shapes")
        if raw is not None and len(raw.list.shape) == count:
            return [attr_codec.shape_from_proto(s) for s in raw.list.shape]
        if count == 1 and "shape" in self._attr_protos and self.type in _SHAPE_ATTR_OPS:
            return [attr_codec.shape_from_proto(self._attr_protos["shape"].shape)]
        if count == 1 and self.type == "Const" and "value" in self._attr_protos:
            return [attr_codec.shape_from_proto(self._attr_protos["value"].tensor.tensor_shape)]
        return [None] * count

    @property
    def attrs(self) -> dict[str, Any]:
        if self._attrs is None:
            self._attrs = {key: attr_codec.attr_to_python(value, f"node {self.name!r} attr {key!r}")
                           for key, value in self._attr_protos.items()}
        return self._attrs

    @property
    def attr_protos(self) -> Mapping[str, Any]:
        """The raw AttrValue protos (read-only view)."""
        return self._attr_protos

    def get_attr(self, name: str) -> Any:
        try:
            return self.attrs[name]
        except KeyError:
            raise NotFoundError(f"operation {self.name!r} ({self.type}) has no attr {name!r}; it has "
                                f"{sorted(self._attr_protos)}.{suggest(name, self._attr_protos)}") from None

    @property
    def values(self) -> tuple[Tensor, ...]:
        return self.outputs

    @property
    def colocation_groups(self) -> list[bytes]:
        """``_class`` entries (``b"loc:@w"``), or ``[b"loc:@<own name>"]`` when there are none."""
        raw = self._attr_protos.get("_class")
        groups = [v for v in raw.list.s if v.startswith(naming.COLOCATION_PREFIX)] if raw is not None else []
        return groups or [naming.COLOCATION_PREFIX + self.name.encode()]

    @property
    def node_def(self) -> Any:
        node = node_def_pb2.NodeDef(name=self.name, op=self.type, device=self.device)
        node.input.extend(naming.format_input(t.op.name, t.value_index) for t in self.inputs)
        node.input.extend("^" + op.name for op in self.control_inputs)
        for key in sorted(self._attr_protos):
            node.attr[key].CopyFrom(self._attr_protos[key])
        return node

    def __repr__(self) -> str:
        return f"<Operation {self.name!r} type={self.type}>"


# Ops whose single output's shape is their "shape" attr.
_SHAPE_ATTR_OPS = frozenset({"Placeholder", "VariableV2", "Variable", "PlaceholderWithDefault",
                             "TemporaryVariable"})


class Graph:
    """A TF1-style graph: operations in insertion order, collections, function library."""

    def __init__(self) -> None:
        self._ops: dict[str, Operation] = {}
        self._collections: dict[str, list[Any]] = {}
        self.function_library: dict[str, Any] = {}   # name -> FunctionDef
        self.gradient_defs: dict[str, str] = {}      # function name -> gradient function name
        self.versions = VersionDef()
        self._op_defs: dict[str, Any] = {}           # from imported stripped_op_lists
        self._unique = naming.UniqueNames()
        self._consumers: dict[tuple[str, int], list[Operation]] | None = None
        # Bumped whenever operations or functions are added (or an import is rolled back):
        # executors key their compiled schedules on it, so a Session made before
        # import_meta_graph sees the imported nodes.
        self.version = 0

    # ---------------------------------------------------------------- lookup
    def get_operations(self) -> list[Operation]:
        return list(self._ops.values())

    def __contains__(self, name: str) -> bool:
        return name in self._ops

    def get_operation_by_name(self, name: str) -> Operation:
        if not isinstance(name, str):
            raise InvalidArgumentError(f"operation name must be a string, found {type(name).__name__} {name!r}")
        if ":" in name:
            raise InvalidArgumentError(f"{name!r} names a tensor, not an operation; use get_tensor_by_name "
                                       f"or drop the ':index'")
        try:
            return self._ops[name]
        except KeyError:
            raise NotFoundError(f"the graph has no operation named {name!r}.{suggest(name, self._ops)}") from None

    def get_tensor_by_name(self, name: str) -> Tensor:
        if not isinstance(name, str):
            raise InvalidArgumentError(f"tensor name must be a string, found {type(name).__name__} {name!r}")
        if ":" not in name:
            raise InvalidArgumentError(f"{name!r} names an operation; a tensor name looks like '{name}:0'")
        op_name, index = naming.parse_tensor_name(name)
        op = self._ops.get(op_name)
        if op is None:
            tensors = (f"{o}:0" for o in self._ops)
            raise NotFoundError(f"the graph has no tensor named {name!r} (no operation {op_name!r}).{suggest(name, tensors)}")
        if index >= len(op.outputs):
            raise NotFoundError(f"tensor {name!r} does not exist: operation {op_name!r} ({op.type}) has "
                                f"{len(op.outputs)} output(s)")
        return op.outputs[index]

    def as_graph_element(self, obj: Any, allow_tensor: bool = True, allow_operation: bool = True) -> Any:
        """Resolve a name (``"x"`` → Operation, ``"x:0"`` → Tensor), Tensor or Operation of this graph."""
        if isinstance(obj, VariableInfo):
            obj = obj.tensor
        if isinstance(obj, (Tensor, Operation)):
            if obj.graph is not self:
                raise InvalidArgumentError(f"{obj!r} belongs to another graph")
            if isinstance(obj, Tensor) and not allow_tensor:
                raise InvalidArgumentError(f"expected an operation, found tensor {obj.name!r}")
            if isinstance(obj, Operation) and not allow_operation:
                raise InvalidArgumentError(f"expected a tensor, found operation {obj.name!r}")
            return obj
        if isinstance(obj, bytes):
            obj = obj.decode("utf-8", "replace")
        if not isinstance(obj, str):
            raise InvalidArgumentError(f"cannot interpret {type(obj).__name__} {obj!r} as a graph element")
        if ":" in obj:
            if not allow_tensor:
                raise InvalidArgumentError(f"{obj!r} names a tensor; an operation name is expected")
            return self.get_tensor_by_name(obj)
        if not allow_operation:
            raise InvalidArgumentError(f"{obj!r} names an operation; a tensor name like '{obj}:0' is expected")
        return self.get_operation_by_name(obj)

    # ---------------------------------------------------------------- op defs
    def op_def(self, op_type: str) -> Any:
        """The OpDef of ``op_type``: the imported meta graph's first, then orchestrator's table."""
        found = self._op_defs.get(op_type) or opdefs.builtin_op_defs().get(op_type)
        if found is None:
            known = set(self._op_defs) | set(opdefs.builtin_op_defs())
            raise NotFoundError(f"op type {op_type!r} is not defined: it is neither in the meta graph's "
                                f"stripped_op_list nor in orchestrator's op table.{suggest(op_type, known)}")
        return found

    def _register_op_defs(self, op_defs: Iterable[Any]) -> None:
        for op_def in op_defs:
            self._op_defs.setdefault(op_def.name, op_def)

    # ---------------------------------------------------------------- building
    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        return self._unique.unique(name, mark_as_used)

    def create_op(self, op_type: str, inputs: Sequence[Tensor | Sequence[Tensor]] = (),
                  attrs: Mapping[str, Any] | None = None, name: str | None = None, device: str = "",
                  control_inputs: Iterable[Operation] = ()) -> Operation:
        """Add one op (TF's ``_1`` naming). Missing type/number attrs are inferred from inputs.

        ``inputs`` has one entry per OpDef input arg; a list arg takes a list of tensors.
        """
        op_def = self.op_def(op_type)
        if len(inputs) != len(op_def.input_arg):
            raise InvalidArgumentError(f"{op_type} takes {len(op_def.input_arg)} input arg(s) "
                                       f"({[a.name for a in op_def.input_arg]}), got {len(inputs)}")
        protos = {k: v for k, v in opdefs.default_attrs(op_def).items()}
        types = opdefs.attr_types(op_def)
        for key, value in (attrs or {}).items():
            if key not in types and not key.startswith("_"):
                raise InvalidArgumentError(f"{op_type} has no attr {key!r}.{suggest(key, types)}")
            protos[key] = attr_codec.python_to_attr(value, types.get(key), f"{op_type} attr {key!r}")
        flat: list[Tensor] = []
        for arg, given in zip(op_def.input_arg, inputs):
            tensors = list(given) if isinstance(given, (list, tuple)) else [given]
            for t in tensors:
                if not isinstance(t, Tensor) or t.graph is not self:
                    raise InvalidArgumentError(f"{op_type} input {arg.name!r}: expected a Tensor of this graph, found {t!r}")
            if arg.number_attr and arg.number_attr not in protos:
                protos[arg.number_attr] = attr_codec.python_to_attr(len(tensors), "int")
            if arg.type_attr and arg.type_attr not in protos and tensors:
                protos[arg.type_attr] = attr_codec.python_to_attr(tensors[0].dtype, "type")
            if arg.type_list_attr and arg.type_list_attr not in protos:
                protos[arg.type_list_attr] = attr_codec.python_to_attr([t.dtype for t in tensors], "list(type)")
            flat.extend(tensors)
        op_name = self.unique_name(name or op_type)
        if not naming.is_valid_op_name(op_name):
            raise InvalidArgumentError(f"{op_name!r} is not a valid operation name")
        decoded = {k: attr_codec.attr_to_python(v) for k, v in protos.items() if k != "value"}
        op = Operation(self, op_name, op_type, flat, tuple(control_inputs), device, protos,
                       opdefs.output_signature(op_def, decoded, op_name))
        self._add_ops([op])
        return op

    def _add_ops(self, ops: Iterable[Operation]) -> None:
        for op in ops:
            if op.name in self._ops:
                raise InvalidArgumentError(f"duplicate operation name {op.name!r}")
            self._ops[op.name] = op
            self._unique.mark(op.name)
        self._consumers = None
        self.version += 1

    def _add_functions(self, library: Any, where: str) -> None:
        """Merge a FunctionDefLibrary; a different function under an existing name is an error."""
        for fn in library.function:
            name = fn.signature.name
            existing = self.function_library.get(name)
            if existing is not None and existing != fn:
                raise InvalidArgumentError(f"{where}: function {name!r} is already in the graph's library with "
                                           f"a different definition")
            self.function_library[name] = fn
        for grad in library.gradient:
            self.gradient_defs[grad.function_name] = grad.gradient_func
        self.version += 1

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """Undo every addition made inside the block if it raises (imports are all-or-nothing)."""
        ops = dict(self._ops)
        collections = {k: list(v) for k, v in self._collections.items()}
        functions, gradients = dict(self.function_library), dict(self.gradient_defs)
        op_defs, versions = dict(self._op_defs), VersionDef()
        versions.CopyFrom(self.versions)
        unique = copy.deepcopy(self._unique)
        try:
            yield
        except BaseException:
            self._ops, self._collections = ops, collections
            self.function_library, self.gradient_defs = functions, gradients
            self._op_defs, self._unique = op_defs, unique
            self.versions.CopyFrom(versions)
            self._consumers = None
            self.version += 1
            raise

    def _consumers_of(self, tensor: Tensor) -> list[Operation]:
        if self._consumers is None:
            table: dict[tuple[str, int], list[Operation]] = {}
            for op in self._ops.values():
                for t in op.inputs:
                    table.setdefault((t.op.name, t.value_index), []).append(op)
            self._consumers = table
        return list(self._consumers.get((tensor.op.name, tensor.value_index), []))

    def as_graph_def(self) -> Any:
        graph_def = graph_pb2.GraphDef()
        graph_def.node.extend(op.node_def for op in self._ops.values())
        graph_def.versions.CopyFrom(self.versions)
        for name in self.function_library:
            graph_def.library.function.add().CopyFrom(self.function_library[name])
        for fn, grad in self.gradient_defs.items():
            graph_def.library.gradient.add(function_name=fn, gradient_func=grad)
        return graph_def

    # ---------------------------------------------------------------- collections
    def add_to_collection(self, name: str, value: Any) -> None:
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names: str | Iterable[str], value: Any) -> None:
        for name in [names] if isinstance(names, str) else set(names):
            self.add_to_collection(name, value)

    def get_collection_ref(self, name: str) -> list[Any]:
        return self._collections.setdefault(name, [])

    def get_collection(self, name: str, scope: str | None = None) -> list[Any]:
        """A copy of the collection; with ``scope``, the items whose ``name`` matches it (re.match)."""
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        regex = re.compile(scope)
        return [item for item in items if isinstance(getattr(item, "name", None), str) and regex.match(item.name)]

    def get_all_collection_keys(self) -> list[str]:
        return [key for key, items in self._collections.items() if isinstance(key, str)]

    def clear_collection(self, name: str) -> None:
        self._collections.pop(name, None)

    # ---------------------------------------------------------------- default graph
    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        _stack().append(self)
        try:
            yield self
        finally:
            _stack().pop()

    def __repr__(self) -> str:
        return f"<Graph with {len(self._ops)} operations>"


_local = threading.local()
_global_default: Graph | None = None
_global_lock = threading.Lock()


def _stack() -> list[Graph]:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def get_default_graph() -> Graph:
    """The innermost ``as_default()`` graph of this thread, else the process-wide default."""
    global _global_default
    stack = _stack()
    if stack:
        return stack[-1]
    with _global_lock:
        if _global_default is None:
            _global_default = Graph()
        return _global_default


def reset_default_graph() -> None:
    """Replace the process-wide default graph with a new empty one (not allowed inside as_default)."""
    global _global_default
    if _stack():
        raise FailedPreconditionError(
            "reset_default_graph() called inside a `with graph.as_default():` block; TF forbids clearing "
            "nested graphs — leave the block first")
    with _global_lock:
        _global_default = Graph()


def get_collection(key: str, scope: str | None = None) -> list[Any]:
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key: str) -> list[Any]:
    return get_default_graph().get_collection_ref(key)


def add_to_collection(name: str, value: Any) -> None:
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names: str | Iterable[str], value: Any) -> None:
    get_default_graph().add_to_collections(names, value)


def get_all_collection_keys() -> list[str]:
    return get_default_graph().get_all_collection_keys()


__all__ = ["Graph", "Operation", "Tensor", "GraphKeys", "VariableInfo", "get_default_graph",
           "reset_default_graph", "get_collection", "get_collection_ref", "add_to_collection",
           "add_to_collections", "get_all_collection_keys"]
