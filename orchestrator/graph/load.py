"""``import_meta_graph``: recreate a TF1 graph, its collections and its Saver.

Behaves as TF1's ``tf.train.import_meta_graph`` (see its docs): every node of the meta
graph's ``graph_def`` and its function library go into the default graph (devices in
TF's canonical form), every collection is recreated, and a
:class:`~orchestrator.checkpoint.saver.Saver` is returned: the one ``saver_def``
describes, else TF's default ``Saver()`` (a ``save`` subgraph over all global
variables, :mod:`saver_graph`) if there are variables, else ``None``. Inputs that an
``export_scope`` export left as ``$unbound_inputs_<name>`` must be bound via
``input_map``.

Three things are done better than TF:

* importing into a graph that already has the names renames the new nodes TF's way
  (``w`` → ``w_1``) *and* renames the collection entries consistently, where TF leaves
  them pointing at the first import's nodes; a second copy of a while loop gets its
  own frame name;
* the import is atomic: everything is built and checked first, then added, so a
  failed import leaves the graph as it was;
* files exported with an ``export_scope`` that reads outside inputs import again.

    >>> saver = import_meta_graph("s3://bucket/run/model.ckpt-1000.meta")
    >>> train_op = get_collection("train_op")[0]
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from orchestrator.errors import InvalidArgumentError, NotFoundError, suggest
from orchestrator.graph import names as naming
from orchestrator.graph.collections import (PROTO_KEYS, UNBOUND_INPUTS_KEY, VARIABLE_KEYS, GraphKeys, VariableInfo,
                                            rename_proto_names)
from orchestrator.graph.meta_io import read_meta_graph
from orchestrator.graph.model import Graph, Operation, Tensor, get_default_graph
from orchestrator.graph.nodes import build_operations
from orchestrator.graph.saver_graph import build_default_saver_def

_SUPPORTED_KWARGS = ("input_map", "return_elements")


def import_meta_graph(meta_graph_or_file: Any, clear_devices: bool = False, import_scope: str | None = None,
                      **kwargs: Any) -> Any:
    """Import a MetaGraphDef (object, path or fsspec URL) into the default graph.

    Returns the Saver (``None`` when the graph has no variables), or ``(saver, elements)``
    when ``return_elements`` is given. ``input_map`` maps tensor names of the imported
    graph (``"x:0"``, or ``"^x"`` for control inputs) to Tensors/Operations of this graph
    (a ``"^x"`` key also takes a Tensor, meaning its op, as in TF).
    """
    unknown = sorted(set(kwargs) - set(_SUPPORTED_KWARGS))
    if unknown:
        raise InvalidArgumentError(
            f"import_meta_graph got unsupported keyword argument(s) {unknown}; supported: "
            f"clear_devices, import_scope, {', '.join(_SUPPORTED_KWARGS)}.{suggest(unknown[0], _SUPPORTED_KWARGS)}")
    graph = get_default_graph()
    meta = read_meta_graph(meta_graph_or_file)
    where = meta_graph_or_file if isinstance(meta_graph_or_file, str) else "meta graph"
    return import_into(graph, meta, where, clear_devices, import_scope,
                       kwargs.get("input_map"), kwargs.get("return_elements"))


def import_into(graph: Graph, meta: Any, where: str, clear_devices: bool = False,
                import_scope: str | None = None, input_map: Mapping[str, Any] | None = None,
                return_elements: Iterable[str] | None = None) -> Any:
    """``import_meta_graph`` on an explicit graph and an already parsed MetaGraphDef."""
    prefix = _scope_prefix(graph, import_scope)
    with graph._transaction():
        staged = build_operations(graph, meta, where, prefix, clear_devices, input_map)
        collections = _build_collections(graph, meta, staged.ops, staged.rename_op, prefix, where, staged.frame_map)
        elements = _return_elements(staged.ops, staged.rename_op, return_elements, where)
        graph._register_op_defs(meta.meta_info_def.stripped_op_list.op)
        graph._add_functions(meta.graph_def.library, where)
        if not graph.get_operations():
            graph.versions.CopyFrom(meta.graph_def.versions)
        graph._add_ops(staged.ops.values())
        _propagate_colocated_devices(graph, staged.ops.values())
        for key, items in collections:
            graph.get_collection_ref(key).extend(items)
        saver = _make_saver(graph, meta, staged.rename_op, prefix)
    return (saver, elements) if return_elements is not None else saver


def _scope_prefix(graph: Graph, import_scope: str | None) -> str:
    """TF's name_scope semantics: ``"s"`` becomes ``s_1`` if taken; ``"s/"`` is used as is."""
    if not import_scope:
        return ""
    stripped = naming.validate_scope(import_scope)
    if import_scope.endswith("/"):
        return stripped
    return graph.unique_name(stripped, mark_as_used=False)


def _propagate_colocated_devices(graph: Graph, ops: Iterable[Operation]) -> None:
    """TF's import rule: a colocated op takes the device of the first op of its group that has one.

    The op's own device is dropped even when none of its group has a device: the
    colocation constraint is what places it (observed with TF 2.21's importer).
    Devices are already canonical (``nodes.build_operations``).
    """
    for op in ops:
        groups = op.attr_protos.get("_class")
        targets = [v[len(naming.COLOCATION_PREFIX):].decode() for v in (groups.list.s if groups is not None else ())
                   if v.startswith(naming.COLOCATION_PREFIX)]
        if not targets:
            continue
        device = ""
        for target in targets:
            other = graph._ops.get(target)
            if other is not None and other.device:
                device = other.device
                break
        op.device = device


# ------------------------------------------------------------------------ collections

def _collection_order(meta: Any) -> list[str]:
    # TF restores trainable_variables first so that shared variable objects come from it.
    keys = sorted(meta.collection_def)
    if GraphKeys.TRAINABLE_VARIABLES in keys:
        keys.remove(GraphKeys.TRAINABLE_VARIABLES)
        keys.insert(0, GraphKeys.TRAINABLE_VARIABLES)
    return keys


def _build_collections(graph: Graph, meta: Any, ops: Mapping[str, Operation], rename_op: Callable[[str], str],
                       prefix: str, where: str, frame_map: Mapping[str, str]) -> list[tuple[str, list[Any]]]:
    def resolve(name: str, key: str, renamed: str | None = None) -> Operation | Tensor:
        renamed = renamed or naming.rename_tensor(name, rename_op)
        op_name, index = naming.parse_tensor_name(renamed)
        op = ops.get(op_name)
        if op is None:
            raise NotFoundError(f"{where}: collection {key!r} names {name!r}, which is not a node of the "
                                f"graph_def.{suggest(name, ops)}")
        if ":" not in renamed:
            return op
        if index >= len(op.outputs):
            raise NotFoundError(f"{where}: collection {key!r} names tensor {name!r} but {op.type} node "
                                f"{op_name!r} has {len(op.outputs)} output(s)")
        return op.outputs[index]

    def rename_key(name: str) -> str:
        return naming.prepend_scope(name, prefix)

    shared_variables: dict[bytes, VariableInfo] = {}
    result = []
    for key in _collection_order(meta):
        col = meta.collection_def[key]
        kind = col.WhichOneof("kind")
        if kind is None or key == UNBOUND_INPUTS_KEY:
            continue
        values = list(getattr(col, kind).value)
        if kind == "node_list":
            items: list[Any] = [resolve(v, key) for v in values]
        elif kind == "int64_list":
            items = [int(v) for v in values]
        elif kind == "float_list":
            items = [float(v) for v in values]
        elif key in PROTO_KEYS:
            items = []
            for raw in values:
                if key in VARIABLE_KEYS and raw in shared_variables:
                    items.append(shared_variables[raw])
                    continue
                proto = _parse_collection_proto(PROTO_KEYS[key], raw, key, where)
                original_name = getattr(proto, "variable_name", "")
                # A WhileContextDef's context_name is its loop's frame name, which follows the frame.
                rename_proto_names(proto, lambda n: frame_map.get(n) or naming.rename_tensor(n, rename_op),
                                   rename_key)
                if key in VARIABLE_KEYS:
                    resolve(original_name, key, proto.variable_name)
                    item: Any = VariableInfo(proto, graph)
                    shared_variables[raw] = item
                else:
                    item = proto
                items.append(item)
        elif prefix:
            # Plain strings: TF prefixes them with the import scope, which also turns them
            # from bytes into str (tf.get_collection then returns str).
            items = [naming.scope_string_item(v.decode("utf-8", "replace"), prefix) for v in values]
        else:
            items = list(values)   # unscoped, TF hands back the bytes as stored
        result.append((key, items))
    return result


def _parse_collection_proto(cls: type, raw: bytes, key: str, where: str) -> Any:
    from google.protobuf import message
    proto = cls()
    try:
        proto.ParseFromString(raw)
    except message.DecodeError as exc:
        raise InvalidArgumentError(f"{where}: collection {key!r} holds bytes that are not a "
                                   f"{cls.__name__} ({exc})") from None
    return proto


def _return_elements(ops: Mapping[str, Operation], rename_op: Callable[[str], str],
                     names: Iterable[str] | None, where: str) -> list[Any] | None:
    if names is None:
        return None
    if isinstance(names, str):
        raise InvalidArgumentError("return_elements must be a list of names, not a single string")
    out = []
    for name in names:
        op_name, index = naming.parse_tensor_name(name)
        op = ops.get(rename_op(op_name))
        if op is None:
            raise NotFoundError(f"{where}: return_elements names {name!r}, which is not in the graph_def."
                                f"{suggest(op_name, [n for n in ops])}")
        if ":" not in name:
            out.append(op)
        elif index >= len(op.outputs):
            raise NotFoundError(f"{where}: return_elements names {name!r} but {op_name!r} has "
                                f"{len(op.outputs)} output(s)")
        else:
            out.append(op.outputs[index])
    return out


# ------------------------------------------------------------------------ saver

def _make_saver(graph: Graph, meta: Any, rename_op: Callable[[str], str], prefix: str) -> Any:
    """TF's rule: the saver_def's Saver; else a default Saver if there are variables; else None.

    The default Saver is built as TF's ``Saver()`` is: a ``save`` subgraph over every
    global variable of the graph (not only the imported ones), see :mod:`saver_graph`.
    """
    from orchestrator.checkpoint.saver import Saver

    if meta.HasField("saver_def"):
        saver_def = type(meta.saver_def)()
        saver_def.CopyFrom(meta.saver_def)
        rename_proto_names(saver_def, lambda n: naming.rename_tensor(n, rename_op))
        return Saver(saver_def=saver_def, graph=graph)
    if not graph.get_collection(GraphKeys.GLOBAL_VARIABLES, scope=prefix or None):
        return None
    return Saver(saver_def=build_default_saver_def(graph), graph=graph)
