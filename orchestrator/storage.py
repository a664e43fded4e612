"""The only module that talks to fsspec.

Every path in orchestrator may be a local path or any fsspec URL (``memory://``,
``s3://``, ``gs://``, ...). Functions here take ``storage_options`` and pass them to
the backend; a missing backend package gives an actionable error.
"""
from __future__ import annotations

from typing import Any

import fsspec

from orchestrator.errors import NotFoundError, OrchestratorError


def filesystem(url: str, **storage_options: Any) -> tuple[fsspec.AbstractFileSystem, str]:
    """Return (filesystem, path inside it) for a local path or URL."""
    try:
        fs, path = fsspec.core.url_to_fs(url, **storage_options)
    except ImportError as exc:
        protocol = url.split("://", 1)[0]
        raise OrchestratorError(f"cannot open {url!r}: the {protocol}:// backend is not installed ({exc})") from exc
    return fs, path


def read_bytes(url: str, **storage_options: Any) -> bytes:
    """Read a whole file. Raises NotFoundError naming the URL when it does not exist."""
    fs, path = filesystem(url, **storage_options)
    try:
        return fs.cat_file(path)
    except FileNotFoundError:
        raise NotFoundError(f"{url}: no such file") from None
    except IsADirectoryError:
        raise NotFoundError(f"{url}: is a directory, expected a file") from None


def write_bytes(url: str, data: bytes, **storage_options: Any) -> None:
    """Write a whole file (creating parent directories on filesystems that have them)."""
    fs, path = filesystem(url, **storage_options)
    parent = fs._parent(path)
    if parent:
        fs.makedirs(parent, exist_ok=True)
    fs.pipe_file(path, data)


def exists(url: str, **storage_options: Any) -> bool:
    fs, path = filesystem(url, **storage_options)
    return fs.exists(path)
