"""Tensor-bundle (TF V2 checkpoint) I/O as the Saver and the io kernels sequence it.

The Saver's commit protocol needs the writes split into steps it can order: each
data shard (:func:`write_data_shard`, streamed tensor by tensor without joining), then
the index (:func:`write_index`). Reads parse the index (:func:`read_index`) and go
through the restore plan and its executor (:mod:`~orchestrator.checkpoint.plan`,
:mod:`~orchestrator.checkpoint.read`): :func:`read_entries` returns stored entries,
:func:`read_tensors` whole tensors or ``shape_and_slices`` slices of them.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import crc32c
import numpy as np

from orchestrator import storage
from orchestrator.checkpoint import files, plan, read, table, tensor_codec
from orchestrator.checkpoint.mapping import SliceSpec
from orchestrator.checkpoint.v1 import check_extents
from orchestrator.errors import DataLossError, InvalidArgumentError, NotFoundError, suggest

Item = tuple[str, str, np.ndarray]      # (key, shape_and_slices spec or "", value)


def _pb2() -> Any:
    from orchestrator.protos import tensor_bundle_pb2
    return tensor_bundle_pb2


# ----------------------------------------------------------------------- writing

@dataclasses.dataclass
class ShardResult:
    """What one written data shard contributes to the index."""

    shard_id: int
    entries: dict[bytes, Any]                    # index key -> BundleEntryProto
    sliced: dict[str, tuple[Any, tuple, list]]   # full name -> (dtype, full shape, [SliceSpec])


def write_data_shard(prefix: str, shard_id: int, num_shards: int, items: Sequence[Item],
                     **storage_options: Any) -> ShardResult:
    """Write ``PREFIX.data-<shard_id>-of-<num_shards>`` holding ``items`` (sorted by key, like TF)."""
    pb2 = _pb2()
    chunks: list[Iterable[bytes | np.ndarray]] = []
    offset = 0
    result = ShardResult(shard_id, {}, {})
    for key, spec, value in sorted(items, key=lambda it: (it[0], it[1])):
        value = np.asarray(value)
        payload, crc = tensor_codec.encode(value, f"{prefix} tensor {key!r}", with_crc=False)
        entry = pb2.BundleEntryProto(dtype=tensor_codec.dtype_enum(value, key), shard_id=shard_id,
                                     offset=offset, size=len(payload))
        if crc is None:
            chunks.append(_checksummed(payload, entry))
        else:
            entry.crc32c = crc
            chunks.append((payload,))
        slice_spec = SliceSpec.parse(spec, f"{prefix} tensor {key!r}")
        if slice_spec is None:
            entry.shape.CopyFrom(tensor_codec.shape_proto(value.shape))
            index_key = key.encode("utf-8")
        else:
            if tuple(value.shape) != slice_spec.shape:
                raise InvalidArgumentError(f"{prefix}: slice {spec!r} of {key!r} has shape {slice_spec.shape} "
                                           f"but the value has shape {tuple(value.shape)}")
            entry.shape.CopyFrom(tensor_codec.shape_proto(value.shape))
            index_key = table.encode_slice_key(key, slice_spec.extents)
            dtype, full, specs = result.sliced.setdefault(key, (entry.dtype, slice_spec.full_shape, []))
            if full != slice_spec.full_shape or dtype != entry.dtype:
                raise InvalidArgumentError(f"{prefix}: slices of {key!r} disagree on full shape or dtype")
            specs.append(slice_spec)
        if index_key in result.entries:
            raise InvalidArgumentError(f"{prefix}: tensor {key!r} {spec!r} is saved twice")
        result.entries[index_key] = entry
        offset += len(payload)
    storage.write_chunks(files.data_filename(prefix, shard_id, num_shards), itertools.chain.from_iterable(chunks),
                         **storage_options)
    return result


def _checksummed(payload: np.ndarray, entry: Any) -> Iterator[np.ndarray]:
    """``payload`` in 1 MiB pieces; each is checksummed right after it was written (still in cache).

    The entry's crc32c is complete once the writer has consumed the last piece.
    """
    crc = 0
    for start in range(0, payload.nbytes, read.CRC_BATCH_BYTES):
        piece = payload[start:start + read.CRC_BATCH_BYTES]
        yield piece
        crc = crc32c.crc32c(piece, crc)
    entry.crc32c = table.mask_crc(crc)


def build_index_bytes(shards: Iterable[ShardResult], num_shards: int) -> bytes:
    """The ``.index`` table: header under ``""``, then every entry in key order."""
    pb2 = _pb2()
    header = pb2.BundleHeaderProto(num_shards=num_shards, endianness=pb2.BundleHeaderProto.LITTLE)
    header.version.producer = 1
    entries: dict[bytes, Any] = {}
    sliced: dict[str, tuple[Any, tuple, list]] = {}
    for shard in shards:
        for key, entry in shard.entries.items():
            if key in entries:
                raise InvalidArgumentError(f"checkpoint key {key!r} written by two shards")
            entries[key] = entry
        for name, (dtype, full, specs) in shard.sliced.items():
            sliced.setdefault(name, (dtype, full, []))[2].extend(specs)
    for name, (dtype, full, specs) in sliced.items():
        full_entry = pb2.BundleEntryProto(dtype=dtype)
        full_entry.shape.CopyFrom(tensor_codec.shape_proto(full))
        for spec in sorted(specs, key=lambda s: s.extents):
            proto = full_entry.slices.add()
            for start, length in spec.extents:
                extent = proto.extent.add()
                extent.start = start
                if length >= 0:
                    extent.length = length
        entries[name.encode("utf-8")] = full_entry
    rows = [(b"", header.SerializeToString())]
    rows += [(k, entries[k].SerializeToString()) for k in sorted(entries)]
    return table.build_table(rows)


def write_index(prefix: str, shards: Iterable[ShardResult], num_shards: int, **storage_options: Any) -> None:
    storage.write_bytes(files.index_filename(prefix), build_index_bytes(shards, num_shards), **storage_options)


def write_checkpoint(prefix: str, shard_items: Sequence[Sequence[Item]], **storage_options: Any) -> None:
    """Data shards then index, without the Saver's commit protocol (the SaveV2 kernel's job)."""
    num = len(shard_items)
    results = [write_data_shard(prefix, i, num, items, **storage_options) for i, items in enumerate(shard_items)]
    write_index(prefix, results, num, **storage_options)


# ----------------------------------------------------------------------- reading

@dataclasses.dataclass
class Index:
    prefix: str
    header: Any
    entries: dict[bytes, Any]

    def names(self) -> list[str]:
        return sorted(k.decode("utf-8", "replace") for k in self.entries if k and not k.startswith(b"\x00"))

    def entry(self, name: str) -> Any:
        found = self.entries.get(name.encode("utf-8"))
        if found is None or not name:
            raise NotFoundError(f"key {name!r} not found in checkpoint {self.prefix}.{suggest(name, self.names())}")
        return found


def read_index(prefix: str, **storage_options: Any) -> Index:
    path = files.index_filename(prefix)
    try:
        data = storage.read_bytes(path, **storage_options)
    except NotFoundError:
        raise NotFoundError(f"{prefix} is not a checkpoint: {path} does not exist") from None
    rows = table.read_table(data, path)
    pb2 = _pb2()
    entries: dict[bytes, Any] = {}
    header = None
    for key, value in rows:
        proto = pb2.BundleHeaderProto() if key == b"" else pb2.BundleEntryProto()
        try:
            proto.ParseFromString(value)
        except Exception:      # protobuf's DecodeError has no stable import path across versions
            raise DataLossError(f"{path}: entry {key!r} is not a valid bundle proto") from None
        if key == b"":
            header = proto
        else:
            entries[key] = proto
    if header is None:
        raise DataLossError(f"{path}: no bundle header (key '') in the index")
    if header.endianness != pb2.BundleHeaderProto.LITTLE:
        raise DataLossError(f"{path}: big-endian checkpoints are not supported")
    return Index(prefix, header, entries)


@dataclasses.dataclass(frozen=True)
class _Range:
    key: bytes
    entry: Any
    path: str


def _ranges_for(index: Index, name: str, spec: str) -> tuple[list[_Range], Any, tuple]:
    """Entries to read for ``name`` (whole or sliced), the dtype and the full shape."""
    entry = index.entry(name)
    full = tuple(d.size for d in entry.shape.dim)
    num = index.header.num_shards
    if not entry.slices:
        return [_Range(name.encode("utf-8"), entry, files.data_filename(index.prefix, entry.shard_id, num))], \
            entry.dtype, full
    out = []
    for proto in entry.slices:
        extents = tuple((e.start, e.length if e.HasField("length") else -1) for e in proto.extent)
        key = table.encode_slice_key(name, extents)
        part = index.entries.get(key)
        if part is None:
            raise DataLossError(f"{index.prefix}: slice {extents} of {name!r} is listed but has no entry")
        out.append(_Range(key, part, files.data_filename(index.prefix, part.shard_id, num)))
    return out, entry.dtype, full


def _read_one(rng: _Range, **storage_options: Any) -> np.ndarray:
    """One stored entry read on its own (verification reports each tensor's problem)."""
    entry = rng.entry
    fs, path = storage.filesystem(rng.path, **storage_options)
    try:
        data = fs.cat_file(path, start=entry.offset, end=entry.offset + entry.size) if entry.size else b""
    except FileNotFoundError:
        raise NotFoundError(f"data file {rng.path} is missing") from None
    name = table.describe_key(rng.key)
    if len(data) != entry.size:
        raise DataLossError(f"{rng.path}: tensor {name} needs bytes {entry.offset}..{entry.offset + entry.size} "
                            f"but the file ends before that (truncated)")
    return tensor_codec.decode(data, entry, f"tensor {name} in {rng.path}")


# (stored items, verify) -> {index key: array}: how read_tensors has its entries read.
ItemReader = Callable[[list[plan.StoredItem], bool], dict[bytes, np.ndarray]]


def read_entries(index: Index, keys: Iterable[bytes] | None = None, readers: int = 1,
                 threads: int = read.DEFAULT_THREADS, verify: bool = True,
                 max_range_bytes: int = plan.DEFAULT_MAX_RANGE_BYTES,
                 coalesce_gap: int = plan.DEFAULT_COALESCE_GAP, **storage_options: Any) -> dict[bytes, np.ndarray]:
    """Stored entries (index key -> array) for ``keys``; a partitioned name yields its slice entries."""
    return read.read_items(plan.stored_items(index, keys), readers, threads, verify, max_range_bytes, coalesce_gap,
                           **storage_options)


def full_tensor(index: Index, name: str, stored: Mapping[bytes, np.ndarray]) -> np.ndarray:
    """``name``'s whole value from :func:`read_entries` output (slices assembled)."""
    entry = index.entry(name)
    if not entry.slices:
        return stored[name.encode("utf-8")]
    full = tuple(d.size for d in entry.shape.dim)
    out = np.empty(full, dtype=tensor_codec.numpy_dtype(entry.dtype, name))
    covered = 0
    for proto in entry.slices:
        extents = tuple((e.start, e.length if e.HasField("length") else -1) for e in proto.extent)
        check_extents(full, extents, f"{index.prefix}: tensor {name!r}")
        spec = SliceSpec(full, extents)
        part = stored[table.encode_slice_key(name, extents)]
        if tuple(part.shape) != spec.shape:
            raise DataLossError(f"{index.prefix}: slice {list(extents)} of {name!r} holds shape "
                                f"{list(part.shape)}, expected {list(spec.shape)}")
        out[spec.index] = part
        covered += part.size
    if covered != out.size:
        raise DataLossError(f"{index.prefix}: the slices of {name!r} cover {covered} of its {out.size} elements")
    return out


def read_tensors(prefix: str, requests: Sequence[tuple[str, str]], max_workers: int = read.DEFAULT_THREADS,
                 verify: bool = True, item_reader: ItemReader | None = None,
                 **storage_options: Any) -> list[np.ndarray]:
    """Values for ``(key, shape_and_slices)`` requests, in order: read in this process (one
    reader, ``max_workers`` threads), or by ``item_reader(items, verify)`` (e.g. Ray actors,
    distributed/restore.py), which returns what ``read.read_items`` would."""
    index = read_index(prefix, **storage_options)
    for name, _ in requests:
        index.entry(name)                      # NotFoundError with suggestions before any read
    keys = {n.encode("utf-8"): None for n, _ in requests}
    if item_reader is not None:
        stored = item_reader(plan.stored_items(index, keys), verify)
    else:
        stored = read_entries(index, keys, threads=max_workers, verify=verify, **storage_options)
    out: list[np.ndarray] = []
    handed_out: set[int] = set()
    for name, spec in requests:
        value = full_tensor(index, name, stored)
        if id(value) in handed_out:            # the same key twice: never alias two variables
            value = value.copy()
        handed_out.add(id(value))
        wanted = SliceSpec.parse(spec, f"{prefix} request for {name!r}")
        if wanted is not None:
            if tuple(value.shape) != wanted.full_shape:
                raise InvalidArgumentError(f"{prefix}: slice {spec!r} of {name!r} assumes full shape "
                                           f"{wanted.full_shape} but the checkpoint has {tuple(value.shape)}")
            value = np.ascontiguousarray(value[wanted.index])
        out.append(value)
    return out


def merge_checkpoints(sources: Sequence[str], dest: str, delete_old_dirs: bool = True,
                      allow_missing_files: bool = False, **storage_options: Any) -> None:
    """What MergeV2Checkpoints does: one index over the sources' data files, renamed under ``dest``."""
    present = []
    for src in sources:
        if files.exists(files.index_filename(src), **storage_options):
            present.append(src)
        elif not allow_missing_files:
            raise NotFoundError(f"MergeV2Checkpoints: {files.index_filename(src)} does not exist")
    num = len(present)
    results = []
    for shard_id, src in enumerate(present):
        index = read_index(src, **storage_options)
        copied = ShardResult(shard_id, {}, {})
        for key, entry in index.entries.items():
            if entry.slices:
                copied.sliced[key.decode("utf-8")] = (entry.dtype, tuple(d.size for d in entry.shape.dim),
                                                      [SliceSpec(tuple(d.size for d in entry.shape.dim),
                                                                 tuple((e.start, e.length if e.HasField("length")
                                                                        else -1) for e in s.extent))
                                                       for s in entry.slices])
                continue
            moved = type(entry)()
            moved.CopyFrom(entry)
            moved.shard_id = shard_id
            copied.entries[key] = moved
        data = storage.read_bytes(files.data_filename(src, 0, index.header.num_shards), **storage_options) \
            if index.header.num_shards == 1 else None
        if data is None:
            raise InvalidArgumentError(f"MergeV2Checkpoints: source {src} has {index.header.num_shards} shards; "
                                       f"only single-shard sources can be merged")
        storage.write_bytes(files.data_filename(dest, shard_id, num), data, **storage_options)
        results.append(copied)
    write_index(dest, results, num, **storage_options)
    for src in present:
        files.delete_checkpoint(src, meta_graph_suffix=None, **storage_options)
        if delete_old_dirs:
            parent = files.dirname(src)
            if parent and parent != files.dirname(dest) and not files.list_names(parent, **storage_options):
                files.delete(parent, recursive=True, **storage_options)


def list_variables(prefix: str, **storage_options: Any) -> list[tuple[str, list[int]]]:
    index = read_index(prefix, **storage_options)
    return [(n, [d.size for d in index.entry(n).shape.dim]) for n in index.names()]


def entries_by_name(index: Index) -> Mapping[str, Any]:
    return {n: index.entry(n) for n in index.names()}


def entry_ranges(index: Index, name: str) -> list[tuple[str, Any, str]]:
    """(index key description, entry, data file) of every stored piece of ``name``."""
    ranges, _, _ = _ranges_for(index, name, "")
    return [(table.describe_key(r.key), r.entry, r.path) for r in ranges]


def verify_checkpoint(prefix: str, max_workers: int = 8, **storage_options: Any) -> list[str]:
    """Every problem found (missing/short data files, crc mismatches), each naming tensor and file.

    Index-level corruption (bad magic, block crc) raises DataLossError from :func:`read_index`.
    """
    index = read_index(prefix, **storage_options)
    problems: list[str] = []
    pieces: list[_Range] = []
    for name in index.names():
        try:
            ranges, _, _ = _ranges_for(index, name, "")
        except DataLossError as exc:
            problems.append(str(exc))
            continue
        pieces.extend(ranges)
    for shard in range(index.header.num_shards):
        path = files.data_filename(prefix, shard, index.header.num_shards)
        if not files.exists(path, **storage_options):
            problems.append(f"data file {path} is missing")

    def check(rng: _Range) -> str | None:
        if rng.entry.shard_id >= index.header.num_shards:
            return f"tensor {table.describe_key(rng.key)}: shard {rng.entry.shard_id} >= num_shards " \
                   f"{index.header.num_shards}"
        try:
            _read_one(rng, **storage_options)
        except (DataLossError, NotFoundError) as exc:
            return str(exc)
        return None

    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        for problem in pool.map(check, pieces):
            if problem and not problem.startswith("data file"):
                problems.append(problem)
    return problems
