"""Tensor bytes in a ``.data`` file ⇄ numpy, with the entry's masked crc32c.

Numeric tensors are their little-endian bytes. String tensors are one varint length
per element, the masked crc32c of those length bytes (4 bytes), then the
concatenated element bytes. The entry crc covers the lengths (as fixed-width
integers, not as their varint bytes), the length crc and the element bytes.
"""
from __future__ import annotations

import struct
from typing import Any

import crc32c
import numpy as np

from orchestrator.checkpoint.table import get_varint, mask_crc, put_varint
from orchestrator.dtypes import DType, as_dtype
from orchestrator.errors import DataLossError, InvalidArgumentError


def dtype_enum(value: np.ndarray, key: str) -> int:
    if value.dtype == object or value.dtype.kind in "SU":
        return int(DType.STRING)
    try:
        return int(as_dtype(value.dtype))
    except Exception:
        raise InvalidArgumentError(f"tensor {key!r}: numpy dtype {value.dtype} has no TF DataType") from None


def numpy_dtype(enum: int, where: str) -> np.dtype:
    try:
        return DType(enum).numpy
    except ValueError:
        raise DataLossError(f"{where}: unknown DataType {enum}") from None


def shape_proto(shape: tuple) -> Any:
    from orchestrator.protos import tensor_shape_pb2
    proto = tensor_shape_pb2.TensorShapeProto()
    for size in shape:
        proto.dim.add().size = int(size)
    return proto


def _as_bytes(item: Any) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, np.bytes_):
        return bytes(item)
    raise InvalidArgumentError(f"string tensor element of type {type(item).__name__} is not bytes or str")


def _length_words(items: list[bytes]) -> bytes:
    """The lengths as the crc sees them: uint32 LE each (uint64 beyond 4 GiB), not varints."""
    return b"".join(struct.pack("<I", len(x)) if len(x) <= 0xFFFFFFFF else struct.pack("<Q", len(x))
                    for x in items)


def encode(value: np.ndarray, where: str, with_crc: bool = True) -> tuple[bytes | np.ndarray, int | None]:
    """(payload, masked crc32c) of one tensor.

    A numeric payload is a uint8 view of the (contiguous, little-endian) array itself,
    not a copy: saves stream these views to the data file. ``with_crc=False`` leaves a
    numeric payload's crc to the caller (None), which checksums it while writing.
    """
    if value.dtype == object or value.dtype.kind in "SU":
        items = [_as_bytes(x) for x in value.reshape(-1)]
        lengths = b"".join(put_varint(len(x)) for x in items)
        crc = crc32c.crc32c(_length_words(items))
        length_crc = struct.pack("<I", mask_crc(crc))
        body = b"".join(items)
        crc = crc32c.crc32c(body, crc32c.crc32c(length_crc, crc))
        return lengths + length_crc + body, mask_crc(crc)
    data = np.ascontiguousarray(value)
    if data.dtype.byteorder == ">":
        data = data.astype(data.dtype.newbyteorder("<"))
    payload = data.reshape(-1).view(np.uint8)
    return payload, mask_crc(crc32c.crc32c(payload)) if with_crc else None


def element_count(entry: Any) -> int:
    return int(np.prod([d.size for d in entry.shape.dim], dtype=np.int64))


def check_numeric_size(entry: Any, where: str) -> np.dtype:
    """The numpy dtype of a numeric entry, after checking its byte size against its shape.

    Done before any buffer is allocated, so a corrupt shape cannot ask for terabytes.
    """
    dtype = numpy_dtype(entry.dtype, where)
    shape = [d.size for d in entry.shape.dim]
    if any(d < 0 for d in shape):
        raise DataLossError(f"{where}: negative dimension in shape {shape}")
    if element_count(entry) * dtype.itemsize != entry.size:
        raise DataLossError(f"{where}: the index gives {entry.size} bytes for shape {shape} of {dtype} "
                            f"({element_count(entry) * dtype.itemsize} expected)")
    return dtype


def check_masked_crc(masked: int, entry: Any, where: str) -> None:
    """Compare a masked crc32c computed elsewhere (e.g. while reading) with the entry's."""
    _check_crc(masked, entry, where, True)


def verify_numeric(data: Any, entry: Any, where: str) -> None:
    """Check the entry's masked crc32c over ``data`` (any contiguous buffer; GIL released by crc32c)."""
    _check_crc(mask_crc(crc32c.crc32c(data)), entry, where, True)


def decode(data: bytes | memoryview, entry: Any, where: str, verify: bool = True) -> np.ndarray:
    """Tensor of ``entry`` from its bytes; crc checked (DataLossError naming ``where``)."""
    shape = tuple(d.size for d in entry.shape.dim)
    if entry.dtype != DType.STRING:
        dtype = numpy_dtype(entry.dtype, where)
        _check_crc(mask_crc(crc32c.crc32c(data)), entry, where, verify)
        if len(data) != element_count(entry) * dtype.itemsize:
            raise DataLossError(f"{where}: {len(data)} bytes for shape {shape} of {dtype}")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    return decode_strings(data, entry, where, verify)


def decode_strings(data: bytes | memoryview, entry: Any, where: str, verify: bool = True) -> np.ndarray:
    """A string tensor (object array of bytes) from its stored bytes."""
    shape = tuple(d.size for d in entry.shape.dim)
    count = element_count(entry)
    if count < 0 or count > len(data):       # every element needs at least one length byte
        raise DataLossError(f"{where}: shape {list(shape)} has more strings than the entry's {len(data)} bytes")
    pos, lengths = 0, []
    for _ in range(count):
        length, pos = get_varint(data, pos, where)
        lengths.append(length)
    if pos + 4 + sum(lengths) != len(data):
        raise DataLossError(f"{where}: string lengths add up to {pos + 4 + sum(lengths)} bytes but the entry "
                            f"holds {len(data)}")
    body = pos + 4
    if verify:
        words = b"".join(struct.pack("<I", n) if n <= 0xFFFFFFFF else struct.pack("<Q", n) for n in lengths)
        crc = crc32c.crc32c(words)
        if struct.unpack_from("<I", data, pos)[0] != mask_crc(crc):
            raise DataLossError(f"{where}: crc32c mismatch in the string lengths, the data is corrupt")
        _check_crc(mask_crc(crc32c.crc32c(data[body:], crc32c.crc32c(data[pos:body], crc))), entry, where, verify)
    out = np.empty(count, dtype=object)
    pos = body
    for i, length in enumerate(lengths):
        out[i] = bytes(data[pos:pos + length])
        pos += length
    return out.reshape(shape)


def _check_crc(actual: int, entry: Any, where: str, verify: bool) -> None:
    if verify and actual != entry.crc32c:
        raise DataLossError(f"{where}: crc32c mismatch (stored {entry.crc32c:#010x}, computed {actual:#010x}), "
                            f"the data is corrupt")
