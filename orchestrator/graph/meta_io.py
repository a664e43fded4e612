"""Reading a MetaGraphDef from bytes or a path/URL, and telling the user what a wrong file is.

Users pass whatever file they have: the ``.meta`` (right), a frozen ``GraphDef``, a
SavedModel's ``saved_model.pb``, a text dump, or a truncated upload. Protobuf parses
many wrong inputs without complaint (unknown fields are legal), so every parse is
checked for plausibility and, when it fails, the bytes are tried as the other messages
to say precisely what the file is.
"""
from __future__ import annotations

import os
from typing import Any

from google.protobuf import message, text_format
from google.protobuf.unknown_fields import UnknownFieldSet

from orchestrator import storage
from orchestrator.errors import InvalidArgumentError
from orchestrator.graph.names import is_valid_op_name
from orchestrator.protos import graph_pb2, meta_graph_pb2, saved_model_pb2

MetaGraphDef = meta_graph_pb2.MetaGraphDef

TEXT_SUFFIXES = (".pbtxt", ".meta.txt", ".txt", ".prototxt")


def read_meta_graph(source: Any, **storage_options: Any) -> Any:
    """A MetaGraphDef from a MetaGraphDef (returned as is), bytes, or a local path/fsspec URL."""
    if isinstance(source, MetaGraphDef):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        return parse_meta_graph(bytes(source), "<bytes>")
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str):
        raise InvalidArgumentError(
            f"meta_graph_or_file must be a MetaGraphDef or a path/URL, found {type(source).__name__}")
    return parse_meta_graph(storage.read_bytes(source, **storage_options), source)


def parse_meta_graph(data: bytes, where: str) -> Any:
    if not data:
        raise InvalidArgumentError(f"{where}: file is empty (0 bytes); expected a MetaGraphDef (.meta file)")
    if where.endswith(TEXT_SUFFIXES) or _looks_like_text(data):
        return _parse_text(data, where)
    return _parse_binary(data, where)


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    stripped = text.lstrip()
    return bool(stripped) and (stripped[0].isalpha() or stripped[0] == "#") and "\x00" not in text


def _parse_text(data: bytes, where: str) -> Any:
    text = data.decode("utf-8", "replace")
    meta = MetaGraphDef()
    try:
        text_format.Parse(text, meta)
        return meta
    except text_format.ParseError as exc:
        first_error = str(exc)
    for cls, label in ((graph_pb2.GraphDef, "GraphDef"), (saved_model_pb2.SavedModel, "SavedModel")):
        other = cls()
        try:
            text_format.Parse(text, other)
        except text_format.ParseError:
            continue
        if _plausible(other):
            raise InvalidArgumentError(_wrong_message(where, label, other, text_form=True))
    raise InvalidArgumentError(f"{where}: malformed text-format MetaGraphDef: {first_error}")


def _parse_binary(data: bytes, where: str) -> Any:
    meta = MetaGraphDef()
    error = None
    try:
        meta.ParseFromString(data)
        if _plausible(meta):
            return meta
    except message.DecodeError as exc:
        error = str(exc) or "protobuf decode error"
    for cls, label in ((saved_model_pb2.SavedModel, "SavedModel"), (graph_pb2.GraphDef, "GraphDef")):
        other = cls()
        try:
            other.ParseFromString(data)
        except message.DecodeError:
            continue
        if _plausible(other):
            raise InvalidArgumentError(_wrong_message(where, label, other, text_form=False))
    detail = f" ({error})" if error else ""
    raise InvalidArgumentError(
        f"{where}: not a MetaGraphDef: {len(data)} bytes that do not parse as one{detail} — the file "
        f"is truncated, corrupt, or of another format (expected the .meta file written next to a TF1 "
        f"checkpoint)")


def _plausible(msg: Any) -> bool:
    """Did this parse find the message the bytes really are (not a lucky parse of garbage)?"""
    if _has_unknown_fields(msg):
        return False
    if isinstance(msg, saved_model_pb2.SavedModel):
        return len(msg.meta_graphs) > 0 and all(_plausible(m) for m in msg.meta_graphs)
    graph_def = msg.graph_def if isinstance(msg, MetaGraphDef) else msg
    if isinstance(msg, MetaGraphDef) and not graph_def.node:
        # An empty graph is legal only as a real, well-formed meta graph.
        return msg.HasField("meta_info_def") or msg.HasField("saver_def") or bool(msg.collection_def)
    return bool(graph_def.node) and all(n.op and is_valid_op_name(n.name) for n in graph_def.node)


def _has_unknown_fields(msg: Any) -> bool:
    if len(UnknownFieldSet(msg)):
        return True
    for field, value in msg.ListFields():
        if field.type != field.TYPE_MESSAGE or field.message_type.GetOptions().map_entry:
            continue
        items = value if field.is_repeated else [value]
        for item in list(items)[:8]:   # a sample is enough to reject garbage
            if len(UnknownFieldSet(item)):
                return True
    return False


def _wrong_message(where: str, label: str, msg: Any, text_form: bool) -> str:
    form = "text-format " if text_form else ""
    if label == "SavedModel":
        tags = [list(m.meta_info_def.tags) for m in msg.meta_graphs]
        return (f"{where}: this is a {form}SavedModel (saved_model.pb, {len(msg.meta_graphs)} meta graph(s) "
                f"with tags {tags}), not a MetaGraphDef; pass the .meta file written by the TF1 Saver "
                f"next to the checkpoint")
    return (f"{where}: this is a {form}GraphDef ({len(msg.node)} nodes, no collections or saver), not a "
            f"MetaGraphDef; pass the .meta file written by the TF1 Saver next to the checkpoint "
            f"(tf.train.export_meta_graph makes one from a graph)")
