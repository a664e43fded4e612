"""File-level helpers of the checkpoint layer: paths, atomic writes, deletes, listings.

Checkpoint paths may be local paths or any fsspec URL, so path arithmetic here is
string-based (``/``-separated) and never assumes ``os.path`` semantics for URLs. All
I/O goes through :func:`orchestrator.storage.filesystem` (the one fsspec user).

The one write primitive the commit protocol relies on is :func:`atomic_write`: on a
local disk it writes a temporary sibling, fsyncs it and ``os.replace``s it over the
target (readers see the old or the new file, never a torn one); on object stores a
single PUT of the whole object has the same all-or-nothing visibility.
"""
from __future__ import annotations

import os
import posixpath
import re
import uuid
from typing import Any

from orchestrator import storage

# Suffix every temporary file we create carries, so a later save can recognise and
# remove leftovers of an attempt that was killed.
TEMP_MARKER = ".orch-tmp-"

_DATA_RE = re.compile(r"^(?P<stem>.+)\.data-(?P<shard>\d{5})-of-(?P<num>\d{5})$")


def is_url(path: str) -> bool:
    return "://" in path


def is_absolute(path: str) -> bool:
    """A URL or an absolute local path: a state-file entry used as is."""
    return is_url(path) or os.path.isabs(path)


def join(directory: str, name: str) -> str:
    if not directory:
        return name
    if is_url(directory):
        return directory.rstrip("/") + "/" + name
    return os.path.join(directory, name)


def dirname(path: str) -> str:
    if is_url(path):
        protocol, rest = path.split("://", 1)
        parent = posixpath.dirname(rest.rstrip("/"))
        return f"{protocol}://{parent}"
    return os.path.dirname(path)


def basename(path: str) -> str:
    return posixpath.basename(path.rstrip("/")) if is_url(path) else os.path.basename(path)


def relative_to(path: str, directory: str) -> str | None:
    """``path`` relative to ``directory`` when it lies inside it, else None."""
    if is_url(path) or is_url(directory):
        base = directory.rstrip("/") + "/"
        return path[len(base):] if path.startswith(base) and len(path) > len(base) else None
    if os.path.isabs(path) != os.path.isabs(directory):
        path, directory = os.path.abspath(path), os.path.abspath(directory or ".")
    rel = os.path.relpath(path, directory or ".")
    return None if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


def data_filename(prefix: str, shard: int, num_shards: int) -> str:
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def index_filename(prefix: str) -> str:
    return prefix + ".index"


def split_data_filename(name: str) -> tuple[str, int, int] | None:
    """``("model.ckpt-5", 0, 2)`` for ``model.ckpt-5.data-00000-of-00002``; None otherwise."""
    match = _DATA_RE.match(name)
    if match is None:
        return None
    return match["stem"], int(match["shard"]), int(match["num"])


def temp_name(path: str) -> str:
    return f"{path}{TEMP_MARKER}{uuid.uuid4().hex[:12]}"


def is_local(url: str, **storage_options: Any) -> bool:
    fs, _ = storage.filesystem(url, **storage_options)
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    return "file" in protocols or "local" in protocols


def atomic_write(url: str, data: bytes, **storage_options: Any) -> None:
    """Write ``url`` so that readers see either the old or the complete new content."""
    fs, path = storage.filesystem(url, **storage_options)
    if not is_local(url, **storage_options):
        storage.write_bytes(url, data, **storage_options)      # one PUT: all or nothing
        return
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    tmp = temp_name(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def exists(url: str, **storage_options: Any) -> bool:
    return storage.exists(url, **storage_options)


def list_names(directory: str, **storage_options: Any) -> list[str]:
    """Base names of the entries of ``directory`` (empty when it does not exist)."""
    fs, path = storage.filesystem(directory or ".", **storage_options)
    try:
        entries = fs.ls(path, detail=False)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(posixpath.basename(str(e).rstrip("/")) for e in entries)


def data_files(prefix: str, **storage_options: Any) -> list[str]:
    """Existing ``PREFIX.data-*`` files, full paths, sorted."""
    stem = basename(prefix)
    directory = dirname(prefix)
    found = []
    for name in list_names(directory, **storage_options):
        parts = split_data_filename(name)
        if parts is not None and parts[0] == stem:
            found.append(join(directory, name))
    return found


def mtime(url: str, **storage_options: Any) -> float | None:
    """Modification time in seconds since the epoch, or None if the backend has none."""
    fs, path = storage.filesystem(url, **storage_options)
    try:
        info = fs.info(path)
    except FileNotFoundError:
        return None
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return None


def delete(url: str, recursive: bool = False, **storage_options: Any) -> bool:
    """Delete a file (or a tree); False when it was not there."""
    fs, path = storage.filesystem(url, **storage_options)
    try:
        fs.rm(path, recursive=recursive)
    except FileNotFoundError:
        return False
    return True


def delete_checkpoint(prefix: str, meta_graph_suffix: str | None = "meta", **storage_options: Any) -> None:
    """Remove a checkpoint's files: the index first, so it stops being readable at once."""
    delete(index_filename(prefix), **storage_options)
    for path in data_files(prefix, **storage_options):
        delete(path, **storage_options)
    if meta_graph_suffix:
        delete(f"{prefix}.{meta_graph_suffix}", **storage_options)
