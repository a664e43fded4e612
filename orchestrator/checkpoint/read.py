"""Executes restore work lists: range reads into preallocated tensors, crc-checked.

    >>> work = plan.plan_items(plan.stored_items(index), readers=1)
    >>> values = read_work_list(work[0], threads=4)       # {index key: ndarray}

Every tensor gets its final numpy array before any byte is read, and each range is
read straight into the arrays of the tensors it covers (``os.preadv`` on local files;
one ranged ``cat_file`` and one copy elsewhere). A tensor is crc-checked by the thread
that delivers its last byte, so checksumming overlaps with other threads' reads; a
tensor whose bytes all lie in one local range is checksummed 1 MiB at a time as it
arrives, while still in the CPU cache. ``crc32c`` and ``preadv`` both release the GIL,
hence threads rather than processes.

Several readers in one process share a :class:`Destinations` so that a tensor split
across their work lists lands in one array (and is verified once, when complete).
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import crc32c
import numpy as np

from orchestrator import storage
from orchestrator.checkpoint import plan, table, tensor_codec
from orchestrator.checkpoint.plan import ReadRange, StoredItem
from orchestrator.dtypes import DType
from orchestrator.errors import DataLossError, InvalidArgumentError, NotFoundError

DEFAULT_THREADS = 4
# Bytes read per preadv call and checksummed right after it, while still in the CPU cache.
CRC_BATCH_BYTES = 1 << 20


def _where(key: bytes, path: str) -> str:
    return f"tensor {table.describe_key(key)} in {path}"


def validate(items: Iterable[StoredItem], file_sizes: Mapping[str, int]) -> None:
    """Entry sizes agree with shapes and lie inside their files (checked before planning or allocating)."""
    for item in items:
        where = _where(item.key, item.file)
        if item.entry.dtype != DType.STRING:
            tensor_codec.check_numeric_size(item.entry, where)
        file_size = file_sizes[item.file]
        if item.offset + item.size > file_size:
            raise DataLossError(f"{where}: needs bytes {item.offset}..{item.offset + item.size} but the file "
                                f"has only {file_size} bytes (truncated, or a corrupt index)")


class Destinations:
    """The output array of every entry to read, and how many of its bytes have arrived.

    Numeric tensors are allocated with their final dtype and shape; string tensors get a
    byte buffer that is decoded once complete. Sizes are validated (shape × itemsize ==
    entry size, entry inside its file) before anything is allocated.
    """

    def __init__(self, items: Iterable[StoredItem], file_sizes: Mapping[str, int], verify: bool = True):
        self.verify = verify
        self._items: dict[bytes, StoredItem] = {}
        for item in items:
            self._items.setdefault(item.key, item)
        validate(self._items.values(), file_sizes)
        self._arrays: dict[bytes, np.ndarray] = {}
        self._bytes: dict[bytes, np.ndarray] = {}
        for key, item in self._items.items():
            if item.entry.dtype == DType.STRING:
                raw = np.empty(item.size, dtype=np.uint8)
                self._bytes[key] = raw
            else:
                shape = tuple(d.size for d in item.entry.shape.dim)
                array = np.empty(shape, dtype=tensor_codec.numpy_dtype(item.entry.dtype, key.decode("utf-8",
                                                                                                    "replace")))
                self._arrays[key] = array
                self._bytes[key] = array.reshape(-1).view(np.uint8)
        self._missing = {key: item.size for key, item in self._items.items()}
        self._lock = threading.Lock()
        self.done: dict[bytes, np.ndarray] = {}

    def target(self, key: bytes) -> np.ndarray:
        """The writable uint8 view of ``key``'s bytes."""
        return self._bytes[key]

    def streams_crc(self, key: bytes) -> bool:
        """Whether a reader should checksum ``key``'s bytes as they arrive (numeric, verifying)."""
        return self.verify and key in self._arrays

    def received(self, key: bytes, count: int, crc: int | None = None) -> None:
        """Record ``count`` bytes of ``key``; the last one triggers its checks (and string decode).

        ``crc`` is the unmasked crc32c of the whole tensor when the reader computed it
        on the fly; otherwise the tensor is checksummed here, once complete.
        """
        with self._lock:
            self._missing[key] -= count
            complete = count > 0 and self._missing[key] == 0
        if complete:
            self._finish(key, crc)

    def _finish(self, key: bytes, crc: int | None = None) -> None:
        item = self._items[key]
        where = _where(key, item.file)
        if item.entry.dtype == DType.STRING:
            value = tensor_codec.decode_strings(memoryview(self._bytes[key]), item.entry, where, self.verify)
        else:
            if self.verify and crc is not None:
                tensor_codec.check_masked_crc(table.mask_crc(crc), item.entry, where)
            elif self.verify:
                tensor_codec.verify_numeric(self._bytes[key], item.entry, where)
            value = self._arrays[key]
        with self._lock:
            self.done[key] = value

    def finish_empty(self) -> None:
        """Zero-byte entries never receive a range; they are complete from the start."""
        for key, missing in list(self._missing.items()):
            if missing == 0 and key not in self.done:
                self._finish(key)

    def incomplete(self) -> list[bytes]:
        return [key for key, missing in self._missing.items() if missing]


class FileSet:
    """Data files opened once and shared by every reader thread."""

    def __init__(self, paths: Iterable[str], tensor_of: Mapping[str, bytes] | None = None,
                 **storage_options: Any):
        self.files: dict[str, storage.RangeFile] = {}
        try:
            for path in sorted(set(paths)):
                try:
                    self.files[path] = storage.RangeFile(path, **storage_options)
                except NotFoundError:
                    needed = f" (needed for tensor {table.describe_key(tensor_of[path])})" \
                        if tensor_of and path in tensor_of else ""
                    raise NotFoundError(f"data file {path} is missing{needed}") from None
        except BaseException:
            self.close()
            raise

    def sizes(self) -> dict[str, int]:
        return {path: handle.size for path, handle in self.files.items()}

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()

    def __enter__(self) -> "FileSet":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_range(rng: ReadRange, handle: storage.RangeFile, destinations: Destinations) -> None:
    """Read one range into the destination arrays of its pieces."""
    pieces = sorted(rng.tensors, key=lambda p: p.offset_in_range)
    if all(a.offset_in_range + a.length <= b.offset_in_range for a, b in zip(pieces, pieces[1:])):
        crcs = _read_direct(rng, pieces, handle, destinations)
    else:                                             # overlapping entries: read once, copy out
        crcs = {}
        scratch = np.empty(rng.length, dtype=np.uint8)
        got = handle.read_into(rng.offset, [scratch])
        if got < rng.length:
            _truncated(rng, pieces, got)
        for piece in pieces:
            start = piece.offset_in_tensor(rng.offset)
            destinations.target(piece.key)[start:start + piece.length] = \
                scratch[piece.offset_in_range:piece.offset_in_range + piece.length]
    for i, piece in enumerate(pieces):
        destinations.received(piece.key, piece.length, crcs.get(i))


def _read_direct(rng: ReadRange, pieces: Sequence[Any], handle: storage.RangeFile,
                 destinations: Destinations) -> dict[int, int]:
    """Read straight into the tensors, in cache-sized batches; returns crc32c of whole pieces.

    A tensor whose bytes all lie in this range is checksummed batch by batch right after
    each batch lands, while the bytes are still in the CPU cache, instead of in a
    second pass over memory once the range is complete.
    """
    segments: list[tuple[np.ndarray, int | None]] = []        # (destination view, piece to checksum)
    pos = 0
    for i, piece in enumerate(pieces):
        if piece.offset_in_range > pos:                       # a coalesced gap: read and dropped
            segments.append((np.empty(piece.offset_in_range - pos, dtype=np.uint8), None))
        start = piece.offset_in_tensor(rng.offset)
        target = destinations.target(piece.key)[start:start + piece.length]
        stream = destinations.streams_crc(piece.key) and start == 0 and piece.length == int(piece.entry.size)
        for offset in range(0, piece.length, CRC_BATCH_BYTES):
            segments.append((target[offset:offset + CRC_BATCH_BYTES], i if stream else None))
        pos = piece.offset_in_range + piece.length
    crcs: dict[int, int] = {i: 0 for i in {p for _, p in segments if p is not None}}
    # Local files: one preadv per MiB. Elsewhere every call is a request (an HTTP GET on
    # object stores), so the whole range goes in one and the checksums follow it.
    batch_limit = CRC_BATCH_BYTES if handle.is_local else max(rng.length, 1)
    done = 0
    batch: list[tuple[np.ndarray, int | None]] = []
    batch_bytes = 0
    for k, segment in enumerate(segments):
        batch.append(segment)
        batch_bytes += segment[0].nbytes
        if batch_bytes < batch_limit and k + 1 < len(segments):
            continue
        got = handle.read_into(rng.offset + done, [view for view, _ in batch])
        if got < batch_bytes:
            _truncated(rng, pieces, done + got)
        for view, piece_index in batch:
            if piece_index is not None:
                crcs[piece_index] = crc32c.crc32c(view, crcs[piece_index])
        done += batch_bytes
        batch, batch_bytes = [], 0
    return crcs


def _truncated(rng: ReadRange, pieces: Sequence[Any], got: int) -> None:
    short = next((p for p in pieces if p.offset_in_range + p.length > got), pieces[-1])
    raise DataLossError(f"{_where(short.key, rng.file)}: the file ended at byte {rng.offset + got}, before "
                        f"the tensor's end (truncated)")


def execute(work: Sequence[ReadRange], file_set: FileSet, destinations: Destinations,
            threads: int = DEFAULT_THREADS) -> None:
    """Read every range of one work list with up to ``threads`` concurrent requests."""
    if threads <= 1 or len(work) <= 1:
        for rng in work:
            read_range(rng, file_set.files[rng.file], destinations)
        return
    with ThreadPoolExecutor(max_workers=min(threads, len(work))) as pool:
        for future in [pool.submit(read_range, rng, file_set.files[rng.file], destinations) for rng in work]:
            future.result()


def read_work_lists(work_lists: Sequence[Sequence[ReadRange]], items: Iterable[StoredItem],
                    threads: int = DEFAULT_THREADS, verify: bool = True,
                    **storage_options: Any) -> dict[bytes, np.ndarray]:
    """Execute several readers' lists in this process (one thread per reader, ``threads`` in total)."""
    items = list(items)
    with _open_files(items, **storage_options) as file_set:
        return _execute_all(work_lists, items, file_set, threads, verify)


def read_items(items: Iterable[StoredItem], readers: int = 1, threads: int = DEFAULT_THREADS,
               verify: bool = True, max_range_bytes: int = plan.DEFAULT_MAX_RANGE_BYTES,
               coalesce_gap: int = plan.DEFAULT_COALESCE_GAP, **storage_options: Any) -> dict[bytes, np.ndarray]:
    """Validate ``items`` against their files, plan them for ``readers`` readers and read them all."""
    items = list(items)
    with _open_files(items, **storage_options) as file_set:
        validate(items, file_set.sizes())          # before planning: a corrupt size must not become chunks
        work = plan.plan_items(items, readers, max_range_bytes, coalesce_gap)
        return _execute_all(work, items, file_set, threads, verify)


def _open_files(items: Sequence[StoredItem], **storage_options: Any) -> FileSet:
    tensor_of = {item.file: item.key for item in items}
    return FileSet([item.file for item in items], tensor_of, **storage_options)


def _execute_all(work_lists: Sequence[Sequence[ReadRange]], items: Sequence[StoredItem], file_set: FileSet,
                 threads: int, verify: bool) -> dict[bytes, np.ndarray]:
    destinations = Destinations(items, file_set.sizes(), verify)
    destinations.finish_empty()
    lists = [w for w in work_lists if w]
    if len(lists) <= 1:
        for work in lists:
            execute(work, file_set, destinations, threads)
    else:
        per_reader = max(1, threads // len(lists))
        with ThreadPoolExecutor(max_workers=len(lists)) as pool:
            for future in [pool.submit(execute, w, file_set, destinations, per_reader) for w in lists]:
                future.result()
    missing = destinations.incomplete()
    if missing:
        raise DataLossError(f"restore plan left {len(missing)} tensor(s) incomplete, e.g. "
                            f"{table.describe_key(missing[0])} (a bug in the plan)")
    return destinations.done


def read_work_list(work: Sequence[ReadRange], threads: int = DEFAULT_THREADS, verify: bool = True,
                   **storage_options: Any) -> dict[bytes, np.ndarray]:
    """Execute one reader's list; every tensor it touches must be whole in it."""
    items = {p.key: StoredItem(p.key, r.file, int(p.entry.offset), int(p.entry.size), p.entry)
             for r in work for p in r.tensors}
    covered: dict[bytes, int] = {}
    for rng in work:
        for piece in rng.tensors:
            covered[piece.key] = covered.get(piece.key, 0) + piece.length
    split = [key for key, count in covered.items() if count != items[key].size]
    if split:
        raise InvalidArgumentError(f"read_work_list: tensor {table.describe_key(split[0])} (and {len(split) - 1} "
                                   f"more) is only partly in this work list (the plan split it across readers); "
                                   f"execute the lists together with read_work_lists")
    return read_work_lists([work], items.values(), threads, verify, **storage_options)


__all__ = ["DEFAULT_THREADS", "Destinations", "FileSet", "execute", "read_items", "read_range", "read_work_list",
           "read_work_lists", "validate"]
