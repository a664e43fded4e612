"""NodeDefs → staged Operations: renaming, op-def typing, input wiring, ``input_map``.

Nothing here touches the graph's contents; the caller adds the staged operations once
everything has been checked (see :func:`orchestrator.graph.load.import_into`).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from orchestrator.errors import InvalidArgumentError, NotFoundError, suggest
from orchestrator.graph import attrs as attr_codec
from orchestrator.graph import names as naming
from orchestrator.graph import op_defs as opdefs
from orchestrator.graph.devices import canonical_device
from orchestrator.graph.model import Graph, Operation, Tensor


_ENTER_OPS = frozenset({"Enter", "RefEnter"})


@dataclasses.dataclass
class StagedImport:
    ops: dict[str, Operation]            # new name -> operation, in graph_def order
    rename_op: Callable[[str], str]      # graph_def node name -> new name
    frame_map: dict[str, str]            # graph_def while frame name -> name in the graph


class _LazyAttrs(Mapping):
    """Decodes only the attrs an OpDef asks for (type/number attrs), not big Const values."""

    def __init__(self, protos: Mapping[str, Any], node: str):
        self._protos, self._node, self._cache = protos, node, {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._cache:
            self._cache[key] = attr_codec.attr_to_python(self._protos[key], f"node {self._node!r} attr {key!r}")
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._protos)

    def __len__(self) -> int:
        return len(self._protos)


def build_operations(graph: Graph, meta: Any, where: str, prefix: str, clear_devices: bool,
                     input_map: Mapping[str, Any] | None) -> StagedImport:
    nodes = list(meta.graph_def.node)
    _check_node_names(nodes, where)
    incoming = [naming.prepend_scope(n.name, prefix) for n in nodes]
    renamer = naming.ImportRenamer((op.name for op in graph.get_operations()), incoming)
    mapping = {n.name: renamer.assign(new) for n, new in zip(nodes, incoming)}

    def rename_op(name: str) -> str:
        return mapping.get(name) or naming.prepend_scope(name, prefix)

    frame_map = _frame_names(graph, nodes, prefix)
    local_defs = {op.name: op for op in meta.meta_info_def.stripped_op_list.op}
    functions = {f.signature.name: f.signature for f in meta.graph_def.library.function}
    ops: dict[str, Operation] = {}
    for node in nodes:
        op_def = _find_op_def(graph, node, local_defs, functions, where)
        protos = {key: node.attr[key] for key in node.attr}
        for key, default in opdefs.default_attrs(op_def).items():
            protos.setdefault(key, default)
        if "_class" in protos:
            cls = attr_codec.AttrValue()
            cls.list.s.extend(naming.rename_colocation(protos["_class"].list.s, rename_op))
            protos["_class"] = cls
        if node.op in _ENTER_OPS and "frame_name" in protos and frame_map:
            frame = attr_codec.AttrValue()
            frame.s = frame_map[protos["frame_name"].s.decode("utf-8", "replace")].encode()
            protos["frame_name"] = frame
        new_name = mapping[node.name]
        try:
            signature = opdefs.output_signature(op_def, _LazyAttrs(protos, node.name), node.name)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"{where}: {exc}") from None
        # TF stores devices in canonical form on import ("/gpu:0" -> "/device:GPU:0").
        device = "" if clear_devices else canonical_device(node.device, f"{where}: node {node.name!r}")
        ops[new_name] = Operation(graph, new_name, node.op, device=device,
                                  attr_protos=protos, output_types=signature)
    _wire_inputs(graph, nodes, ops, mapping, local_defs, functions, input_map or {}, where)
    return StagedImport(ops, rename_op, frame_map)


def _frame_names(graph: Graph, nodes: list[Any], prefix: str) -> dict[str, str]:
    """While-loop frame name of the graph_def → its name in the graph.

    TF's importer prefixes frames with the import scope. Importing without a scope into
    a graph that already has the same loop would give two loops one frame (TF does
    that, and an executor keying frames by name then mixes their iterations); such a
    frame gets the first free ``_1``, ``_2`` suffix instead, and the loop's
    ``WhileContextDef`` follows it.
    """
    frames = {node.attr["frame_name"].s.decode("utf-8", "replace")
              for node in nodes if node.op in _ENTER_OPS and "frame_name" in node.attr}
    if not frames:
        return {}
    existing = {op.get_attr("frame_name").decode("utf-8", "replace")
                for op in graph.get_operations() if op.type in _ENTER_OPS and "frame_name" in op.attr_protos}
    scoped = {frame: naming.prepend_scope(frame, prefix) for frame in sorted(frames)}
    taken = existing | set(scoped.values())
    out = {}
    for frame, name in scoped.items():
        if name in existing:
            count = 1
            while f"{name}_{count}" in taken:
                count += 1
            name = f"{name}_{count}"
            taken.add(name)
        out[frame] = name
    return out


def _check_node_names(nodes: list[Any], where: str) -> None:
    seen: set[str] = set()
    for node in nodes:
        if not naming.is_valid_op_name(node.name):
            raise InvalidArgumentError(f"{where}: graph_def has a node with invalid name {node.name!r}")
        if node.name in seen:
            raise InvalidArgumentError(f"{where}: graph_def has two nodes named {node.name!r}")
        seen.add(node.name)


def _find_op_def(graph: Graph, node: Any, local_defs: Mapping[str, Any], functions: Mapping[str, Any],
                 where: str) -> Any:
    found = local_defs.get(node.op) or functions.get(node.op)
    if found is not None:
        return found
    try:
        return graph.op_def(node.op)
    except NotFoundError:
        raise NotFoundError(
            f"{where}: node {node.name!r} has op type {node.op!r}, which is neither in the meta graph's "
            f"stripped_op_list nor its function library nor orchestrator's op table"
            f"{suggest(node.op, list(local_defs) + list(functions))}") from None


def _wire_inputs(graph: Graph, nodes: list[Any], ops: dict[str, Operation], mapping: Mapping[str, str],
                 local_defs: Mapping[str, Any], functions: Mapping[str, Any], input_map: Mapping[str, Any],
                 where: str) -> None:
    mapped = _check_input_map(graph, input_map, nodes, ops, mapping, where)
    _check_unbound_inputs(nodes, mapped, where)
    for node in nodes:
        op = ops[mapping[node.name]]
        data: list[Tensor] = []
        control: list[Operation] = []
        for text in node.input:
            src_name, index, is_control = naming.parse_input(text)
            key = ("^" + src_name) if is_control else f"{src_name}:{index}"
            if key in mapped:
                (control if is_control else data).append(mapped[key])
                continue
            src = ops.get(mapping.get(src_name, "\0"))
            if src is None:
                raise InvalidArgumentError(
                    f"{where}: node {node.name!r} has input {text!r}, but the graph_def has no node "
                    f"{src_name!r}.{suggest(src_name, mapping)}")
            if is_control:
                control.append(src)
            elif index >= len(src.outputs):
                raise InvalidArgumentError(
                    f"{where}: node {node.name!r} input {text!r}: {src.type} node {src_name!r} has only "
                    f"{len(src.outputs)} output(s)")
            else:
                data.append(src.outputs[index])
        op_def = _find_op_def(graph, node, local_defs, functions, where)
        expected = sum(opdefs.input_arg_sizes(op_def, _LazyAttrs(op.attr_protos, node.name), node.name))
        if expected != len(data):
            raise InvalidArgumentError(f"{where}: node {node.name!r} ({node.op}) has {len(data)} data "
                                       f"input(s); its OpDef expects {expected}")
        op.inputs = tuple(data)
        op.control_inputs = tuple(control)


def _check_input_map(graph: Graph, input_map: Mapping[str, Any], nodes: list[Any], ops: Mapping[str, Operation],
                     mapping: Mapping[str, str], where: str) -> dict[str, Any]:
    """Normalize keys to ``op:i`` / ``^op`` and check both sides exist."""
    if not isinstance(input_map, Mapping):
        raise InvalidArgumentError(f"input_map must be a dict of tensor name -> Tensor, found {type(input_map).__name__}")
    out: dict[str, Any] = {}
    for key, value in input_map.items():
        if not isinstance(key, str):
            raise InvalidArgumentError(f"input_map key {key!r} must be a tensor name string")
        src_name, index, is_control = naming.parse_input(key)
        normalized = ("^" + src_name) if is_control else f"{src_name}:{index}"
        if src_name.startswith(naming.UNBOUND_INPUT_PREFIX):
            # Not a node: a placeholder name export_meta_graph(export_scope=...) left for an
            # input from outside the scope; the caller binds it here.
            if not any(naming.parse_input(t)[0] == src_name for n in nodes for t in n.input):
                raise NotFoundError(f"{where}: input_map names {key!r}, but no node of the imported graph has "
                                    f"the unbound input {src_name!r}")
            out[normalized] = _input_map_target(graph, value, is_control)
            continue
        src = ops.get(mapping.get(src_name, "\0"))
        if src is None:
            raise NotFoundError(f"{where}: input_map names {key!r}, but the imported graph has no node "
                                f"{src_name!r}.{suggest(src_name, mapping)}")
        if not is_control and index >= len(src.outputs):
            raise NotFoundError(f"{where}: input_map names {key!r}, but {src.type} node {src_name!r} has "
                                f"{len(src.outputs)} output(s)")
        out[normalized] = _input_map_target(graph, value, is_control)
    return out


def _input_map_target(graph: Graph, value: Any, is_control: bool) -> Tensor | Operation:
    """A Tensor for a data input; an Operation for a ``^`` key (TF also takes a Tensor: its op)."""
    target = graph.as_graph_element(value, allow_tensor=True, allow_operation=is_control)
    return target.op if is_control and isinstance(target, Tensor) else target


def _check_unbound_inputs(nodes: list[Any], mapped: Mapping[str, Any], where: str) -> None:
    """Every ``$unbound_inputs_`` input must be bound by input_map (TF refuses the import too)."""
    missing: list[str] = []
    for node in nodes:
        for text in node.input:
            src_name, index, is_control = naming.parse_input(text)
            if not src_name.startswith(naming.UNBOUND_INPUT_PREFIX):
                continue
            key = ("^" + src_name) if is_control else f"{src_name}:{index}"
            if key not in mapped and text not in missing:
                missing.append(text)
    if missing:
        raise InvalidArgumentError(
            f"{where}: the graph was exported with export_scope and reads {len(missing)} input(s) from "
            f"outside it: {missing}; bind each with input_map, e.g. input_map={{{missing[0]!r}: tensor}} "
            f"(a '^' entry takes an Operation)")
