"""AttrValue ⇄ Python values, TensorProto ⇄ numpy.

Kernels, the Saver and the summary writer see node attrs as plain Python: ``s`` →
bytes, ``i`` → int, ``f`` → float, ``b`` → bool, ``type`` → :class:`DType`, ``shape`` →
tuple (None for an unknown dim) or None (unknown rank), ``tensor`` → ndarray, ``func``
→ the ``NameAttrList`` proto, ``list`` → list of those. Decoding happens here once so
that nothing else reads AttrValue oneofs.

A TensorProto stores values either packed in ``tensor_content`` or in a typed repeated
field; a short typed field is broadcast TF's way (the last value repeats to fill the
shape, an empty field means zeros).

    >>> tensor_proto_to_ndarray(ndarray_to_tensor_proto(np.arange(3, dtype=np.int64)))
    array([0, 1, 2])
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ml_dtypes
import numpy as np

from orchestrator.dtypes import DType, as_dtype, split_ref
from orchestrator.errors import InvalidArgumentError
from orchestrator.protos import attr_value_pb2, tensor_pb2, tensor_shape_pb2

AttrValue = attr_value_pb2.AttrValue
NameAttrList = attr_value_pb2.NameAttrList
TensorProto = tensor_pb2.TensorProto
TensorShapeProto = tensor_shape_pb2.TensorShapeProto

Shape = tuple | None  # tuple of int | None, or None for unknown rank

# Typed TensorProto field holding each dtype's values when tensor_content is empty.
_VALUE_FIELD: dict[DType, str] = {
    DType.FLOAT: "float_val", DType.DOUBLE: "double_val",
    DType.INT32: "int_val", DType.INT16: "int_val", DType.INT8: "int_val", DType.UINT8: "int_val",
    DType.UINT16: "int_val", DType.QINT8: "int_val", DType.QUINT8: "int_val",
    DType.QINT16: "int_val", DType.QUINT16: "int_val", DType.QINT32: "int_val",
    DType.INT64: "int64_val", DType.UINT32: "uint32_val", DType.UINT64: "uint64_val",
    DType.BOOL: "bool_val", DType.STRING: "string_val",
    DType.HALF: "half_val", DType.BFLOAT16: "half_val",
    DType.COMPLEX64: "scomplex_val", DType.COMPLEX128: "dcomplex_val",
}

_LIST_FIELDS = ("s", "i", "f", "b", "type", "shape", "tensor", "func")


# --------------------------------------------------------------------------- shapes

def shape_from_proto(proto: TensorShapeProto) -> Shape:
    if proto.unknown_rank:
        return None
    return tuple(None if d.size < 0 else int(d.size) for d in proto.dim)


def shape_to_proto(shape: Shape | Sequence[int | None]) -> TensorShapeProto:
    proto = TensorShapeProto()
    if shape is None:
        proto.unknown_rank = True
        return proto
    for size in shape:
        proto.dim.add().size = -1 if size is None else int(size)
    return proto


# --------------------------------------------------------------------------- tensors

def tensor_proto_to_ndarray(proto: TensorProto, what: str = "tensor") -> np.ndarray:
    """Decode a TensorProto to a numpy array (object array of bytes for strings).

    ``what`` names the node/attr in errors, e.g. ``"node 'w/Initializer/Const' attr 'value'"``.
    """
    dtype, _ = split_ref(proto.dtype)
    shape = shape_from_proto(proto.tensor_shape)
    if shape is None or any(d is None for d in shape):
        raise InvalidArgumentError(f"{what}: TensorProto has an unknown shape {shape}; constants need a full shape")
    count = math.prod(shape)
    if dtype in (DType.RESOURCE, DType.VARIANT, DType.INVALID):
        raise InvalidArgumentError(f"{what}: cannot decode a TensorProto of dtype {dtype.name} to numpy")
    np_dtype = dtype.numpy
    if proto.tensor_content and dtype != DType.STRING:
        expected = count * np_dtype.itemsize
        if len(proto.tensor_content) != expected:
            raise InvalidArgumentError(
                f"{what}: tensor_content has {len(proto.tensor_content)} bytes, expected {expected} "
                f"for dtype {dtype.tf_name} and shape {list(shape)}")
        return np.frombuffer(proto.tensor_content, dtype=np_dtype.newbyteorder("<")).astype(np_dtype).reshape(shape)
    values = _typed_values(proto, dtype)
    if len(values) > count:
        raise InvalidArgumentError(
            f"{what}: TensorProto has {len(values)} values for shape {list(shape)} ({count} elements)")
    if len(values) == count:
        return values.reshape(shape)
    if len(values) == 0:
        if dtype == DType.STRING:
            return np.full(shape, b"", dtype=object)
        return np.zeros(shape, dtype=np_dtype)
    filled = np.empty(count, dtype=np_dtype)
    filled[:len(values)] = values
    filled[len(values):] = values[-1]
    return filled.reshape(shape)


def _typed_values(proto: TensorProto, dtype: DType) -> np.ndarray:
    field = _VALUE_FIELD.get(dtype)
    if field is None:
        raise InvalidArgumentError(f"TensorProto dtype {dtype.name} has no value field")
    raw = getattr(proto, field)
    if dtype == DType.STRING:
        arr = np.empty(len(raw), dtype=object)
        arr[:] = list(raw)
        return arr
    if dtype == DType.HALF:
        return np.asarray(raw, dtype=np.uint16).view(np.float16)
    if dtype == DType.BFLOAT16:
        return np.asarray(raw, dtype=np.uint16).view(ml_dtypes.bfloat16)
    if dtype in (DType.COMPLEX64, DType.COMPLEX128):
        parts = np.asarray(raw, dtype=np.float64)
        return (parts[0::2] + 1j * parts[1::2]).astype(dtype.numpy)
    return np.asarray(raw).astype(dtype.numpy)


def ndarray_to_tensor_proto(value: Any, dtype: DType | int | str | None = None) -> TensorProto:
    """Encode a numpy array (or anything ``np.asarray`` accepts) as a TensorProto.

    Numbers are packed little-endian into ``tensor_content``; strings go to ``string_val``.
    """
    dt = as_dtype(dtype) if dtype is not None else None
    arr = np.asarray(value, dtype=dt.numpy if dt is not None and dt != DType.STRING else None)
    if dt is None:
        dt = as_dtype(arr.dtype)
    proto = TensorProto(dtype=int(dt))
    proto.tensor_shape.CopyFrom(shape_to_proto(arr.shape))
    if dt == DType.STRING:
        proto.string_val.extend(_as_bytes(v) for v in arr.reshape(-1))
        return proto
    if dt in (DType.RESOURCE, DType.VARIANT):
        raise InvalidArgumentError(f"cannot encode a numpy array as a {dt.name} TensorProto")
    proto.tensor_content = np.ascontiguousarray(arr, dtype=dt.numpy.newbyteorder("<")).tobytes()
    return proto


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, np.bytes_):
        return bytes(value)
    raise InvalidArgumentError(f"string tensor element {value!r} is not bytes or str")


# --------------------------------------------------------------------------- attr values

def attr_to_python(attr: AttrValue, what: str = "attr") -> Any:
    """Decode one AttrValue (see module docstring for the mapping)."""
    kind = attr.WhichOneof("value")
    if kind is None:
        return None
    if kind == "list":
        return _list_to_python(attr.list, what)
    return _scalar_to_python(kind, getattr(attr, kind), what)


def _scalar_to_python(kind: str, value: Any, what: str) -> Any:
    if kind in ("s", "i", "f", "b", "placeholder"):
        return {"s": bytes, "i": int, "f": float, "b": bool, "placeholder": str}[kind](value)
    if kind == "type":
        return split_ref(value)[0]
    if kind == "shape":
        return shape_from_proto(value)
    if kind == "tensor":
        return tensor_proto_to_ndarray(value, what)
    if kind == "func":
        copy = NameAttrList()
        copy.CopyFrom(value)
        return copy
    raise InvalidArgumentError(f"{what}: unknown AttrValue kind {kind!r}")


def _list_to_python(lst: Any, what: str) -> list:
    for field in _LIST_FIELDS:
        values = getattr(lst, field)
        if len(values):
            return [_scalar_to_python(field, v, what) for v in values]
    return []


def python_to_attr(value: Any, attr_type: str | None = None, what: str = "attr") -> AttrValue:
    """Encode a Python value as an AttrValue.

    ``attr_type`` is the OpDef's type string (``"int"``, ``"type"``, ``"list(shape)"`` ...);
    without it the kind is guessed from the value (a tuple is then a list, not a shape).
    """
    if isinstance(value, AttrValue):
        out = AttrValue()
        out.CopyFrom(value)
        return out
    out = AttrValue()
    if attr_type is not None and attr_type.startswith("list("):
        inner = attr_type[5:-1]
        if not isinstance(value, (list, tuple)):
            raise InvalidArgumentError(f"{what}: expected a list for attr type {attr_type}, found {value!r}")
        out.list.SetInParent()
        for item in value:
            _append_list(out.list, inner, item, what)
        return out
    kind = attr_type or _guess_kind(value, what)
    if kind == "list":
        out.list.SetInParent()
        for item in value:
            _append_list(out.list, _guess_kind(item, what), item, what)
        return out
    _set_scalar(out, kind, value, what)
    return out


_KIND_FIELD = {"string": "s", "int": "i", "float": "f", "bool": "b", "type": "type",
               "shape": "shape", "tensor": "tensor", "func": "func"}


def _guess_kind(value: Any, what: str) -> str:
    if isinstance(value, (bytes, str)):
        return "string"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, DType):
        return "type"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, np.ndarray):
        return "tensor"
    if isinstance(value, (TensorShapeProto,)):
        return "shape"
    if isinstance(value, NameAttrList):
        return "func"
    if isinstance(value, (list, tuple)):
        return "list"
    raise InvalidArgumentError(f"{what}: cannot encode {type(value).__name__} {value!r} as an AttrValue")


def _set_scalar(out: AttrValue, kind: str, value: Any, what: str) -> None:
    field = _KIND_FIELD.get(kind)
    if field is None:
        raise InvalidArgumentError(f"{what}: unsupported attr type {kind!r}")
    if field == "s":
        out.s = _as_bytes(value)
    elif field == "i":
        out.i = int(value)
    elif field == "f":
        out.f = float(value)
    elif field == "b":
        out.b = bool(value)
    elif field == "type":
        out.type = int(value) if isinstance(value, int) else int(as_dtype(value))
    elif field == "shape":
        out.shape.CopyFrom(value if isinstance(value, TensorShapeProto) else shape_to_proto(value))
    elif field == "tensor":
        out.tensor.CopyFrom(value if isinstance(value, TensorProto) else ndarray_to_tensor_proto(value))
    else:
        out.func.CopyFrom(value)


def _append_list(lst: Any, kind: str, item: Any, what: str) -> None:
    scratch = AttrValue()
    _set_scalar(scratch, kind, item, what)
    field = _KIND_FIELD[kind]
    target = getattr(lst, field)
    if field in ("shape", "tensor", "func"):
        target.add().CopyFrom(getattr(scratch, field))
    else:
        target.append(getattr(scratch, field))
