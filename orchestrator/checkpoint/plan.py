"""Restore plan: which byte ranges each reader fetches, computed from the index alone.

Pure (no I/O, no Ray), so a test or the Ray orchestrator can call it anywhere:

    >>> work = plan_restore(index, readers=4)            # list of 4 work lists
    >>> values = read.read_work_list(work[0])            # on reader 0 (an actor, a thread)

Steps:

1. every stored piece to read (a whole tensor's entry, or one slice entry of a
   partitioned variable) becomes an item ``(key, file, offset, size, entry)``;
2. items larger than ``max_range_bytes`` are cut into chunks (the executor writes each
   chunk into its place in the tensor's buffer, so a split tensor is reassembled);
3. neighbouring items of the same file (gap <= ``coalesce_gap``) are merged into one
   range up to ``max_range_bytes``: fewer requests, which matters on object stores;
4. ranges go to readers greedily, largest first, each to the least-loaded reader, so
   no reader carries more than the lightest one plus the largest range;
5. each reader's ranges are sorted by (file, offset): sequential access per file.
"""
from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Iterable, Sequence
from typing import Any

from orchestrator.checkpoint import files
from orchestrator.errors import DataLossError, InvalidArgumentError, NotFoundError, suggest

DEFAULT_MAX_RANGE_BYTES = 16 << 20
DEFAULT_COALESCE_GAP = 64 << 10


@dataclasses.dataclass(frozen=True)
class StoredItem:
    """One index entry's bytes in a data file (``key`` is the index key: name or slice key)."""

    key: bytes
    file: str
    offset: int
    size: int
    entry: Any


@dataclasses.dataclass(frozen=True)
class TensorPiece:
    """Part (or all) of one entry's bytes inside a :class:`ReadRange`.

    ``key`` is the index key rather than the variable name, because the slices of a
    partitioned variable share its name but are separate entries.
    """

    key: bytes
    offset_in_range: int
    length: int
    entry: Any

    def offset_in_tensor(self, range_offset: int) -> int:
        """Where this piece starts inside the entry's bytes."""
        return range_offset + self.offset_in_range - int(self.entry.offset)


@dataclasses.dataclass
class ReadRange:
    """One request: ``length`` bytes of ``file`` from ``offset``, feeding ``tensors``."""

    file: str
    offset: int
    length: int
    tensors: list[TensorPiece]


def stored_items(index: Any, keys: Iterable[bytes] | None = None) -> list[StoredItem]:
    """Items for ``keys`` of a parsed index (all non-sliced entries when None).

    A full-name entry of a partitioned variable has no bytes of its own; asking for it
    yields its slice entries.
    """
    from orchestrator.checkpoint import table

    num_shards = int(index.header.num_shards)
    if keys is None:
        keys = [k for k, e in index.entries.items() if k and not e.slices]
    out: list[StoredItem] = []
    seen: set[bytes] = set()
    for key in keys:
        entry = index.entries.get(key)
        if entry is None:
            names = [k.decode("utf-8", "replace") for k in index.entries if k and not k.startswith(b"\x00")]
            wanted = key.decode("utf-8", "replace")
            raise NotFoundError(f"key {wanted!r} not found in checkpoint {index.prefix}.{suggest(wanted, names)}")
        if entry.slices:
            name = key.decode("utf-8")
            for proto in entry.slices:
                extents = tuple((e.start, e.length if e.HasField("length") else -1) for e in proto.extent)
                slice_key = table.encode_slice_key(name, extents)
                if slice_key not in index.entries:
                    raise DataLossError(f"{index.prefix}: slice {list(extents)} of {name!r} is listed in the "
                                        f"index but has no entry of its own")
                if slice_key not in seen:
                    seen.add(slice_key)
                    out.append(_item(index, slice_key, index.entries[slice_key], num_shards))
        elif key not in seen:
            seen.add(key)
            out.append(_item(index, key, entry, num_shards))
    return out


def _item(index: Any, key: bytes, entry: Any, num_shards: int) -> StoredItem:
    from orchestrator.checkpoint import table

    if not 0 <= entry.shard_id < num_shards:
        raise DataLossError(f"{files.index_filename(index.prefix)}: tensor {table.describe_key(key)} is in shard "
                            f"{entry.shard_id}, but the checkpoint has {num_shards} shard(s)")
    if entry.offset < 0 or entry.size < 0:
        raise DataLossError(f"{files.index_filename(index.prefix)}: tensor {table.describe_key(key)} has a "
                            f"negative offset or size ({entry.offset}, {entry.size})")
    return StoredItem(key, files.data_filename(index.prefix, entry.shard_id, num_shards),
                      int(entry.offset), int(entry.size), entry)


def split_items(items: Iterable[StoredItem], max_range_bytes: int) -> list[tuple[StoredItem, int, int]]:
    """``(item, start, length)`` units: each item whole, or in chunks of ``max_range_bytes``."""
    units = []
    for item in items:
        if item.size <= max_range_bytes:
            units.append((item, 0, item.size))
            continue
        for start in range(0, item.size, max_range_bytes):
            units.append((item, start, min(max_range_bytes, item.size - start)))
    return units


def coalesce(units: Sequence[tuple[StoredItem, int, int]], max_range_bytes: int,
             coalesce_gap: int) -> list[ReadRange]:
    """Merge units of the same file that lie within ``coalesce_gap`` bytes of each other."""
    ordered = sorted(units, key=lambda u: (u[0].file, u[0].offset + u[1], u[0].key))
    ranges: list[ReadRange] = []
    current: ReadRange | None = None
    for item, start, length in ordered:
        begin = item.offset + start
        if current is not None and current.file == item.file:
            end = current.offset + current.length
            merged_end = max(end, begin + length)
            if begin - end <= coalesce_gap and merged_end - current.offset <= max_range_bytes:
                current.tensors.append(TensorPiece(item.key, begin - current.offset, length, item.entry))
                current.length = merged_end - current.offset
                continue
        current = ReadRange(item.file, begin, length, [TensorPiece(item.key, 0, length, item.entry)])
        ranges.append(current)
    return ranges


def balance(ranges: Iterable[ReadRange], readers: int) -> list[list[ReadRange]]:
    """Greedy largest-first assignment to the least-loaded reader; lists sorted by file, offset."""
    work: list[list[ReadRange]] = [[] for _ in range(readers)]
    heap = [(0, i) for i in range(readers)]
    for rng in sorted(ranges, key=lambda r: (-r.length, r.file, r.offset)):
        load, reader = heapq.heappop(heap)
        work[reader].append(rng)
        heapq.heappush(heap, (load + rng.length, reader))
    for ranges_of_reader in work:
        ranges_of_reader.sort(key=lambda r: (r.file, r.offset))
    return work


def plan_items(items: Iterable[StoredItem], readers: int = 1, max_range_bytes: int = DEFAULT_MAX_RANGE_BYTES,
               coalesce_gap: int = DEFAULT_COALESCE_GAP) -> list[list[ReadRange]]:
    """Work lists for ``readers`` readers covering every byte of every item exactly once."""
    if readers < 1:
        raise InvalidArgumentError(f"plan_restore: readers must be >= 1, got {readers}")
    if max_range_bytes < 1 or coalesce_gap < 0:
        raise InvalidArgumentError(f"plan_restore: max_range_bytes must be >= 1 and coalesce_gap >= 0, got "
                                   f"{max_range_bytes} and {coalesce_gap}")
    units = split_items(items, max_range_bytes)
    return balance(coalesce(units, max_range_bytes, coalesce_gap), readers)


def plan_restore(index: Any, readers: int = 1, max_range_bytes: int = DEFAULT_MAX_RANGE_BYTES,
                 coalesce_gap: int = DEFAULT_COALESCE_GAP, keys: Iterable[bytes] | None = None
                 ) -> list[list[ReadRange]]:
    """Work lists for restoring ``keys`` (default: every tensor) of a parsed V2 index."""
    return plan_items(stored_items(index, keys), readers, max_range_bytes, coalesce_gap)


__all__ = ["ReadRange", "StoredItem", "TensorPiece", "plan_items", "plan_restore", "stored_items"]
