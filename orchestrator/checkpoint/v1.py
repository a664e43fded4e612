"""Reader of V1 checkpoints: the older single-file format ``Saver(write_version=V1)`` writes.

A V1 checkpoint is one LevelDB-format table (the same table layout as a V2 ``.index``,
read by :func:`orchestrator.checkpoint.table.read_table`) whose values are
``SavedTensorSlices`` protos:

* key ``""``: ``meta`` = every tensor's name, shape, dtype and saved slices;
* every other key: the OrderedCode ``(0, name, rank, start, length, ...)`` of one
  saved slice (the same encoding as V2 slice keys; a whole tensor is one slice of
  full extents, length -1), value ``data`` = that slice as a ``TensorProto`` whose
  typed value field (``float_val``, ``int64_val``, ``string_val`` ...) holds exactly
  the slice's elements; the proto carries no dtype or shape of its own.

Tensors are small in practice (V1 predates large models), so the whole file is read
at once and values are decoded from the protos on demand.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from orchestrator import storage
from orchestrator.checkpoint import table
from orchestrator.checkpoint.mapping import SliceSpec
from orchestrator.dtypes import DType
from orchestrator.errors import DataLossError, NotFoundError, UnimplementedError, suggest


def _pb2() -> Any:
    from orchestrator.protos import saved_tensor_slice_pb2
    return saved_tensor_slice_pb2


@dataclasses.dataclass(frozen=True)
class V1Tensor:
    name: str
    dtype: DType
    shape: tuple[int, ...]
    slices: tuple[tuple[tuple[int, int], ...], ...]     # extents (start, length; -1 = whole dim) per slice


def has_pattern(path: str) -> bool:
    """Sharded V1 checkpoints are named by a glob pattern (``model.ckpt-?????-of-00002``)."""
    return any(c in path for c in "?*[")


def is_v1_table(data: bytes) -> bool:
    """True when ``data`` is a table whose header key holds V1 slice metadata."""
    try:
        rows = table.read_table(data, "probe")
    except Exception:
        return False
    return bool(rows) and rows[0][0] == b"" and _parses_as_meta(rows[0][1])


def _parses_as_meta(value: bytes) -> bool:
    proto = _pb2().SavedTensorSlices()
    try:
        proto.ParseFromString(value)
    except Exception:
        return False
    return proto.HasField("meta")


class V1Checkpoint:
    """The tensors of one V1 checkpoint: one file, or the shard files of a sharded save.

    A sharded V1 save (``Saver(sharded=True)``) writes ``PREFIX-00000-of-00002`` ... and
    names the checkpoint by the pattern ``PREFIX-?????-of-00002``; each shard has its own
    metadata, and a partitioned variable's slices may sit in different shards.
    """

    def __init__(self, path: str, data: bytes | None = None, shards: list[tuple[str, bytes]] | None = None):
        self.path = path
        self._rows: dict[bytes, bytes] = {}
        self.tensors: dict[str, V1Tensor] = {}
        self._stored_bytes = 0
        for shard_path, shard_data in shards if shards is not None else [(path, data or b"")]:
            self._add_shard(shard_path, shard_data)
            self._stored_bytes += len(shard_data)

    def _add_shard(self, path: str, data: bytes) -> None:
        rows = dict(table.read_table(data, path))
        header = rows.pop(b"", None)
        if header is None:
            raise DataLossError(f"{path}: V1 checkpoint without its metadata entry (key '')")
        meta = _pb2().SavedTensorSlices()
        try:
            meta.ParseFromString(header)
        except Exception:          # protobuf's DecodeError has no stable import path
            raise DataLossError(f"{path}: the metadata entry is not a SavedTensorSlices proto") from None
        self._rows.update(rows)
        for item in meta.meta.tensor:
            try:
                dtype = DType(item.type)
            except ValueError:
                raise DataLossError(f"{path}: tensor {item.name!r} has unknown DataType {item.type}") from None
            shape = tuple(int(d.size) for d in item.shape.dim)
            slices = tuple(tuple((int(e.start), int(e.length) if e.HasField("length") else -1)
                                 for e in s.extent) or tuple((0, -1) for _ in shape) for s in item.slice)
            known = self.tensors.get(item.name)
            if known is not None:
                if (known.dtype, known.shape) != (dtype, shape):
                    raise DataLossError(f"{path}: tensor {item.name!r} is {dtype.tf_name}{list(shape)} here but "
                                        f"{known.dtype.tf_name}{list(known.shape)} in another shard")
                slices = known.slices + tuple(s for s in slices if s not in known.slices)
            self.tensors[item.name] = V1Tensor(item.name, dtype, shape, slices)

    @classmethod
    def open(cls, path: str, **storage_options: Any) -> "V1Checkpoint":
        """Open a V1 file, or every shard matching a ``?``/``*`` pattern."""
        paths = storage.glob(path, **storage_options) if has_pattern(path) else [path]
        if not paths:
            raise NotFoundError(f"{path}: no V1 checkpoint shard matches this pattern")
        return cls(path, shards=[(p, storage.read_bytes(p, **storage_options)) for p in paths])

    def names(self) -> list[str]:
        return sorted(self.tensors)

    def _tensor(self, name: str) -> V1Tensor:
        found = self.tensors.get(name)
        if found is None:
            raise NotFoundError(f"key {name!r} not found in checkpoint {self.path}.{suggest(name, self.tensors)}")
        return found

    def read(self, names: Iterable[str]) -> dict[str, np.ndarray]:
        return {name: self.get_tensor(name) for name in names}

    def get_tensor(self, name: str) -> np.ndarray:
        info = self._tensor(name)
        if any(d < 0 for d in info.shape):
            raise DataLossError(f"{self.path}: tensor {name!r} has a negative dimension in {list(info.shape)}")
        # Every element is stored explicitly (at least one byte each), so a shape with more
        # elements than the files have bytes is corrupt; checked before allocating it.
        if math.prod(info.shape) > self._stored_bytes:
            raise DataLossError(f"{self.path}: tensor {name!r} claims shape {list(info.shape)}, more elements "
                                f"than the checkpoint's {self._stored_bytes} bytes can hold")
        out = np.empty(info.shape, dtype=info.dtype.numpy) if info.dtype != DType.STRING else \
            np.full(info.shape, b"", dtype=object)
        covered = 0
        for extents in info.slices:
            check_extents(info.shape, extents, f"{self.path}: tensor {name!r}")
            spec = SliceSpec(info.shape, extents)
            value = self._slice_value(info, extents, spec.shape)
            out[spec.index] = value
            covered += value.size
        if covered != math.prod(info.shape):
            raise DataLossError(f"{self.path}: the saved slices of {name!r} cover {covered} of its "
                                f"{math.prod(info.shape)} elements")
        return out

    def _slice_value(self, info: V1Tensor, extents: tuple[tuple[int, int], ...],
                     shape: tuple[int, ...]) -> np.ndarray:
        where = f"tensor {info.name!r} slice {list(extents)} in {self.path}"
        raw = self._rows.get(table.encode_slice_key(info.name, extents))
        if raw is None:
            raise DataLossError(f"{where}: listed in the metadata but has no data entry")
        proto = _pb2().SavedTensorSlices()
        try:
            proto.ParseFromString(raw)
        except Exception:
            raise DataLossError(f"{where}: the data entry is not a SavedTensorSlices proto") from None
        return tensor_values(proto.data.data, info.dtype, shape, where)


def check_extents(shape: tuple[int, ...], extents: tuple[tuple[int, int], ...], where: str) -> None:
    """A saved slice must lie inside its tensor (corrupt files must not reach numpy indexing)."""
    if len(extents) != len(shape) or any(start < 0 or length < -1 or (length >= 0 and start + length > dim)
                                         or (length < 0 and start != 0)
                                         for (start, length), dim in zip(extents, shape)):
        raise DataLossError(f"{where}: saved slice {list(extents)} does not fit the shape {list(shape)}")


# TensorProto field of each dtype in V1 files (TF's SaveTypeTraits): small ints share int_val,
# float16/bfloat16 keep their bit patterns in half_val, complex numbers are (re, im) pairs.
_FIELDS = {
    DType.FLOAT: "float_val", DType.DOUBLE: "double_val", DType.INT32: "int_val", DType.INT16: "int_val",
    DType.INT8: "int_val", DType.UINT8: "int_val", DType.UINT16: "int_val", DType.INT64: "int64_val",
    DType.BOOL: "bool_val", DType.STRING: "string_val", DType.HALF: "half_val", DType.BFLOAT16: "half_val",
    DType.COMPLEX64: "scomplex_val", DType.COMPLEX128: "dcomplex_val", DType.QINT8: "int_val",
    DType.QUINT8: "int_val", DType.QINT32: "int_val", DType.UINT32: "uint32_val", DType.UINT64: "uint64_val",
}


def tensor_values(proto: Any, dtype: DType, shape: tuple[int, ...], where: str) -> np.ndarray:
    """The values of a V1 slice proto as an array of ``dtype`` and ``shape`` (exact count required)."""
    count = math.prod(shape)
    field = _FIELDS.get(dtype)
    if field is None:
        raise UnimplementedError(f"{where}: V1 checkpoints of dtype {dtype.tf_name} are not supported")
    if proto.tensor_content and dtype != DType.STRING:
        values = np.frombuffer(proto.tensor_content, dtype=dtype.numpy.newbyteorder("<")).astype(dtype.numpy)
    else:
        raw = getattr(proto, field)
        if dtype == DType.STRING:
            values = np.empty(len(raw), dtype=object)
            values[:] = [bytes(x) for x in raw]
        elif dtype in (DType.HALF, DType.BFLOAT16):
            values = np.asarray(raw, dtype=np.uint16).view(dtype.numpy)
        elif dtype in (DType.COMPLEX64, DType.COMPLEX128):
            parts = np.asarray(raw, dtype=np.float64 if dtype == DType.COMPLEX128 else np.float32)
            if parts.size % 2:
                raise DataLossError(f"{where}: odd number of complex components ({parts.size})")
            values = parts.view(dtype.numpy)
        else:
            values = np.asarray(raw).astype(dtype.numpy)
    if values.size != count:
        raise DataLossError(f"{where}: {values.size} values stored for shape {list(shape)} ({count} elements)")
    return values.reshape(shape)


__all__ = ["V1Checkpoint", "V1Tensor", "check_extents", "has_pattern", "is_v1_table", "tensor_values"]
