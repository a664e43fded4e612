"""``export_meta_graph``: write a graph, its collections and a SaverDef as a TF MetaGraphDef.

The output is what TF1's ``tf.train.export_meta_graph`` writes, so real TensorFlow can
``import_meta_graph`` it and continue training: nodes with their attrs, the function
library, the op defs used (``stripped_op_list``), every collection serialized in the
kind TF expects (node names, VariableDef/QueueRunnerDef/control-flow protos, numbers).

    >>> meta = export_meta_graph("memory://run/model.ckpt-10.meta", saver_def=saver.saver_def)
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from google.protobuf import message, text_format

from orchestrator import storage
from orchestrator.graph import names as naming
from orchestrator.graph.collections import UNBOUND_INPUTS_KEY, VariableInfo, rename_proto_names
from orchestrator.graph.model import Graph, Operation, Tensor, get_default_graph
from orchestrator.protos import meta_graph_pb2

MetaGraphDef = meta_graph_pb2.MetaGraphDef


def export_meta_graph(filename: str | None = None, graph: Graph | None = None, clear_devices: bool = False,
                      as_text: bool = False, collection_list: Iterable[str] | None = None,
                      export_scope: str | None = None, saver_def: Any = None, strip_default_attrs: bool = False,
                      meta_info_def: Any = None, **storage_options: Any) -> Any:
    """Build the MetaGraphDef of ``graph`` (default graph) and write it to ``filename`` if given.

    ``export_scope`` keeps only the nodes under that scope and strips it from every name.
    Inputs from outside the scope become ``$unbound_inputs_<name>`` (listed once each in
    the ``unbound_inputs`` collection, where TF repeats them and leaves out control
    inputs); importing the result requires binding them with ``input_map``.
    """
    graph = graph or get_default_graph()
    scope = naming.validate_scope(export_scope, "export_scope") if export_scope else ""
    meta = MetaGraphDef()
    if meta_info_def is not None:
        meta.meta_info_def.CopyFrom(meta_info_def)
    graph_def = graph.as_graph_def()
    unbound: list[str] = []
    if scope or clear_devices:
        graph_def, unbound = _scoped_graph_def(graph_def, scope, clear_devices)
    meta.graph_def.CopyFrom(graph_def)
    if strip_default_attrs:
        _strip_defaults(graph, meta.graph_def)
    meta.meta_info_def.stripped_default_attrs = bool(strip_default_attrs)
    _add_op_defs(graph, meta)
    if saver_def is not None:
        meta.saver_def.CopyFrom(saver_def)
        if scope:
            rename_proto_names(meta.saver_def, lambda n: naming.strip_scope(n, scope))
    keys = graph.get_all_collection_keys() if collection_list is None else list(collection_list)
    for key in keys:
        if key != UNBOUND_INPUTS_KEY:
            _add_collection(meta, key, graph.get_collection(key), scope)
    if unbound:
        meta.collection_def[UNBOUND_INPUTS_KEY].bytes_list.value.extend(name.encode() for name in unbound)
    if filename:
        data = text_format.MessageToString(meta).encode() if as_text else meta.SerializeToString(deterministic=True)
        storage.write_bytes(filename, data, **storage_options)
    return meta


def _in_scope(name: str, scope: str) -> bool:
    """Is ``name`` (a node, tensor or ``^control`` name) under ``scope``? Everything is, without one."""
    return not scope or name.lstrip("^").startswith(scope + "/")


def _scoped_graph_def(graph_def: Any, scope: str, clear_devices: bool) -> tuple[Any, list[str]]:
    """The nodes under ``scope`` with the scope taken off, and the inputs they read from outside it.

    An outside input ``x`` becomes ``$unbound_inputs_x`` (``^$unbound_inputs_x`` for a
    control input), as TF writes it; whoever imports the result binds those names with
    ``input_map``. The second value lists them once each, in first-use order.
    """
    out = type(graph_def)()
    out.versions.CopyFrom(graph_def.versions)
    out.library.CopyFrom(graph_def.library)
    unbound: list[str] = []
    for node in graph_def.node:
        if not _in_scope(node.name, scope):
            continue
        new = out.node.add()
        new.CopyFrom(node)
        if clear_devices:
            new.device = ""
        if not scope:
            continue
        new.name = naming.strip_scope(node.name, scope)
        del new.input[:]
        for text in node.input:
            if _in_scope(text, scope):
                new.input.append(naming.strip_scope(text, scope))
                continue
            control = text.startswith("^")
            placeholder = ("^" if control else "") + naming.UNBOUND_INPUT_PREFIX + text.lstrip("^")
            new.input.append(placeholder)
            if placeholder not in unbound:
                unbound.append(placeholder)
        if "_class" in node.attr:
            kept = [v for v in node.attr["_class"].list.s
                    if not v.startswith(naming.COLOCATION_PREFIX) or _in_scope(v[5:].decode(), scope)]
            del new.attr["_class"].list.s[:]
            new.attr["_class"].list.s.extend(naming.rename_colocation(kept, lambda n: naming.strip_scope(n, scope)))
        if node.op in ("Enter", "RefEnter") and "frame_name" in node.attr:
            frame = node.attr["frame_name"].s.decode("utf-8", "replace")
            if _in_scope(frame, scope):   # import scoped it; take the scope off again
                new.attr["frame_name"].s = naming.strip_scope(frame, scope).encode()
    return out, unbound


def _strip_defaults(graph: Graph, graph_def: Any) -> None:
    for node in graph_def.node:
        try:
            op_def = graph.op_def(node.op)
        except Exception:   # function-call nodes have no registered OpDef
            continue
        for attr in op_def.attr:
            if attr.HasField("default_value") and attr.name in node.attr and node.attr[attr.name] == attr.default_value:
                del node.attr[attr.name]


def _add_op_defs(graph: Graph, meta: Any) -> None:
    used = {node.op for node in meta.graph_def.node}
    for fn in meta.graph_def.library.function:
        used.update(node.op for node in fn.node_def)
    functions = {fn.signature.name for fn in meta.graph_def.library.function}
    stripped = meta.meta_info_def.stripped_op_list
    del stripped.op[:]
    for op_type in sorted(used - functions):
        stripped.op.add().CopyFrom(graph.op_def(op_type))


def _add_collection(meta: Any, key: str, items: list[Any], scope: str) -> None:
    def strip(name: str) -> str:
        return naming.strip_scope(name, scope)

    if not items:
        return
    kinds = {_kind(item) for item in items}
    if len(kinds) != 1 or None in kinds:
        found = sorted(type(i).__name__ for i in items)
        warnings.warn(f"export_meta_graph: collection {key!r} skipped: its items ({found[:5]}) are not all "
                      f"graph elements, protos, ints, floats or strings", stacklevel=3)
        return
    kind = kinds.pop()
    col = meta.collection_def[key]
    if kind == "node_list":
        col.node_list.value.extend(strip(i.name) for i in items if _in_scope(i.name, scope))
    elif kind == "int64_list":
        col.int64_list.value.extend(int(i) for i in items)
    elif kind == "float_list":
        col.float_list.value.extend(float(i) for i in items)
    elif kind == "proto":
        for item in items:
            proto = item.variable_def if isinstance(item, VariableInfo) else item
            if not _in_scope(_proto_name(proto), scope):
                continue
            copy = type(proto)()
            copy.CopyFrom(proto)
            if scope:
                rename_proto_names(copy, strip, strip)
            col.bytes_list.value.append(copy.SerializeToString(deterministic=True))
    else:
        values = [i.encode() if isinstance(i, str) else bytes(i) for i in items]
        if scope:
            # TF keeps only the strings under the scope. Unlike TF (which leaves the scope on,
            # so a scoped round trip doubles it) we take it off: import puts it back.
            kept = (naming.unscope_string_item(v.decode("utf-8", "replace"), scope) for v in values)
            values = [v.encode() for v in kept if v is not None]
        col.bytes_list.value.extend(values)


# The field that names a collection proto's object (TF filters scoped exports by it).
_PROTO_NAME_FIELDS = ("variable_name", "queue_name", "context_name", "filename_tensor_name")


def _proto_name(proto: Any) -> str:
    for field in _PROTO_NAME_FIELDS:
        value = getattr(proto, field, "")
        if value:
            return value
    return ""


def _kind(item: Any) -> str | None:
    if isinstance(item, (Operation, Tensor)):
        return "node_list"
    if isinstance(item, bool):
        return None
    if isinstance(item, int):
        return "int64_list"
    if isinstance(item, float):
        return "float_list"
    if isinstance(item, (bytes, str)):
        return "bytes_list"
    if isinstance(item, (VariableInfo, message.Message)):
        return "proto"
    return None
