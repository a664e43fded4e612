"""``load_checkpoint``: TF's checkpoint reader API over V2 bundles and V1 files, any fsspec URL.

    >>> reader = load_checkpoint("s3://bucket/run")          # a directory: its latest checkpoint
    >>> reader.get_variable_to_shape_map()["dense/kernel"]
    [784, 10]
    >>> kernel = reader.get_tensor("dense/kernel")
    >>> list_variables("s3://bucket/run/model.ckpt-1000")
    [('dense/bias', [10]), ('dense/kernel', [784, 10]), ('global_step', [])]

As in TF, a partitioned variable appears once under its full name with its full
shape; ``get_tensor`` assembles it from its slices, whose own index entries stay
hidden. Every tensor's crc32c is verified unless ``verify=False``. Bulk reads
(:meth:`CheckpointReader.get_tensors`) go through one restore plan, in parallel.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from orchestrator import storage
from orchestrator.checkpoint import bundle_io, files, read, state_file, v1
from orchestrator.checkpoint.mapping import SliceSpec
from orchestrator.dtypes import DType
from orchestrator.errors import DataLossError, InvalidArgumentError, NotFoundError, suggest


def resolve_prefix(path: str, **storage_options: Any) -> tuple[str, str]:
    """``(prefix, format)`` with format ``"v2"`` or ``"v1"``; a directory resolves to its latest."""
    fs, inner = storage.filesystem(path, **storage_options)
    if files.exists(files.index_filename(path), **storage_options):
        return path, "v2"
    if path.endswith(".index") and fs.isfile(inner):
        return path[:-len(".index")], "v2"
    if v1.has_pattern(path) and storage.glob(path, **storage_options):
        return path, "v1"                             # the shards of a sharded V1 save
    if fs.isdir(inner):
        state = state_file.get_checkpoint_state(path, **storage_options)
        if state is None:
            raise NotFoundError(f"{path} is a directory without a 'checkpoint' state file; pass a checkpoint "
                                f"prefix such as {path}/model.ckpt-1000")
        latest = state.model_checkpoint_path
        if latest.rstrip("/") == path.rstrip("/"):
            raise NotFoundError(f"{state_file.state_path(path)} names the directory itself as its checkpoint")
        try:
            return resolve_prefix(latest, **storage_options)
        except NotFoundError:
            raise NotFoundError(f"{state_file.state_path(path)} names checkpoint {latest!r}, which does not "
                                f"exist") from None
    if fs.isfile(inner):
        return path, "v1"
    raise NotFoundError(f"{path} is not a checkpoint: neither {files.index_filename(path)} (V2) nor a V1 "
                        f"checkpoint file exists")


class CheckpointReader:
    """TF's ``CheckpointReader``: names, shapes, dtypes and values of one checkpoint."""

    def __init__(self, path: str, verify: bool = True, threads: int = read.DEFAULT_THREADS,
                 **storage_options: Any):
        self.prefix, self.format = resolve_prefix(path, **storage_options)
        self.verify = verify
        self.threads = threads
        self._storage_options = storage_options
        self._shapes: dict[str, list[int]] = {}
        self._dtypes: dict[str, DType] = {}
        if self.format == "v2":
            self._index = bundle_io.read_index(self.prefix, **storage_options)
            self._v1 = None
            for name in self._index.names():
                entry = self._index.entries[name.encode("utf-8")]
                self._shapes[name] = [int(d.size) for d in entry.shape.dim]
                self._dtypes[name] = _dtype(entry.dtype, name, self.prefix)
        else:
            try:
                self._v1 = v1.V1Checkpoint.open(self.prefix, **storage_options)
            except DataLossError as exc:
                raise DataLossError(f"{self.prefix} is neither a V2 checkpoint prefix (no "
                                    f"{files.index_filename(self.prefix)}) nor a readable V1 checkpoint: "
                                    f"{exc}") from None
            for name, info in self._v1.tensors.items():
                self._shapes[name] = list(info.shape)
                self._dtypes[name] = info.dtype

    # ---------------------------------------------------------------- metadata
    def has_tensor(self, name: str) -> bool:
        return name in self._shapes

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {name: list(shape) for name, shape in sorted(self._shapes.items())}

    def get_variable_to_dtype_map(self) -> dict[str, DType]:
        return dict(sorted(self._dtypes.items()))

    def list_variables(self) -> list[tuple[str, list[int]]]:
        return [(name, list(shape)) for name, shape in sorted(self._shapes.items())]

    def _check(self, name: str) -> None:
        if name not in self._shapes:
            raise NotFoundError(f"key {name!r} not found in checkpoint {self.prefix}.{suggest(name, self._shapes)}")

    # ---------------------------------------------------------------- values
    def get_tensor(self, name: str) -> np.ndarray:
        """The whole value of ``name`` (assembled from its slices when partitioned)."""
        return self.get_tensors([name])[name]

    def get_tensors(self, names: Iterable[str], readers: int = 1) -> dict[str, np.ndarray]:
        """Several values through one restore plan (``readers`` work lists run in parallel)."""
        names = list(dict.fromkeys(names))
        for name in names:
            self._check(name)
        if self._v1 is not None:
            return self._v1.read(names)
        stored = bundle_io.read_entries(self._index, [n.encode("utf-8") for n in names], readers=readers,
                                        threads=self.threads, verify=self.verify, **self._storage_options)
        return {name: bundle_io.full_tensor(self._index, name, stored) for name in names}

    def get_slice(self, name: str, shape_and_slice: str) -> np.ndarray:
        """One slice of ``name`` given as a ``shape_and_slices`` string (``"10 4 0,5:-"``)."""
        spec = SliceSpec.parse(shape_and_slice, f"{self.prefix} slice of {name!r}")
        value = self.get_tensor(name)
        if spec is None:
            return value
        if tuple(value.shape) != spec.full_shape:
            raise InvalidArgumentError(f"{self.prefix}: slice {shape_and_slice!r} of {name!r} assumes full "
                                       f"shape {list(spec.full_shape)}, the checkpoint has {list(value.shape)}")
        return np.ascontiguousarray(value[spec.index])


def _dtype(enum: int, name: str, prefix: str) -> DType:
    try:
        return DType(enum)
    except ValueError:
        raise DataLossError(f"{files.index_filename(prefix)}: tensor {name!r} has unknown DataType {enum}") from None


def load_checkpoint(ckpt_dir_or_file: str, *, verify: bool = True, **storage_options: Any) -> CheckpointReader:
    """A reader of a checkpoint prefix, a V1 file, or a directory's latest checkpoint (any fsspec URL).

    ``verify=False`` skips the crc32c checks (TF always checks; this is for salvaging).
    """
    return CheckpointReader(ckpt_dir_or_file, verify=verify, **storage_options)


def list_variables(ckpt_dir_or_file: str, **storage_options: Any) -> list[tuple[str, list[int]]]:
    """Sorted ``(name, shape)`` of every variable in the checkpoint."""
    return load_checkpoint(ckpt_dir_or_file, **storage_options).list_variables()


__all__ = ["CheckpointReader", "list_variables", "load_checkpoint", "resolve_prefix"]
