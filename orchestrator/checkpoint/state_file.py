"""The ``checkpoint`` state file: which checkpoint of a directory is the latest.

A text-format ``CheckpointState`` proto, as TF writes it::

    model_checkpoint_path: "model.ckpt-3"
    all_model_checkpoint_paths: "model.ckpt-2"
    all_model_checkpoint_paths: "model.ckpt-3"

We write paths relative to the directory whenever the checkpoint lies inside it, so a
moved or copied run directory (local to S3, one bucket to another) still resumes;
entries that are absolute paths or URLs in an existing file are honoured as they are.

Behaviour chosen against real TF 2.21:

* ``latest_checkpoint`` returns None when there is no state file, and also when the
  state file names a checkpoint whose files are missing (TF logs "Couldn't match
  files" and returns None; resume scripts rely on ``if latest: restore``). We log a
  warning naming the missing index file. ``require=True`` raises instead.
* A state file that exists but cannot be parsed raises ``DataLossError`` naming it
  (TF returns None, which silently restarts a run from scratch; our writes are atomic,
  so a torn state file means real corruption and must not be ignored).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from google.protobuf import text_format

from orchestrator import storage
from orchestrator.checkpoint import files
from orchestrator.errors import DataLossError, InvalidArgumentError, NotFoundError

log = logging.getLogger(__name__)

STATE_FILENAME = "checkpoint"


def _pb2() -> Any:
    from orchestrator.protos import checkpoint_state_pb2
    return checkpoint_state_pb2


def state_path(checkpoint_dir: str, latest_filename: str | None = None) -> str:
    return files.join(checkpoint_dir, latest_filename or STATE_FILENAME)


def parse_checkpoint_state(data: bytes, where: str) -> Any:
    """Parse the text of a state file; ``where`` names it in errors."""
    state = _pb2().CheckpointState()
    try:
        text_format.Parse(data.decode("utf-8"), state)
    except (text_format.ParseError, UnicodeDecodeError) as exc:
        raise DataLossError(f"{where}: not a text-format CheckpointState ({exc}); expected lines like "
                            f"'model_checkpoint_path: \"model.ckpt-100\"'") from None
    return state


def read_checkpoint_state(checkpoint_dir: str, latest_filename: str | None = None,
                          **storage_options: Any) -> Any:
    """The state file exactly as stored (paths not resolved), or None if absent."""
    path = state_path(checkpoint_dir, latest_filename)
    try:
        data = storage.read_bytes(path, **storage_options)
    except NotFoundError:
        return None
    return parse_checkpoint_state(data, path)


def get_checkpoint_state(checkpoint_dir: str, latest_filename: str | None = None,
                         **storage_options: Any) -> Any:
    """``CheckpointState`` with every relative path joined to ``checkpoint_dir``, or None.

    >>> state = get_checkpoint_state("s3://bucket/run")
    >>> state.model_checkpoint_path
    's3://bucket/run/model.ckpt-1000'
    """
    state = read_checkpoint_state(checkpoint_dir, latest_filename, **storage_options)
    if state is None:
        return None
    where = state_path(checkpoint_dir, latest_filename)
    if not state.model_checkpoint_path:
        raise InvalidArgumentError(f"{where}: invalid checkpoint state, model_checkpoint_path is empty")
    state.model_checkpoint_path = _resolve(state.model_checkpoint_path, checkpoint_dir)
    resolved = [_resolve(p, checkpoint_dir) for p in state.all_model_checkpoint_paths]
    del state.all_model_checkpoint_paths[:]
    state.all_model_checkpoint_paths.extend(resolved)
    return state


def _resolve(path: str, checkpoint_dir: str) -> str:
    return path if files.is_absolute(path) else files.join(checkpoint_dir, path)


def checkpoint_exists(prefix: str, **storage_options: Any) -> bool:
    """True when ``prefix`` names a readable checkpoint (V2 index, or a V1 file)."""
    if files.exists(files.index_filename(prefix), **storage_options):
        return True
    fs, path = storage.filesystem(prefix, **storage_options)
    return fs.isfile(path)      # V1: the prefix itself is the table file


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None, require: bool = False,
                      **storage_options: Any) -> str | None:
    """Prefix of the newest checkpoint in ``checkpoint_dir`` (TF's ``tf.train.latest_checkpoint``)."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename, **storage_options)
    if state is None:
        if require:
            raise NotFoundError(f"{state_path(checkpoint_dir, latest_filename)}: no checkpoint state file")
        return None
    prefix = state.model_checkpoint_path
    if checkpoint_exists(prefix, **storage_options):
        return prefix
    message = (f"{state_path(checkpoint_dir, latest_filename)} names checkpoint {prefix!r} but "
               f"{files.index_filename(prefix)} does not exist")
    if require:
        raise NotFoundError(message)
    log.warning("%s; treating the directory as having no checkpoint", message)
    return None


def generate_checkpoint_state(save_dir: str, model_checkpoint_path: str,
                              all_model_checkpoint_paths: Sequence[str] | None = None,
                              all_model_checkpoint_timestamps: Sequence[float] | None = None,
                              last_preserved_timestamp: float | None = None,
                              save_relative_paths: bool = True) -> Any:
    """Build the proto; the latest path is always the last of ``all_model_checkpoint_paths``."""
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths = [p for p in paths if p != model_checkpoint_path] + [model_checkpoint_path]
    if save_relative_paths:
        model_checkpoint_path = _relative(model_checkpoint_path, save_dir)
        paths = [_relative(p, save_dir) for p in paths]
    state = _pb2().CheckpointState(model_checkpoint_path=model_checkpoint_path)
    state.all_model_checkpoint_paths.extend(paths)
    if all_model_checkpoint_timestamps:
        if len(all_model_checkpoint_timestamps) != len(paths):
            raise InvalidArgumentError(
                f"checkpoint state for {save_dir}: {len(paths)} checkpoint paths but "
                f"{len(all_model_checkpoint_timestamps)} timestamps")
        state.all_model_checkpoint_timestamps.extend(all_model_checkpoint_timestamps)
    if last_preserved_timestamp is not None:
        state.last_preserved_timestamp = last_preserved_timestamp
    return state


def _relative(path: str, save_dir: str) -> str:
    rel = files.relative_to(path, save_dir)
    return path if rel is None else rel


def update_checkpoint_state(save_dir: str, model_checkpoint_path: str,
                            all_model_checkpoint_paths: Sequence[str] | None = None,
                            latest_filename: str | None = None,
                            all_model_checkpoint_timestamps: Sequence[float] | None = None,
                            last_preserved_timestamp: float | None = None,
                            save_relative_paths: bool = True, **storage_options: Any) -> str:
    """Write the state file of ``save_dir`` atomically; returns its path.

    The last step of the commit protocol: until this write lands, readers keep seeing
    the previous latest checkpoint.
    """
    path = state_path(save_dir, latest_filename)
    if model_checkpoint_path == path or files.index_filename(model_checkpoint_path) == path:
        raise InvalidArgumentError(f"save path {model_checkpoint_path!r} conflicts with the checkpoint "
                                   f"state file {path!r}: use another save path or latest_filename")
    state = generate_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths,
                                      all_model_checkpoint_timestamps, last_preserved_timestamp,
                                      save_relative_paths)
    files.atomic_write(path, text_format.MessageToString(state).encode("utf-8"), **storage_options)
    return path
