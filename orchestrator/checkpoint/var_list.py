"""The key→variable mapping of ``Saver(var_list)`` built without a saver subgraph.

TF1's naming rules: a variable is saved under its op name (``"dense/kernel"``); a
dict maps chosen keys to variables; a partitioned variable's parts (their
``VariableDef.save_slice_info_def``) are saved as slices of one key (its
``full_name``), with the slice spec ``"<full shape> <offset>,<length>:..."``. With
``sharded=True`` variables are grouped by device, one data file per device.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.checkpoint.mapping import (RestoreEntry, SaveEntry, SaverSpec, SaveShard, VariableTarget,
                                             variable_target)
from orchestrator.errors import InvalidArgumentError


def _collection_info(graph: Any) -> dict[str, Any]:
    """Variable op name → VariableInfo, from every variable collection."""
    from orchestrator.graph.collections import VARIABLE_KEYS
    out: dict[str, Any] = {}
    for key in sorted(VARIABLE_KEYS):
        for item in graph.get_collection(key):
            if hasattr(item, "variable_def"):
                out.setdefault(item.name.split(":")[0], item)
    return out


def _resolve(graph: Any, item: Any, infos: dict[str, Any]) -> tuple[Any, Any]:
    """(variable Operation, VariableInfo or None) for a VariableInfo, Operation, Tensor or name."""
    if hasattr(item, "variable_def"):
        return item.op, item
    element = graph.as_graph_element(item) if isinstance(item, str) else item
    op = getattr(element, "op", element)
    if not hasattr(op, "type"):
        raise InvalidArgumentError(f"Saver var_list: cannot interpret {item!r} as a variable")
    return op, infos.get(op.name)


def _slice_spec(info: Any) -> tuple[str, str] | None:
    """(full_name, spec) of a partition variable, or None for a whole variable."""
    if info is None or not info.variable_def.HasField("save_slice_info_def"):
        return None
    ssi = info.variable_def.save_slice_info_def
    dims = " ".join(str(d) for d in ssi.full_shape)
    ext = ":".join(f"{o},{n}" for o, n in zip(ssi.var_offset, ssi.var_shape))
    return ssi.full_name, f"{dims} {ext}"


def _entries(graph: Any, var_list: Any) -> list[tuple[str, str, VariableTarget]]:
    infos = _collection_info(graph)
    if var_list is None:
        from orchestrator.graph.collections import GraphKeys
        var_list = [v for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES) if hasattr(v, "variable_def")]
    pairs: list[tuple[str | None, Any]]
    if isinstance(var_list, Mapping):
        pairs = []
        for key, value in var_list.items():
            parts = value if isinstance(value, (list, tuple)) else [value]
            pairs.extend((key, part) for part in parts)
    else:
        pairs = [(None, v) for v in var_list]
    out, seen = [], set()
    for key, item in pairs:
        op, info = _resolve(graph, item, infos)
        target = variable_target(op)
        sliced = _slice_spec(info)
        spec = sliced[1] if sliced else ""
        name = key if key is not None else (sliced[0] if sliced else op.name)
        if (name, spec) in seen:
            raise InvalidArgumentError(f"Saver var_list: key {name!r} {spec!r} is used twice")
        seen.add((name, spec))
        out.append((name, spec, target))
    return out


def _device_key(device: str) -> str:
    """Group by job/replica/task like TF's sharded saver (variables on one host share a file)."""
    return "/".join(p for p in device.split("/") if p and not p.lower().startswith(("device:", "cpu:", "gpu:")))


def spec_from_var_list(graph: Any, var_list: Any, sharded: bool = False) -> SaverSpec:
    entries = _entries(graph, var_list)
    groups: dict[str, list[tuple[str, str, VariableTarget]]] = {}
    for entry in entries:
        groups.setdefault(_device_key(entry[2].device) if sharded else "", []).append(entry)
    shards = []
    for shard_id, device in enumerate(sorted(groups)):
        saves = tuple(SaveEntry(k, s, t, f"{t.op_name}:0") for k, s, t in sorted(groups[device], key=lambda e: e[:2]))
        shards.append(SaveShard(f"<var_list shard {shard_id}>", device, shard_id, saves))
    restores = tuple(RestoreEntry(k, s, t.dtype, t) for k, s, t in entries)
    return SaverSpec(tuple(shards), restores, sharded)
