"""Graph collections: TF's well-known keys and the objects imported collections hold.

TF1 stores Python objects (variables, queue runners, control-flow contexts, savers)
in collections and serializes them in meta graphs as protos in ``bytes_list``s. We do
not recreate TF's Python classes; a variable becomes a small :class:`VariableInfo` that
names its ops and tensors (what a resume script reads: ``v.name``, ``v.op``,
``v.initializer``), and the other protos stay parsed protos with scoped names.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orchestrator.dtypes import DType
from orchestrator.protos import control_flow_pb2, queue_runner_pb2, saver_pb2, variable_pb2

if TYPE_CHECKING:  # pragma: no cover
    from orchestrator.graph.model import Graph, Operation, Tensor


class GraphKeys:
    """TF1's standard collection names (``tf.GraphKeys``)."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    CONCATENATED_VARIABLES = "concatenated_variables"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    GLOBAL_STEP = "global_step"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"
    VARIABLES = GLOBAL_VARIABLES


# Written by export_meta_graph(export_scope=...): the inputs the scope reads from outside it.
# Import checks them against input_map and does not recreate the collection (as TF).
UNBOUND_INPUTS_KEY = "unbound_inputs"

VARIABLE_KEYS = frozenset({
    GraphKeys.GLOBAL_VARIABLES, GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES,
    GraphKeys.MODEL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES, GraphKeys.MOVING_AVERAGE_VARIABLES,
    GraphKeys.CONCATENATED_VARIABLES, GraphKeys.TRAINABLE_RESOURCE_VARIABLES, GraphKeys.GLOBAL_STEP,
})

# Collection key -> proto class of its bytes_list entries (TF's registered proto functions).
PROTO_KEYS: dict[str, type] = {
    **{key: variable_pb2.VariableDef for key in VARIABLE_KEYS},
    GraphKeys.QUEUE_RUNNERS: queue_runner_pb2.QueueRunnerDef,
    GraphKeys.COND_CONTEXT: control_flow_pb2.CondContextDef,
    GraphKeys.WHILE_CONTEXT: control_flow_pb2.WhileContextDef,
    GraphKeys.SAVERS: saver_pb2.SaverDef,
}


class VariableInfo:
    """A variable of an imported graph, described by its ``VariableDef``.

    Not a TF ``Variable``: it holds no value (values live in a session), it names the
    graph elements that make up the variable.
    """

    def __init__(self, variable_def: Any, graph: Graph):
        self.variable_def = variable_def
        self.graph = graph

    @property
    def name(self) -> str:
        """The variable tensor's name, e.g. ``"w:0"``."""
        return self.variable_def.variable_name

    @property
    def op(self) -> Operation:
        return self.graph.get_tensor_by_name(self.name).op

    @property
    def tensor(self) -> Tensor:
        return self.graph.get_tensor_by_name(self.name)

    @property
    def initializer(self) -> Operation:
        return self.graph.get_operation_by_name(self.variable_def.initializer_name)

    @property
    def initial_value(self) -> Tensor | None:
        name = self.variable_def.initial_value_name
        return self.graph.get_tensor_by_name(name) if name else None

    @property
    def snapshot(self) -> Tensor | None:
        name = self.variable_def.snapshot_name
        return self.graph.get_tensor_by_name(name) if name else None

    @property
    def is_resource(self) -> bool:
        return bool(self.variable_def.is_resource)

    @property
    def trainable(self) -> bool:
        return bool(self.variable_def.trainable)

    @property
    def dtype(self) -> DType:
        op = self.op
        if self.is_resource:
            return op.attrs.get("dtype", DType.INVALID)
        return op.outputs[0].dtype

    @property
    def shape(self) -> tuple | None:
        return self.op.attrs.get("shape")

    @property
    def device(self) -> str:
        return self.op.device

    def __repr__(self) -> str:
        kind = "resource" if self.is_resource else "ref"
        return f"<VariableInfo {self.name!r} {kind} dtype={self.dtype.tf_name} shape={self.shape}>"


def rename_proto_names(proto: Any, rename: Callable[[str], str],
                       rename_key: Callable[[str], str] | None = None) -> None:
    """Apply ``rename`` to every graph-element name inside a collection proto, in place.

    Walks the message by descriptor: in TF's variable, queue-runner, control-flow and
    saver protos every string field named ``*_name``/``*_names`` or ``values`` (and the
    keys and values of ``external_values``) holds a node or tensor name. The one
    exception is ``SaveSliceInfoDef.full_name``, a checkpoint key: it gets ``rename_key``
    (TF prefixes it with the import scope but it must not follow `_1` renaming).
    """
    for field, value in proto.ListFields():
        if field.type == field.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry:
                items = dict(value)
                value.clear()
                for key, val in items.items():
                    value[rename(key)] = rename(val)
            elif field.is_repeated:
                for item in value:
                    rename_proto_names(item, rename, rename_key)
            else:
                rename_proto_names(value, rename, rename_key)
        elif field.type != field.TYPE_STRING:
            continue
        elif field.name == "full_name":
            if rename_key is not None and value:
                setattr(proto, field.name, rename_key(value))
        elif field.name.endswith(("_name", "_names")) or field.name == "values":
            if field.is_repeated:
                renamed = [rename(v) if v else v for v in value]
                del value[:]
                value.extend(renamed)
            elif value:
                setattr(proto, field.name, rename(value))
