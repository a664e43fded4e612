"""``Saver``: TF1's ``tf.train.Saver`` over a session's variable state.

    >>> saver = import_meta_graph("s3://bucket/run/model.ckpt-1000.meta")
    >>> saver.restore(sess, latest_checkpoint("s3://bucket/run"))
    >>> saver.save(sess, "s3://bucket/run/model.ckpt", global_step=1100)
    's3://bucket/run/model.ckpt-1100'

Which key goes to which variable comes from the graph's own saver subgraph
(:mod:`orchestrator.checkpoint.mapping`) when the Saver is built from a ``SaverDef``,
or from the variables themselves for ``Saver(var_list)``. Values are read from and
written to the session's state directly (no graph execution), restores validate
every key, dtype and shape before changing anything, and saves go through the commit
protocol (:mod:`orchestrator.checkpoint.commit`). Retention follows TF: ``max_to_keep``
newest checkpoints, plus one every ``keep_checkpoint_every_n_hours``.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from orchestrator.checkpoint import bundle_io, commit, files, state_file
from orchestrator.checkpoint.mapping import (RestoreEntry, SaveEntry, SaverSpec, VariableTarget,
                                             check_keys, spec_from_saver_def, trace_variable)
from orchestrator.checkpoint.var_list import spec_from_var_list
from orchestrator.errors import (FailedPreconditionError, InvalidArgumentError, NotFoundError,
                                 OrchestratorError, UnimplementedError)


def _saver_pb2() -> Any:
    from orchestrator.protos import saver_pb2
    return saver_pb2


def session_state(sess: Any) -> Any:
    """The ``SessionState`` of a Session (or a SessionState given directly)."""
    state = getattr(sess, "state", sess)
    if not hasattr(state, "ref_variables") or not hasattr(state, "resources"):
        raise InvalidArgumentError(f"expected a Session (or SessionState), found {type(sess).__name__}")
    return state


class Saver:
    """Saves and restores variables as TF checkpoints; see the module docstring."""

    def __init__(self, var_list: Any = None, *, saver_def: Any = None, graph: Any = None, max_to_keep: int = 5,
                 keep_checkpoint_every_n_hours: float = 10000.0, sharded: bool = False,
                 save_relative_paths: bool = True, allow_empty: bool = False, max_workers: int = 8,
                 storage_options: Mapping[str, Any] | None = None, **unsupported: Any):
        ignored = set(unsupported) - {"name", "restore_sequentially", "reshape", "builder", "defer_build",
                                      "write_version", "pad_step_number", "filename"}
        if ignored:
            raise InvalidArgumentError(f"Saver: unsupported argument(s) {sorted(ignored)}")
        if graph is None:
            from orchestrator.graph.model import get_default_graph
            graph = get_default_graph()
        self.graph = graph
        pb2 = _saver_pb2()
        if saver_def is not None:
            self.saver_def = saver_def
            self._spec = spec_from_saver_def(graph, saver_def)
        else:
            self._spec = spec_from_var_list(graph, var_list, sharded=sharded)
            self.saver_def = pb2.SaverDef(max_to_keep=max_to_keep, sharded=sharded,
                                          keep_checkpoint_every_n_hours=keep_checkpoint_every_n_hours,
                                          version=pb2.SaverDef.V2)
        if not self._spec.restores and not allow_empty:
            raise InvalidArgumentError("Saver: no variables to save")
        self._has_graph_ops = saver_def is not None
        self.save_relative_paths = save_relative_paths
        self.max_workers = max_workers
        self.storage_options = dict(storage_options or {})
        # How restore reads the checkpoint's entries: None = in this process with
        # ``max_workers`` threads; or a bundle_io.ItemReader (e.g. Ray actors' read_items).
        self.item_reader: Any = None
        self._last_checkpoints: list[tuple[str, float]] = []
        self._next_checkpoint_time = time.time() + self.saver_def.keep_checkpoint_every_n_hours * 3600

    # ------------------------------------------------------------------ TF API
    @property
    def spec(self) -> SaverSpec:
        return self._spec

    def as_saver_def(self) -> Any:
        return self.saver_def

    @property
    def last_checkpoints(self) -> list[str]:
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time: Sequence[tuple[str, float]]) -> None:
        self._last_checkpoints = [(str(p), float(t)) for p, t in last_checkpoints_with_time]

    def set_last_checkpoints(self, last_checkpoints: Sequence[str]) -> None:
        self._last_checkpoints = [(str(p), np.inf) for p in last_checkpoints]

    def recover_last_checkpoints(self, checkpoint_paths: Sequence[str]) -> None:
        """Adopt existing checkpoints (e.g. a resumed run's) so retention keeps counting them."""
        found = []
        for path in checkpoint_paths:
            stamp = files.mtime(files.index_filename(path), **self.storage_options)
            if stamp is not None:
                found.append((path, stamp))
        self.set_last_checkpoints_with_time(found)

    # ------------------------------------------------------------------ save
    def save(self, sess: Any, save_path: str, global_step: Any = None, latest_filename: str | None = None,
             meta_graph_suffix: str = "meta", write_meta_graph: bool = True, write_state: bool = True,
             strip_default_attrs: bool = False, **_ignored: Any) -> str:
        """Write a checkpoint; returns its prefix (``save_path-<global_step>``)."""
        state = session_state(sess)
        if latest_filename and files.basename(latest_filename) != latest_filename:
            raise InvalidArgumentError(f"latest_filename {latest_filename!r} must be a bare file name")
        prefix = save_path if global_step is None else f"{save_path}-{self._step_value(sess, global_step)}"
        shards = [[(e.key, e.slice_spec, self._value(sess, state, e)) for e in shard.entries]
                  for shard in self._spec.shards]
        meta = self._meta_graph_bytes(strip_default_attrs) if write_meta_graph else None
        to_delete: list[str] = []
        update = None
        if write_state:
            to_delete = self._record(prefix)
            update = commit.StateUpdate(files.dirname(prefix), self.last_checkpoints or [prefix], latest_filename,
                                        self.save_relative_paths)
        commit.commit(commit.SaveRequest(prefix, shards, meta, meta_graph_suffix, update, to_delete),
                      **self.storage_options)
        return prefix

    def _step_value(self, sess: Any, global_step: Any) -> int:
        """An int, or the current value of a step variable (name, tensor, op or VariableInfo)."""
        if isinstance(global_step, (int, np.integer)):
            return int(global_step)
        try:
            element = self.graph.as_graph_element(global_step)
        except OrchestratorError:
            element = None
        tensor = element.outputs[0] if hasattr(element, "outputs") and element.outputs else element
        target = trace_variable(tensor) if tensor is not None and hasattr(tensor, "op") else None
        if target is not None:
            return int(np.asarray(self._variable_value(session_state(sess), target)))
        if hasattr(sess, "run"):
            return int(np.asarray(sess.run(global_step)))
        raise InvalidArgumentError(f"global_step {global_step!r} is neither an int nor a variable of the graph")

    def _value(self, sess: Any, state: Any, entry: SaveEntry) -> np.ndarray:
        if entry.variable is not None:
            return self._variable_value(state, entry.variable)
        if hasattr(sess, "run"):
            return np.asarray(sess.run(entry.tensor_name))
        raise UnimplementedError(f"checkpoint key {entry.key!r} is saved from {entry.tensor_name!r}, which is not "
                                 f"a variable; saving it needs a Session that can run it")

    def _variable_value(self, state: Any, target: VariableTarget) -> np.ndarray:
        return variable_value(state, target, "in this session")

    def _meta_graph_bytes(self, strip_default_attrs: bool) -> bytes:
        from orchestrator.graph.export import export_meta_graph
        meta = export_meta_graph(graph=self.graph, saver_def=self.saver_def if self._has_graph_ops else None,
                                 strip_default_attrs=strip_default_attrs)
        return meta.SerializeToString(deterministic=True)

    def _record(self, prefix: str) -> list[str]:
        """TF's retention bookkeeping: returns the checkpoints to delete after the commit."""
        if not self.saver_def.max_to_keep:
            return []
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != prefix]
        self._last_checkpoints.append((prefix, time.time()))
        delete = []
        while len(self._last_checkpoints) > self.saver_def.max_to_keep:
            path, stamp = self._last_checkpoints.pop(0)
            if stamp > self._next_checkpoint_time:
                self._next_checkpoint_time += self.saver_def.keep_checkpoint_every_n_hours * 3600
                continue
            delete.append(path)
        return delete

    # ------------------------------------------------------------------ restore
    def restore(self, sess: Any, save_path: str | None,
                only: Callable[[VariableTarget], bool] | None = None) -> None:
        """Load every variable of this saver from ``save_path``; nothing changes if any check fails.

        ``only`` (not in TF's API): restore just the variables it accepts, e.g. a task
        actor's own variables in a partitioned run."""
        if save_path is None:
            raise InvalidArgumentError("Saver.restore: save_path is None (no checkpoint found?)")
        if not state_file.checkpoint_exists(save_path, **self.storage_options):
            raise NotFoundError(f"{save_path} is not a valid checkpoint: {files.index_filename(save_path)} "
                                f"does not exist")
        state = session_state(sess)
        index = bundle_io.read_index(save_path, **self.storage_options)
        check_keys(self._spec, index.names(), f"restoring {save_path}")
        for entry in self._spec.restores:
            if entry.variable is None:
                raise UnimplementedError(f"checkpoint key {entry.key!r} is restored into {entry.consumer}, not a "
                                         f"variable assign; orchestrator cannot restore it directly")
        restores = [e for e in self._spec.restores if only is None or only(e.variable)]
        requests = [(e.key, e.slice_spec) for e in restores]
        values = bundle_io.read_tensors(save_path, requests, max_workers=self.max_workers,
                                        item_reader=self.item_reader, **self.storage_options)
        for entry, value in zip(restores, values):
            _check_value(entry, value, save_path)
        for entry, value in zip(restores, values):
            set_variable_value(state, entry.variable, value)


def _check_value(entry: RestoreEntry, value: np.ndarray, save_path: str) -> None:
    target = entry.variable
    where = f"restoring variable {target.op_name!r} from key {entry.key!r} of {save_path}"
    want = target.dtype.numpy
    if value.dtype != want:
        raise InvalidArgumentError(f"{where}: the variable has dtype {target.dtype.tf_name}, the checkpoint has "
                                   f"{value.dtype}")
    shape = target.shape
    if shape is not None and (len(shape) != value.ndim or
                              any(d is not None and d >= 0 and d != v for d, v in zip(shape, value.shape))):
        raise InvalidArgumentError(f"{where}: the variable has shape {list(shape)}, the checkpoint value has "
                                   f"shape {list(value.shape)}")


def variable_value(state: Any, target: VariableTarget, where: str) -> np.ndarray:
    """``target``'s current value in a session state; FailedPreconditionError naming it and
    ``where`` ("in this session", "on task ...") when it is uninitialized."""
    ref = (state.ref_variables.get(target.op_name) if target.kind == "ref"
           else state.resources.get(target.resource_key))
    if ref is None or getattr(ref, "value", None) is None:
        raise FailedPreconditionError(f"cannot save variable {target.op_name!r}: it is uninitialized {where} "
                                      f"(run its initializer or restore it first)")
    return ref.value


def set_variable_value(state: Any, target: VariableTarget, value: np.ndarray) -> None:
    """Store ``value`` as ``target``'s value in a session state (creating the variable's slot)."""
    if target.kind == "ref":
        state.ref_variable(target.op_name, target.dtype.numpy, target.shape).set(value)
        return
    from orchestrator.exec.state import ResourceHandle
    container, shared_name = target.resource_key
    handle = ResourceHandle(container, shared_name, target.dtype.numpy, target.shape)
    state.resource_variable(handle, create=True).set(value)


__all__ = ["Saver", "session_state", "set_variable_value", "variable_value"]
