"""A comparable summary of protobuf descriptors, importable both by our tests and by
real TF's python (which has no pytest): full name -> {field: [number, type, label,
message/enum type, packed, oneof]} for messages, {value name: number} for enums."""
from __future__ import annotations

from google.protobuf import descriptor as _d

# The TF module that defines each of our files' messages (TF spreads them over several packages).
TF_MODULES = [
    "tensorflow.core.framework.types_pb2", "tensorflow.core.framework.tensor_shape_pb2",
    "tensorflow.core.framework.resource_handle_pb2", "tensorflow.core.framework.tensor_pb2",
    "tensorflow.core.framework.tensor_slice_pb2", "tensorflow.core.framework.versions_pb2",
    "tensorflow.core.framework.attr_value_pb2", "tensorflow.core.framework.full_type_pb2",
    "tensorflow.core.framework.node_def_pb2", "tensorflow.core.framework.op_def_pb2",
    "tensorflow.core.framework.function_pb2", "tensorflow.core.framework.graph_pb2",
    "tensorflow.core.framework.graph_debug_info_pb2", "tensorflow.core.framework.variable_pb2",
    "tensorflow.core.framework.summary_pb2", "tensorflow.compiler.xla.tsl.protobuf.histogram_pb2", "tensorflow.core.protobuf.saver_pb2",
    "tensorflow.core.protobuf.queue_runner_pb2", "tensorflow.core.protobuf.control_flow_pb2",
    "tensorflow.core.protobuf.meta_graph_pb2", "tensorflow.core.protobuf.saved_model_pb2",
    "tensorflow.core.protobuf.tensor_bundle_pb2", "tensorflow.compiler.xla.tsl.protobuf.error_codes_pb2",
    "tensorflow.core.util.saved_tensor_slice_pb2", "tensorflow.core.util.event_pb2",
    "tensorflow.python.training.checkpoint_state_pb2",
]


def _repeated(f: _d.FieldDescriptor) -> bool:
    # protobuf >= 6 has is_repeated; the TF venv's older runtime only has label.
    return f.is_repeated if hasattr(f, "is_repeated") else f.label == f.LABEL_REPEATED


def describe_message(m: _d.Descriptor, out: dict) -> None:
    out[m.full_name] = {
        f.name: [f.number, f.type, "repeated" if _repeated(f) else "single",
                 f.message_type.full_name if f.message_type else
                 (f.enum_type.full_name if f.enum_type else ""),
                 bool(f.is_packed) if _repeated(f) else False,
                 f.containing_oneof.name if f.containing_oneof else ""]
        for f in m.fields}
    for nested in m.nested_types:
        describe_message(nested, out)
    for e in m.enum_types:
        out[e.full_name] = {v.name: v.number for v in e.values}


def describe_file(fd: _d.FileDescriptor, out: dict) -> None:
    for m in fd.message_types_by_name.values():
        describe_message(m, out)
    for e in fd.enum_types_by_name.values():
        out[e.full_name] = {v.name: v.number for v in e.values}
