"""The only module that talks to fsspec.

Whole-file reads and writes, streamed writes of many buffers, and :class:`RangeFile`
for concurrent range reads straight into numpy buffers. Every path in orchestrator may be a local path or any fsspec URL (``memory://``,
``s3://``, ``gs://``, ...). Functions here take ``storage_options`` and pass them to
the backend; a missing backend package gives an actionable error.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any, Union

import fsspec
import numpy as np

from orchestrator.errors import NotFoundError, OrchestratorError

# Anything exposing the buffer protocol: bytes, bytearray, memoryview, contiguous ndarray.
Buffer = Union[bytes, bytearray, memoryview, Any]


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


def glob(pattern: str, **storage_options: Any) -> list[str]:
    """Files matching a glob pattern, sorted, as URLs (or local paths) like the pattern."""
    fs, path = filesystem(pattern, **storage_options)
    matches = sorted(fs.glob(path))
    if "://" not in pattern:
        return matches
    return [fs.unstrip_protocol(m) for m in matches]


def size(url: str, **storage_options: Any) -> int:
    """Size of a file in bytes. Raises NotFoundError naming the URL when it does not exist."""
    fs, path = filesystem(url, **storage_options)
    try:
        return int(fs.size(path))
    except FileNotFoundError:
        raise NotFoundError(f"{url}: no such file") from None


def write_chunks(url: str, chunks: Iterable[Buffer], **storage_options: Any) -> None:
    """Write a whole file from buffers in order, without joining them first.

    Saves hand us one buffer per tensor (often the variables' own arrays); writing each
    buffer as it is avoids a copy of the whole checkpoint on local disks (unbuffered
    ``os.write`` calls); other backends get one ``pipe_file`` of the joined body.
    """
    fs, path = filesystem(url, **storage_options)
    parent = fs._parent(path)
    if parent:
        fs.makedirs(parent, exist_ok=True)
    if _is_local(fs):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            for chunk in chunks:
                view = byte_view(chunk)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
        finally:
            os.close(fd)
        return
    # Object stores: one PUT of the whole body (all-or-nothing visibility, which the
    # commit protocol relies on); their clients buffer the body in memory anyway.
    fs.pipe_file(path, b"".join(byte_view(chunk) for chunk in chunks))


def byte_view(buffer: Buffer) -> memoryview:
    """A flat unsigned-byte view of any contiguous buffer, without copying.

    numpy arrays go through ``view(uint8)``: memoryview cannot export custom dtypes such
    as bfloat16, nor cast arrays with a zero-length dimension.
    """
    if isinstance(buffer, np.ndarray):
        if not buffer.flags.c_contiguous:
            raise ValueError("byte_view needs a C-contiguous array")
        return memoryview(buffer.reshape(-1).view(np.uint8))
    view = memoryview(buffer)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


def _is_local(fs: fsspec.AbstractFileSystem) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    return "file" in protocols or "local" in protocols


class RangeFile:
    """A file opened for concurrent byte-range reads into caller-owned buffers.

    Local files use ``os.preadv``: the kernel copies straight from the page cache into
    the destination arrays, no intermediate bytes object, and the GIL is released for
    the whole call, so several threads read at once. Other backends use
    ``fs.cat_file(path, start, end)`` (one ranged GET on object stores) and copy the
    answer into the buffers once. Safe to share between threads.
    """

    # Linux returns at most this many bytes per read call and takes at most IOV_MAX buffers.
    _MAX_CALL_BYTES = 0x7FFFF000
    _MAX_BUFFERS = 1024

    def __init__(self, url: str, **storage_options: Any):
        self.url = url
        self._fs, self._path = filesystem(url, **storage_options)
        self._fd: int | None = None
        try:
            if _is_local(self._fs):
                self._fd = os.open(self._path, os.O_RDONLY)
                self.size = os.fstat(self._fd).st_size
            else:
                self.size = int(self._fs.size(self._path))
        except FileNotFoundError:
            raise NotFoundError(f"{url}: no such file") from None
        except IsADirectoryError:
            raise NotFoundError(f"{url}: is a directory, expected a file") from None

    @property
    def is_local(self) -> bool:
        """True when reads are ``preadv`` calls on a local file (cheap); False for requests."""
        return self._fd is not None

    def read_into(self, offset: int, buffers: Sequence[Buffer]) -> int:
        """Fill ``buffers`` (in order) from the bytes at ``offset``; returns the bytes read.

        Fewer bytes than the buffers hold means the file ended first (the caller names
        what was truncated).
        """
        views = [v for v in (byte_view(b) for b in buffers) if v.nbytes]
        if self._fd is None:
            return self._read_remote(offset, views)
        total = 0
        while views:
            batch, batch_bytes = [], 0
            for view in views[:self._MAX_BUFFERS]:
                if batch_bytes + view.nbytes > self._MAX_CALL_BYTES:
                    if not batch:
                        batch.append(view[:self._MAX_CALL_BYTES])
                        batch_bytes = self._MAX_CALL_BYTES
                    break
                batch.append(view)
                batch_bytes += view.nbytes
            got = os.preadv(self._fd, batch, offset + total)
            if got == 0:
                return total
            total += got
            views = _advance(views, got)
        return total

    def _read_remote(self, offset: int, views: list[memoryview]) -> int:
        wanted = sum(v.nbytes for v in views)
        if not wanted:
            return 0
        try:
            data = self._fs.cat_file(self._path, start=offset, end=offset + wanted)
        except FileNotFoundError:
            raise NotFoundError(f"{self.url}: no such file") from None
        source = memoryview(data)
        pos = 0
        for view in views:
            take = min(view.nbytes, len(source) - pos)
            view[:take] = source[pos:pos + take]
            pos += take
        return pos

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RangeFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _advance(views: list[memoryview], count: int) -> list[memoryview]:
    """The buffers still to fill after ``count`` bytes went into the first ones."""
    out = []
    for view in views:
        if count >= view.nbytes:
            count -= view.nbytes
            continue
        out.append(view[count:] if count else view)
        count = 0
    return out
