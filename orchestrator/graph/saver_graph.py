"""The save/restore subgraph TF's default ``Saver()`` adds, for meta graphs without a saver_def.

``tf.train.import_meta_graph`` of a file without a ``saver_def`` (but with variables)
returns ``Saver()``: a saver over every global variable, built as nodes under a fresh
``save`` scope. We build the same nodes (names, types and wiring as TF 2.21 makes them,
see ``tests/fixtures/graph/import_details.json``), so that the returned Saver has a real
``saver_def``, a later ``saver.save`` writes it into the new ``.meta``, and a script
that runs ``saver_def.restore_op_name`` itself finds it::

    save/filename/input   Const "model"
    save/filename         PlaceholderWithDefault
    save/Const            PlaceholderWithDefault                  <- filename_tensor_name
    save/SaveV2           SaveV2(prefix, keys, slices, values...)
    save/control_dependency  Identity(save/Const) after SaveV2    <- save_tensor_name
    save/RestoreV2        RestoreV2(prefix, keys, slices) on /device:CPU:0
    save/Assign*          Assign (ref variables) / save/Identity* + AssignVariableOp (resource)
    save/restore_all      NoOp after every assign                 <- restore_op_name

Keys and slices come from :func:`orchestrator.checkpoint.var_list.spec_from_var_list`
(variable op names; partitioned variables as slices of their full name), sorted as
TF sorts them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.graph.collections import GraphKeys
from orchestrator.graph.model import Graph, Operation, Tensor
from orchestrator.protos import saver_pb2

_RESTORE_DEVICE = "/device:CPU:0"   # where TF pins RestoreV2 and its key/slice constants
_DEFAULT_FILENAME = b"model"


def build_default_saver_def(graph: Graph, name: str = "save") -> Any:
    """Add TF's default save/restore subgraph over the graph's global variables; return its SaverDef."""
    from orchestrator.checkpoint.var_list import spec_from_var_list

    spec = spec_from_var_list(graph, None)
    entries = sorted(spec.restores, key=lambda e: (e.key, e.slice_spec))
    scope = graph.unique_name(name)
    string = DType.STRING

    def const(op_name: str, value: Any, device: str = "") -> Tensor:
        array = np.array(value, dtype=object)
        return graph.create_op("Const", [], {"value": array, "dtype": string}, name=f"{scope}/{op_name}",
                               device=device).outputs[0]

    default = const("filename/input", _DEFAULT_FILENAME)
    filename = _create(graph, "PlaceholderWithDefault", [default], {"shape": ()}, name=f"{scope}/filename")
    prefix = graph.create_op("PlaceholderWithDefault", [filename.outputs[0]], {"shape": ()}, name=f"{scope}/Const")
    prefix_tensor = prefix.outputs[0]

    keys = [e.key.encode() for e in entries]
    slices = [e.slice_spec.encode() for e in entries]
    values = [_saved_tensor(graph, scope, e.variable) for e in entries]
    save = _create(graph, "SaveV2", [prefix_tensor, const("SaveV2/tensor_names", keys),
                                     const("SaveV2/shape_and_slices", slices), values], name=f"{scope}/SaveV2")
    saved = graph.create_op("Identity", [prefix_tensor], name=f"{scope}/control_dependency",
                            control_inputs=[save])

    restore = _create(
        graph, "RestoreV2", [prefix_tensor, const("RestoreV2/tensor_names", keys, _RESTORE_DEVICE),
                      const("RestoreV2/shape_and_slices", slices, _RESTORE_DEVICE)],
        {"dtypes": [e.variable.dtype for e in entries]}, name=f"{scope}/RestoreV2", device=_RESTORE_DEVICE)
    assigns = [_restore_assign(graph, scope, e.variable, restore.outputs[i]) for i, e in enumerate(entries)]
    restore_all = graph.create_op("NoOp", [], name=f"{scope}/restore_all", control_inputs=assigns)

    return saver_pb2.SaverDef(filename_tensor_name=prefix_tensor.name, save_tensor_name=saved.outputs[0].name,
                              restore_op_name=restore_all.name, max_to_keep=5, sharded=False,
                              keep_checkpoint_every_n_hours=10000.0, version=saver_pb2.SaverDef.V2)


def _create(graph: Graph, op_type: str, inputs: list, attrs: dict | None = None, *, name: str,
            device: str = "", control_inputs: tuple = ()) -> Operation:
    """``graph.create_op`` under exactly ``name``.

    TF names an op after the scope its inputs were made in (``save/filename`` after
    ``save/filename/input``); the graph's unique-name table counts that scope as taken,
    so the op is made under a free temporary name and renamed before anything sees it.
    ``name`` lies inside this builder's fresh ``save`` scope, so no op can have it.
    """
    temporary = graph.unique_name(f"{name}__orch_building")
    op = graph.create_op(op_type, inputs, attrs, name=temporary, device=device, control_inputs=control_inputs)
    if name in graph:
        raise InvalidArgumentError(f"default saver: operation {name!r} already exists")
    graph._ops = {(name if key == temporary else key): value for key, value in graph._ops.items()}
    op.name = name
    graph._unique.mark(name)
    graph._consumers = None   # that cache is keyed by op name
    return op


def _saved_tensor(graph: Graph, scope: str, target: Any) -> Tensor:
    """What SaveV2 reads: a ref variable itself; a resource variable's read (its snapshot, as TF)."""
    op = graph.get_operation_by_name(target.op_name)
    if target.kind == "ref":
        return op.outputs[0]
    for info in graph.get_collection(GraphKeys.GLOBAL_VARIABLES):
        snapshot = getattr(info, "variable_def", None) and info.variable_def.snapshot_name
        if snapshot and info.name.split(":")[0] == target.op_name:
            return graph.get_tensor_by_name(snapshot)
    return graph.create_op("ReadVariableOp", [op.outputs[0]], {"dtype": target.dtype},
                           name=f"{scope}/Read/ReadVariableOp", device=op.device).outputs[0]


def _restore_assign(graph: Graph, scope: str, target: Any, value: Tensor) -> Operation:
    variable = graph.get_operation_by_name(target.op_name)
    if target.kind == "ref":
        shape = target.shape
        fully_defined = shape is not None and all(d is not None and d >= 0 for d in shape)
        return graph.create_op("Assign", [variable.outputs[0], value], {"validate_shape": fully_defined},
                               name=f"{scope}/Assign")
    # TF restores a resource variable on the variable's device, through an Identity.
    copied = graph.create_op("Identity", [value], name=f"{scope}/Identity", device=variable.device)
    return graph.create_op("AssignVariableOp", [variable.outputs[0], copied.outputs[0]],
                           {"dtype": target.dtype}, name=f"{scope}/AssignVariableOp", device=variable.device)


__all__ = ["build_default_saver_def"]
