"""The resume job: config → graph → restore → train loop → periodic saves.

This is TF1's documented resume path (``import_meta_graph`` → ``saver.restore`` →
``get_collection('train_op')[0]`` → loop ``sess.run(train_op)`` with periodic
``saver.save``) driven by a YAML config. The steps run in this process, or as device
partitions on one Ray actor per task (``cluster.partition_by_device``); the checkpoint's
reads can go to Ray actors too (``cluster.restore_actors``). Both use the embedded local
Ray unless ``cluster.address`` names a cluster.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from orchestrator import storage
from orchestrator.checkpoint.saver import set_variable_value
from orchestrator.config import JobConfig
from orchestrator.errors import InvalidArgumentError, NotFoundError, OutOfRangeError


@dataclasses.dataclass
class JobResult:
    steps_run: int
    first_step: int
    last_step: int
    saved: list[str]
    fetched: list[dict[str, Any]]
    seconds: float


def load_feeds(url: str | None) -> list[dict[str, np.ndarray]]:
    """Per-step feeds from an npz holding ``feed/<step>/<tensor name>`` arrays (step-ordered)."""
    if url is None:
        return []
    try:
        archive = np.load(io.BytesIO(storage.read_bytes(url)), allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InvalidArgumentError(f"{url}: not a readable .npz of feeds ({exc})") from None
    steps: dict[int, dict[str, np.ndarray]] = {}
    for key in archive.files:
        parts = key.split("/", 2)
        if len(parts) != 3 or parts[0] != "feed" or not parts[1].isdigit():
            continue
        steps.setdefault(int(parts[1]), {})[parts[2]] = archive[key]
    if not steps:
        raise InvalidArgumentError(f"{url}: no arrays named 'feed/<step>/<tensor name>' found "
                                   f"(keys: {', '.join(archive.files[:5])}...)")
    return [steps[i] for i in sorted(steps)]


class StepFeeds:
    """The recorded input of each global step: ``feed/<i>/...`` feeds step ``first_step + i``.

    Indexing by global step (not by steps run in this process) is what makes an
    interrupted-and-restarted job see exactly the inputs the uninterrupted one would have."""

    def __init__(self, feeds: list[dict[str, np.ndarray]], first_step: int, cycle: bool, source: str | None):
        self.feeds, self.first_step, self.cycle, self.source = feeds, first_step, cycle, source

    def for_step(self, step: int) -> dict[str, np.ndarray]:
        if not self.feeds:
            return {}
        index = step - self.first_step
        if not self.cycle and not 0 <= index < len(self.feeds):
            raise OutOfRangeError(f"{self.source}: no recorded feeds for global step {step} (recorded steps "
                                  f"{self.first_step}..{self.first_step + len(self.feeds) - 1}; "
                                  f"train.feeds.cycle is false)")
        return self.feeds[index % len(self.feeds)]


def run_job(cfg: JobConfig, log: Callable[[str], None] = print) -> JobResult:
    from orchestrator.exec.session import Session

    started = time.perf_counter()
    graph, imported_saver = build_graph(cfg, log)
    saver = job_saver(imported_saver, graph, cfg)
    train_op = _train_op(graph, cfg)
    global_step = _global_step(graph)
    fetch_names = list(cfg.train.fetches)
    feeds = load_feeds(cfg.train.feeds.file)
    step_feeds = StepFeeds(feeds, cfg.train.feeds.first_step, cfg.train.feeds.cycle, cfg.train.feeds.file)
    saved: list[str] = []
    fetched: list[dict[str, Any]] = []
    with Session(graph=graph) as sess, contextlib.ExitStack() as cluster_scope:
        prefix = _restore_source(cfg)
        # Steps run in this Session, or (cluster.partition_by_device) as device partitions on
        # task actors, which then hold the variables; `sess` gets their values before a save.
        runner: Any = sess
        partitioned = None
        if cfg.cluster.partition_by_device:
            partitioned = runner = _partitioned_session(cfg, graph, prefix, cluster_scope, log)
        else:
            _restore(saver, sess, prefix, cfg, log)
        if cfg.checkpoint.save_dir:
            _adopt_existing_checkpoints(saver, cfg)
        first_step = _step_value(runner, global_step) if global_step is not None else _prefix_step(prefix)
        step = first_step
        for i in range(cfg.train.steps):
            values = runner.run([train_op, *fetch_names], feed_dict=step_feeds.for_step(step))
            step = _step_value(runner, global_step) if global_step is not None else first_step + i + 1
            record = dict(zip(fetch_names, values[1:]))
            fetched.append(record)
            if cfg.train.log_every_steps and (i + 1) % cfg.train.log_every_steps == 0:
                shown = "  ".join(f"{k}={_short(v)}" for k, v in record.items())
                log(f"step {step}  {shown}".rstrip())
            # Saves fall on global-step multiples (as TF's CheckpointSaverHook), so a restarted
            # job keeps the uninterrupted one's checkpoint names.
            every = cfg.checkpoint.save_every_steps
            last = i + 1 == cfg.train.steps
            if cfg.checkpoint.save_dir and ((every and step % every == 0) or last):
                if partitioned is not None:
                    partitioned.pull_variables([e.variable for e in saver.spec.save_entries if e.variable],
                                               sess.state, set_variable_value)
                path = saver.save(sess, _join(cfg.checkpoint.save_dir, cfg.checkpoint.save_prefix),
                                  global_step=step)
                saved.append(path)
                log(f"saved {path}")
    return JobResult(cfg.train.steps, first_step, step, saved, fetched, time.perf_counter() - started)


def build_graph(cfg: JobConfig, log: Callable[[str], None]) -> tuple[Any, Any]:
    """The job's graph (meta graph imported, devices remapped) and the Saver import returned;
    the driver and every task actor of a partitioned run build it the same way."""
    from orchestrator.graph.load import import_meta_graph
    from orchestrator.graph.model import Graph

    graph = Graph()
    with graph.as_default():
        imported_saver = import_meta_graph(cfg.model.meta_graph, clear_devices=cfg.model.clear_devices,
                                           import_scope=cfg.model.import_scope)
    if imported_saver is None:
        raise InvalidArgumentError(f"{cfg.model.meta_graph}: the graph has no variables to restore or train")
    _remap_devices(graph, cfg, log)
    return graph, imported_saver


def _remap_devices(graph: Any, cfg: JobConfig, log: Callable[[str], None]) -> None:
    """``model.device_map``: move the imported graph onto this cluster's layout before anything
    runs (all or nothing; every problem in one error), logging one line per device mapping."""
    if not cfg.model.device_map:
        return
    from orchestrator.graph.device_map import DeviceMap

    device_map = DeviceMap.from_rules(cfg.model.device_map, unmapped=cfg.model.unmapped_devices,
                                      allow_unused_rules=cfg.model.allow_unused_device_rules, source=cfg.source)
    for line in device_map.apply(graph).lines():
        log(line)


def _partitioned_session(cfg: JobConfig, graph: Any, prefix: str, scope: contextlib.ExitStack,
                         log: Callable[[str], None]) -> Any:
    """Task actors for the graph's device partitions (Ray joined or started for the job's
    duration), each restored from ``prefix``."""
    from orchestrator.distributed import cluster as ray_cluster
    from orchestrator.distributed.partitioned import PartitionedSession

    ray = scope.enter_context(ray_cluster.connected(cfg.cluster.address))
    partitioned = PartitionedSession(ray, cfg, graph, cfg.cluster.default_task)
    scope.callback(partitioned.close)
    counts = partitioned.restore(prefix)
    where = cfg.cluster.address or "embedded local Ray"
    shares = ", ".join(f"{task} ({n} variable{'s' if n != 1 else ''})" for task, n in counts.items())
    log(f"restored {prefix} on {len(counts)} task actor(s) ({where}), each its own variables: {shares}")
    return partitioned


def _restore(saver: Any, sess: Any, prefix: str, cfg: JobConfig, log: Callable[[str], None]) -> None:
    """saver.restore, its reads in this process or, with ``cluster.restore_actors``, on Ray actors
    (the embedded local Ray unless ``cluster.address`` names a cluster)."""
    cluster = cfg.cluster
    if not cluster.restore_actors:
        saver.restore(sess, prefix)
        log(f"restored {prefix}")
        return
    from orchestrator.distributed import cluster as ray_cluster
    from orchestrator.distributed.restore import ActorReader

    with ray_cluster.connected(cluster.address) as ray:
        reader = ActorReader(ray, cluster.restore_actors, cluster.restore_threads, **cfg.checkpoint.storage_options)
        try:
            saver.item_reader = reader.read_items
            saver.restore(sess, prefix)
        finally:
            saver.item_reader = None
            reader.close()
    where = cluster.address or "embedded local Ray"
    log(f"restored {prefix} ({cluster.restore_actors} reader actors, {where})")


def _restore_source(cfg: JobConfig) -> str:
    """Where to resume from: the job's own latest save if it has one (a restarted job
    continues where it was interrupted), else ``checkpoint.restore_from``."""
    from orchestrator.checkpoint.state_file import latest_checkpoint

    ckpt = cfg.checkpoint
    if ckpt.save_dir and ckpt.resume_from_save_dir:
        own = latest_checkpoint(ckpt.save_dir, **ckpt.storage_options)
        if own is not None:
            return own
    if not ckpt.restore_from:
        raise InvalidArgumentError(f"{cfg.source}: checkpoint.restore_from is required to resume a run "
                                   f"(save_dir {ckpt.save_dir or '(unset)'} has no checkpoint yet)")
    from orchestrator.checkpoint.reader import resolve_prefix

    return resolve_prefix(ckpt.restore_from, **ckpt.storage_options)[0]


def job_saver(imported: Any, graph: Any, cfg: JobConfig) -> Any:
    """The imported run's own saver (same keys, same save subgraph) with the job's retention."""
    from orchestrator.checkpoint.saver import Saver

    saver_def = type(imported.as_saver_def())()
    saver_def.CopyFrom(imported.as_saver_def())
    saver_def.max_to_keep = cfg.checkpoint.max_to_keep
    saver_def.keep_checkpoint_every_n_hours = cfg.checkpoint.keep_checkpoint_every_n_hours
    return Saver(saver_def=saver_def, graph=graph, storage_options=cfg.checkpoint.storage_options)


def _adopt_existing_checkpoints(saver: Any, cfg: JobConfig) -> None:
    """Resuming into a directory that already has checkpoints: keep counting them for
    ``max_to_keep``, as the interrupted run would have, instead of forgetting them."""
    from orchestrator.checkpoint.state_file import get_checkpoint_state

    state = get_checkpoint_state(cfg.checkpoint.save_dir, **cfg.checkpoint.storage_options)
    if state is not None:
        saver.recover_last_checkpoints(list(state.all_model_checkpoint_paths))


def _train_op(graph: Any, cfg: JobConfig) -> Any:
    if cfg.train.train_op:
        return graph.as_graph_element(cfg.train.train_op)
    ops = graph.get_collection("train_op")
    if not ops:
        raise NotFoundError(f"{cfg.model.meta_graph}: the 'train_op' collection is empty; "
                            f"set train.train_op in {cfg.source} to the op to run")
    return ops[0]


def _global_step(graph: Any) -> Any:
    steps = graph.get_collection("global_step")
    if steps:
        item = steps[0]
        return getattr(item, "snapshot", None) or getattr(item, "value", None) or item
    try:
        return graph.get_tensor_by_name("global_step:0")
    except (KeyError, ValueError):
        return None


def _step_value(runner: Any, global_step: Any) -> int:
    return int(np.asarray(runner.run([global_step])[0]))


def _prefix_step(prefix: str) -> int:
    """A graph without a global step counts on from the restored prefix's ``-N`` suffix."""
    tail = prefix.rsplit("-", 1)
    return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else 0


def _join(directory: str, name: str) -> str:
    return directory.rstrip("/") + "/" + name


def _short(value: Any) -> str:
    arr = np.asarray(value)
    if arr.size == 1:
        return f"{arr.item():.6g}" if arr.dtype.kind in "fc" else str(arr.item())
    return f"<{arr.dtype} {list(arr.shape)}>"
