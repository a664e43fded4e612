"""OpDefs: where they come from and what they say about a node's outputs.

A meta graph lists the OpDefs it uses in ``meta_info_def.stripped_op_list``; those win.
For anything else (graphs exported without op defs, ops orchestrator creates itself) we
fall back to ``op_defs.binpb``, an OpList generated from real TensorFlow's registry by
``scripts/gen_op_defs.py``.

An OpDef is what tells how many outputs a node has and of which dtype: an output arg is
one tensor of a fixed ``type`` or of the type named by ``type_attr``, ``N`` tensors when
it has a ``number_attr``, or one tensor per entry of a ``type_list_attr``.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

from orchestrator.dtypes import DType, split_ref
from orchestrator.errors import InvalidArgumentError
from orchestrator.protos import op_def_pb2

OpDef = op_def_pb2.OpDef
OpList = op_def_pb2.OpList


@functools.cache
def builtin_op_defs() -> dict[str, OpDef]:
    """The committed fallback table, parsed once."""
    data = resources.files("orchestrator.graph").joinpath("op_defs.binpb").read_bytes()
    op_list = OpList()
    op_list.ParseFromString(data)
    return {op.name: op for op in op_list.op}


def output_signature(op_def: OpDef, attrs: Mapping[str, Any], node: str) -> list[tuple[DType, bool]]:
    """(dtype, is_ref) of each output of a node with these decoded attrs."""
    out: list[tuple[DType, bool]] = []
    for arg in op_def.output_arg:
        if arg.type_list_attr:
            types = _attr(attrs, arg.type_list_attr, node, op_def.name)
            out.extend((DType(int(t)), arg.is_ref) for t in types)
            continue
        if arg.type_attr:
            dtype = DType(int(_attr(attrs, arg.type_attr, node, op_def.name)))
        else:
            dtype = split_ref(arg.type)[0]
        count = int(_attr(attrs, arg.number_attr, node, op_def.name)) if arg.number_attr else 1
        out.extend([(dtype, arg.is_ref)] * count)
    return out


def input_arg_sizes(op_def: OpDef, attrs: Mapping[str, Any], node: str) -> list[int]:
    """How many input tensors each input arg takes."""
    sizes = []
    for arg in op_def.input_arg:
        if arg.number_attr:
            sizes.append(int(_attr(attrs, arg.number_attr, node, op_def.name)))
        elif arg.type_list_attr:
            sizes.append(len(_attr(attrs, arg.type_list_attr, node, op_def.name)))
        else:
            sizes.append(1)
    return sizes


def default_attrs(op_def: OpDef) -> dict[str, Any]:
    """AttrValue protos of the attrs the OpDef gives defaults for."""
    return {a.name: a.default_value for a in op_def.attr if a.HasField("default_value")}


def attr_types(op_def: OpDef) -> dict[str, str]:
    return {a.name: a.type for a in op_def.attr}


def _attr(attrs: Mapping[str, Any], name: str, node: str, op_type: str) -> Any:
    try:
        value = attrs[name]
    except KeyError:
        raise InvalidArgumentError(
            f"node {node!r} ({op_type}) lacks attr {name!r}, which its OpDef needs to type its "
            f"inputs/outputs") from None
    if value is None:
        raise InvalidArgumentError(f"node {node!r} ({op_type}): attr {name!r} has no value")
    return value
