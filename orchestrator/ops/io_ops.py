"""Save/restore kernels, so a session can also run a graph's own saver subgraph.

``Saver.save``/``restore`` do not go through these (they read and write session state
directly, with the commit protocol); these exist for graphs and scripts that run
``save/restore_all`` or ``save/control_dependency:0`` themselves, and for the string
helpers a sharded saver computes its temporary prefix with.

Paths come from string tensors; storage options (credentials, endpoints) come from
the session (``ctx.session.storage_options`` when it has them).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.registry import kernel


def _bytes_array(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=object)


def _as_str(value: Any, what: str) -> str:
    arr = np.asarray(value, dtype=object)
    if arr.size != 1:
        raise InvalidArgumentError(f"{what} must be a scalar string, found shape {arr.shape}")
    item = arr.reshape(-1)[0]
    return item.decode("utf-8") if isinstance(item, bytes) else str(item)


def _str_list(value: Any) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v)
            for v in np.asarray(value, dtype=object).reshape(-1)]


def _storage_options(ctx: Any) -> dict:
    session = getattr(ctx, "session", None)
    return dict(getattr(session, "storage_options", None) or {})


# ----------------------------------------------------------------- string helpers

@kernel("StringJoin")
def string_join(*inputs: Any, separator: bytes = b"") -> np.ndarray:
    """Element-wise concatenation; scalars broadcast against the (equal) shapes of the rest."""
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    arrays = [np.asarray(x, dtype=object) for x in inputs]
    shapes = {a.shape for a in arrays if a.ndim}
    if len(shapes) > 1:
        raise InvalidArgumentError(f"StringJoin: non-scalar inputs must have one shape, found {sorted(shapes)}")
    shape = shapes.pop() if shapes else ()
    flat = [np.broadcast_to(a, shape).reshape(-1) for a in arrays]
    count = int(np.prod(shape, dtype=np.int64))
    out = np.empty(count, dtype=object)
    for i in range(count):
        out[i] = separator.join(bytes(f[i]) for f in flat)
    return out.reshape(shape)


@kernel("ShardedFilename")
def sharded_filename(basename: Any, shard: Any, num_shards: Any) -> np.ndarray:
    """``basename-00003-of-00008``: the name of one shard's temporary bundle."""
    base = np.asarray(basename, dtype=object).reshape(-1)[0]
    name = b"%s-%05d-of-%05d" % (bytes(base), int(shard), int(num_shards))
    return _bytes_array(name)


@kernel("ShardedFilespec")
def sharded_filespec(basename: Any, num_shards: Any) -> np.ndarray:
    base = np.asarray(basename, dtype=object).reshape(-1)[0]
    return _bytes_array(b"%s-?????-of-%05d" % (bytes(base), int(num_shards)))


@lru_cache(maxsize=64)
def _compiled(pattern: bytes) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidArgumentError(f"StaticRegexFullMatch: invalid pattern {pattern!r}: {exc}") from None


@kernel("StaticRegexFullMatch")
def static_regex_full_match(input: Any, *, pattern: bytes = b"") -> np.ndarray:
    """True where the whole string matches (a sharded saver tests ``^s3://.*`` this way)."""
    regex = _compiled(bytes(pattern))
    arr = np.asarray(input, dtype=object)
    out = np.fromiter((regex.fullmatch(bytes(v)) is not None for v in arr.reshape(-1)), dtype=bool,
                      count=arr.size)
    return out.reshape(arr.shape)


@kernel("RegexFullMatch")
def regex_full_match(input: Any, pattern: Any) -> np.ndarray:
    return static_regex_full_match(input, pattern=bytes(np.asarray(pattern, dtype=object).reshape(-1)[0]))


# ----------------------------------------------------------------- checkpoint ops

@kernel("SaveV2", needs_ctx=True, stateful=True)
def save_v2(prefix: Any, tensor_names: Any, shape_and_slices: Any, *tensors: Any, ctx: Any) -> None:
    """Write one bundle at ``prefix`` (data file + index), like TF's SaveV2 kernel."""
    from orchestrator.checkpoint import bundle_io

    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    names, slices = _str_list(tensor_names), _str_list(shape_and_slices)
    if not (len(names) == len(slices) == len(tensors)):
        raise InvalidArgumentError(f"SaveV2 {ctx.op_name!r}: {len(names)} tensor_names, {len(slices)} "
                                   f"shape_and_slices, {len(tensors)} tensors; they must match")
    path = _as_str(prefix, f"SaveV2 {ctx.op_name!r} prefix")
    items = [(n, s, np.asarray(t)) for n, s, t in zip(names, slices, tensors)]
    bundle_io.write_checkpoint(path, [items], **_storage_options(ctx))
    return None


@kernel("RestoreV2", multi=True, needs_ctx=True, stateful=True)
def restore_v2(prefix: Any, tensor_names: Any, shape_and_slices: Any, *, dtypes: list | None = None,
               ctx: Any) -> tuple:
    """Read tensors (or slices of them) from the bundle at ``prefix``, dtype-checked."""
    from orchestrator.checkpoint import bundle_io

    names, slices = _str_list(tensor_names), _str_list(shape_and_slices)
    dtypes = list(dtypes or [])
    if not (len(names) == len(slices) == len(dtypes)):
        raise InvalidArgumentError(f"RestoreV2 {ctx.op_name!r}: {len(names)} tensor_names, {len(slices)} "
                                   f"shape_and_slices, {len(dtypes)} dtypes; they must match")
    path = _as_str(prefix, f"RestoreV2 {ctx.op_name!r} prefix")
    values = bundle_io.read_tensors(path, list(zip(names, slices)), **_storage_options(ctx))
    for name, value, dtype in zip(names, values, dtypes):
        want = dtype.numpy if isinstance(dtype, DType) else np.dtype(dtype)
        if value.dtype != want:
            raise InvalidArgumentError(f"RestoreV2 {ctx.op_name!r}: tensor {name!r} in {path} has dtype "
                                       f"{value.dtype}, but the op expects {want}")
    return tuple(values)


@kernel("MergeV2Checkpoints", needs_ctx=True, stateful=True)
def merge_v2_checkpoints(checkpoint_prefixes: Any, destination_prefix: Any, *, delete_old_dirs: bool = True,
                         allow_missing_files: bool = False, ctx: Any) -> None:
    """Merge per-shard bundles into one checkpoint at ``destination_prefix``."""
    from orchestrator.checkpoint import bundle_io

    sources = _str_list(checkpoint_prefixes)
    dest = _as_str(destination_prefix, f"MergeV2Checkpoints {ctx.op_name!r} destination_prefix")
    bundle_io.merge_checkpoints(sources, dest, delete_old_dirs=bool(delete_old_dirs),
                                allow_missing_files=bool(allow_missing_files), **_storage_options(ctx))
    return None
