"""Checkpoint restore with the reads spread over Ray actors.

The plan is the one of a local restore (checkpoint/plan.py, pure): every stored tensor
piece becomes part of a byte range, ranges are balanced over ``actors`` readers by size.
Each actor reads its ranges through fsspec (its own connections to the object store,
on whichever node Ray placed it), checksums the tensors that lie whole in one range,
and hands back byte pieces. The driver copies the pieces into the tensors' final arrays
(checkpoint/read.py's ``Destinations``, which also checks the crc32c of every tensor: the
actor's crc for whole tensors, a fresh one for tensors that arrived in several pieces)
and decodes string tensors. Results stream back batch by batch (``ray.wait``), so the
object store holds only the batches in flight, not the whole checkpoint.

    >>> with cluster.connected() as ray:
    ...     reader = ActorReader(ray, actors=4)
    ...     values = reader.read_items(plan.stored_items(index))    # {index key: ndarray}

``read_pieces`` is what an actor runs; it is plain Python and is tested without Ray.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import crc32c
import numpy as np

from orchestrator.checkpoint import plan, read, table
from orchestrator.checkpoint.plan import ReadRange, StoredItem
from orchestrator.dtypes import DType
from orchestrator.distributed import cluster
from orchestrator.errors import DataLossError, InvalidArgumentError

# Ranges handed to an actor per call: large enough to amortise a Ray call, small enough
# that results stream back while other batches are still being read.
BATCH_BYTES = 64 << 20


@dataclasses.dataclass(frozen=True)
class Piece:
    """Bytes of one index entry read by an actor: ``data`` lands at ``offset`` of the entry's
    bytes; ``crc`` is the unmasked crc32c of the whole entry when the piece is all of it."""

    key: bytes
    offset: int
    data: np.ndarray
    crc: int | None


def read_pieces(work: Sequence[ReadRange], threads: int = read.DEFAULT_THREADS, verify: bool = True,
                **storage_options: Any) -> list[Piece]:
    """Read ``work``'s ranges (``threads`` at a time) and cut them into per-entry pieces."""
    with read.FileSet({rng.file for rng in work}, **storage_options) as file_set:
        def one(rng: ReadRange) -> list[Piece]:
            return _range_pieces(rng, file_set.files[rng.file], verify)

        if threads <= 1 or len(work) <= 1:
            return [p for rng in work for p in one(rng)]
        with ThreadPoolExecutor(max_workers=min(threads, len(work))) as pool:
            return [p for pieces in pool.map(one, work) for p in pieces]


def _range_pieces(rng: ReadRange, handle: Any, verify: bool) -> list[Piece]:
    buffer = np.empty(rng.length, dtype=np.uint8)
    got = handle.read_into(rng.offset, [buffer])
    pieces = []
    for tp in rng.tensors:
        if tp.offset_in_range + tp.length > got:
            raise DataLossError(f"tensor {table.describe_key(tp.key)} in {rng.file}: the file ended at byte "
                                f"{rng.offset + got}, before the tensor's end (truncated)")
        data = buffer[tp.offset_in_range:tp.offset_in_range + tp.length]
        offset = tp.offset_in_tensor(rng.offset)
        whole = offset == 0 and tp.length == int(tp.entry.size)
        crc = crc32c.crc32c(data) if verify and whole and tp.entry.dtype != DType.STRING else None
        pieces.append(Piece(tp.key, offset, data, crc))
    return pieces


class _RangeReader:
    """The actor: holds the storage options (credentials stay in the actor's memory)."""

    def __init__(self, storage_options: dict[str, Any]):
        self.storage_options = storage_options

    def read(self, work: list[ReadRange], threads: int, verify: bool) -> list[Piece]:
        return read_pieces(work, threads, verify, **self.storage_options)


def batches(work: Sequence[ReadRange], batch_bytes: int = BATCH_BYTES) -> list[list[ReadRange]]:
    """``work`` in order, cut into runs of about ``batch_bytes`` (a range is never split)."""
    out: list[list[ReadRange]] = []
    size = batch_bytes
    for rng in work:
        if size >= batch_bytes:
            out.append([])
            size = 0
        out[-1].append(rng)
        size += rng.length
    return out


class ActorReader:
    """``actors`` Ray actors reading checkpoint ranges, each with ``threads`` concurrent requests."""

    def __init__(self, ray: Any, actors: int, threads: int = read.DEFAULT_THREADS,
                 max_range_bytes: int = plan.DEFAULT_MAX_RANGE_BYTES, coalesce_gap: int = plan.DEFAULT_COALESCE_GAP,
                 **storage_options: Any):
        if actors < 1 or threads < 1:
            raise InvalidArgumentError(f"ActorReader: actors and threads must be >= 1, got {actors} and {threads}")
        self._ray = ray
        self.threads = threads
        self.max_range_bytes, self.coalesce_gap = max_range_bytes, coalesce_gap
        self.storage_options = storage_options
        remote = ray.remote(num_cpus=0, max_concurrency=threads)(_RangeReader)
        # num_cpus=0: readers wait on I/O; they must not block the CPUs a job's other tasks need.
        self.actors = [remote.remote(dict(storage_options)) for _ in range(actors)]

    def read_items(self, items: Iterable[StoredItem], verify: bool = True) -> dict[bytes, np.ndarray]:
        """Every item's value (index key -> array), as ``checkpoint.read.read_items`` returns them."""
        items = list(items)
        tensor_of = {item.file: item.key for item in items}
        with read.FileSet({item.file for item in items}, tensor_of, **self.storage_options) as file_set:
            sizes = file_set.sizes()
        read.validate(items, sizes)                # before planning: a corrupt size must not become chunks
        work = plan.plan_items(items, len(self.actors), self.max_range_bytes, self.coalesce_gap)
        destinations = read.Destinations(items, sizes, verify)
        destinations.finish_empty()
        pending = [actor.read.remote(batch, self.threads, verify)
                   for actor, work_list in zip(self.actors, work) for batch in batches(work_list)]
        try:
            while pending:
                done, pending = self._ray.wait(pending, num_returns=1)
                for piece in self.result(done[0]):
                    end = piece.offset + piece.data.nbytes
                    destinations.target(piece.key)[piece.offset:end] = piece.data
                    destinations.received(piece.key, piece.data.nbytes, piece.crc)
        finally:
            for ref in pending:                      # an error: the rest is not needed any more
                try:
                    self._ray.cancel(ref)
                except Exception:  # noqa: BLE001 - best effort; the results are dropped anyway
                    pass
        missing = destinations.incomplete()
        if missing:
            raise DataLossError(f"restore plan left {len(missing)} tensor(s) incomplete, e.g. "
                                f"{table.describe_key(missing[0])} (a bug in the plan)")
        return destinations.done

    def result(self, ref: Any) -> list[Piece]:
        """An actor call's pieces; an error it raised is re-raised as itself (DataLossError
        naming the tensor and file, NotFoundError ...), not wrapped in Ray's task error."""
        return cluster.get(self._ray, ref, "checkpoint reader")

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []


__all__ = ["ActorReader", "BATCH_BYTES", "Piece", "batches", "read_pieces"]
