"""The commit protocol of a save: a crash at any moment leaves the previous latest intact.

Object stores have no atomic rename, so a checkpoint cannot be written aside and
renamed into place. Instead the protocol relies on two facts: a checkpoint is only
*readable* once its ``.index`` exists (readers open the index first), and it is only
*the latest* once the ``checkpoint`` state file names it. The order is therefore:

1. ``cleanup``   remove leftovers of killed attempts: our temp files and data files
                 whose index never got written (unless the state file names them)
2. ``data:k``    each data shard ``PREFIX.data-k-of-N``
3. ``index``     ``PREFIX.index`` — the checkpoint is now complete, but not latest
4. ``meta``      ``PREFIX.meta`` (written before the state file, so the latest
                 checkpoint always has its meta graph)
5. ``state``     the state file, atomically (temp + rename locally, one PUT on stores)
6. ``retention`` only now are old checkpoints deleted (index first), and temp files
                 or staged copies the new state file no longer names

Overwriting a prefix that the state file references (``save(sess, "model.ckpt")``
twice) would break this: new data under the old index is corrupt. Such a save is
staged: the whole checkpoint is first committed under a temporary sibling prefix and
the state file pointed at it; then the final prefix is rewritten (old index deleted
first) and the state file pointed back; then the staging files are removed.

For tests, ``ORCH_CRASH_AFTER_STAGE=<stage>`` makes the process SIGKILL itself right
after that stage (names as above, plus ``staged-state``) — real crashes, no mocks.
"""
from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Sequence
from typing import Any

from orchestrator.checkpoint import bundle_io, files, state_file

CRASH_ENV = "ORCH_CRASH_AFTER_STAGE"


def reached(stage: str) -> None:
    """Crash-test hook: die like a killed process right after ``stage`` when asked to."""
    if os.environ.get(CRASH_ENV) == stage:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclasses.dataclass
class StateUpdate:
    """How the state file must look once the new checkpoint is the latest."""

    save_dir: str
    all_model_checkpoint_paths: list[str]
    latest_filename: str | None = None
    save_relative_paths: bool = True


@dataclasses.dataclass
class SaveRequest:
    prefix: str
    shards: Sequence[Sequence[bundle_io.Item]]
    meta_graph: bytes | None = None
    meta_graph_suffix: str = "meta"
    state: StateUpdate | None = None
    delete_after: Sequence[str] = ()


def commit(request: SaveRequest, **storage_options: Any) -> None:
    """Write ``request.prefix`` with the protocol above."""
    referenced = _referenced(request.state, **storage_options)
    cleanup_leftovers(files.dirname(request.prefix), referenced, **storage_options)
    reached("cleanup")
    if request.state is not None and request.prefix in referenced:
        _staged_commit(request, **storage_options)
    else:
        if files.exists(files.index_filename(request.prefix), **storage_options):
            files.delete(files.index_filename(request.prefix), **storage_options)  # never new data + old index
        _write(request.prefix, request, **storage_options)
        if request.state is not None:
            _write_state(request.state, request.prefix, **storage_options)
            reached("state")
    if request.state is not None:       # staged copies the state file no longer names
        cleanup_leftovers(files.dirname(request.prefix), _referenced(request.state, **storage_options),
                          **storage_options)
    for old in request.delete_after:
        if old != request.prefix:
            files.delete_checkpoint(old, request.meta_graph_suffix, **storage_options)
    reached("retention")


def _write(prefix: str, request: SaveRequest, **storage_options: Any) -> None:
    num = len(request.shards)
    results = []
    for shard_id, items in enumerate(request.shards):
        results.append(bundle_io.write_data_shard(prefix, shard_id, num, items, **storage_options))
        reached(f"data:{shard_id}")
    reached("data")
    bundle_io.write_index(prefix, results, num, **storage_options)
    reached("index")
    if request.meta_graph is not None:
        files.atomic_write(f"{prefix}.{request.meta_graph_suffix}", request.meta_graph, **storage_options)
    reached("meta")


def _write_state(state: StateUpdate, latest: str, replace: str | None = None, **storage_options: Any) -> None:
    paths = [latest if replace is not None and p == replace else p for p in state.all_model_checkpoint_paths]
    state_file.update_checkpoint_state(state.save_dir, latest, paths, state.latest_filename,
                                       save_relative_paths=state.save_relative_paths, **storage_options)


def _staged_commit(request: SaveRequest, **storage_options: Any) -> None:
    staging = files.temp_name(request.prefix)
    _write(staging, request, **storage_options)
    _write_state(request.state, staging, replace=request.prefix, **storage_options)
    reached("staged-state")
    files.delete(files.index_filename(request.prefix), **storage_options)
    for path in files.data_files(request.prefix, **storage_options):
        files.delete(path, **storage_options)
    _write(request.prefix, request, **storage_options)
    _write_state(request.state, request.prefix, **storage_options)
    reached("state")
    files.delete_checkpoint(staging, request.meta_graph_suffix, **storage_options)


def _referenced(state: StateUpdate | None, **storage_options: Any) -> set[str]:
    """Prefixes the current state file names (they must survive cleanup)."""
    if state is None:
        return set()
    current = state_file.get_checkpoint_state(state.save_dir, state.latest_filename, **storage_options)
    if current is None:
        return set()
    return {current.model_checkpoint_path, *current.all_model_checkpoint_paths}


def cleanup_leftovers(directory: str, keep: set[str], **storage_options: Any) -> list[str]:
    """Delete our temp files and data files without an index in ``directory``; returns them.

    Checkpoints the state file references (``keep``) are never touched, even staged ones.
    """
    names = files.list_names(directory, **storage_options)
    present = set(names)
    keep_names = {files.basename(p) for p in keep}
    removed = []
    for name in names:
        stem = name
        parts = files.split_data_filename(name)
        if parts is not None:
            stem = parts[0]
        elif name.endswith(".index") or name.endswith(".meta"):
            stem = name.rsplit(".", 1)[0]
        if stem in keep_names:
            continue
        orphan_data = parts is not None and f"{parts[0]}.index" not in present
        if files.TEMP_MARKER in name or orphan_data:
            files.delete(files.join(directory, name), **storage_options)
            removed.append(name)
    return removed
