"""The YAML job configuration: schema, defaults and validation.

A job resumes one training run: import the meta graph, restore the latest checkpoint,
run the train op for ``train.steps`` steps feeding the configured inputs, and save
every ``checkpoint.save_every_steps`` steps. Every key is documented in the README's
config reference; unknown keys are errors (a typo must not silently use a default).

    job = load_config("configs/mlp_sgd.yaml")
    job.train.steps   # -> 20
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import yaml

from orchestrator import storage
from orchestrator.errors import InvalidArgumentError, suggest


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    meta_graph: str                       # path or URL of the .meta file
    clear_devices: bool = False           # drop every device field on import
    import_scope: str | None = None       # prefix for every imported name
    # Per-worker device rewrite right after import (orchestrator/graph/device_map.py):
    device_map: tuple[dict, ...] = ()     # ordered rules {from: <device spec>, to: <device spec>}
    unmapped_devices: str = "error"       # placed devices no rule matches: "error" or "keep"
    allow_unused_device_rules: bool = False


@dataclasses.dataclass(frozen=True)
class CheckpointConfig:
    restore_from: str | None = None       # checkpoint prefix, or a directory with a `checkpoint` file
    save_dir: str | None = None           # where new checkpoints go (default: no saves)
    save_prefix: str = "model.ckpt"       # file name prefix inside save_dir
    save_every_steps: int = 0             # 0: save only at the end
    resume_from_save_dir: bool = True     # save_dir has checkpoints: continue from its latest
    max_to_keep: int = 5
    keep_checkpoint_every_n_hours: float = 10000.0
    storage_options: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class FeedsConfig:
    file: str | None = None               # npz with arrays `feed/<step>/<tensor name>`
    cycle: bool = True                    # wrap around when steps exceed the recorded ones
    first_step: int = 0                   # global step whose input is feed/0/...


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    steps: int = 1
    train_op: str | None = None           # default: first entry of the `train_op` collection
    fetches: tuple[str, ...] = ()         # tensors printed every `log_every_steps`
    log_every_steps: int = 1
    feeds: FeedsConfig = FeedsConfig()


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    address: str | None = None            # a running Ray cluster ("auto", "ray://host:10001"); default: embedded local Ray
    restore_actors: int = 0               # Ray actors reading the checkpoint; 0: read in this process
    restore_threads: int = 4              # concurrent range reads per reader actor
    partition_by_device: bool = False     # run each task's device partition on its own Ray actor
    default_task: str = "/job:localhost/replica:0/task:0"   # where unplaced nodes run when partitioned


@dataclasses.dataclass(frozen=True)
class JobConfig:
    model: ModelConfig
    checkpoint: CheckpointConfig = CheckpointConfig()
    train: TrainConfig = TrainConfig()
    cluster: ClusterConfig = ClusterConfig()
    name: str = "job"
    source: str = "<dict>"                # the file the config came from, for messages


_SECTIONS = {"model": ModelConfig, "checkpoint": CheckpointConfig, "train": TrainConfig, "cluster": ClusterConfig}


def load_config(path: str) -> JobConfig:
    """Read and validate a YAML job file (local path or URL).

    Relative paths inside the file are resolved against the file's directory,
    so a config and its data can move together.
    """
    try:
        raw = yaml.safe_load(storage.read_bytes(path))
    except yaml.YAMLError as exc:
        raise InvalidArgumentError(f"{path}: not valid YAML: {exc}") from None
    base = str(Path(path).parent) if "://" not in path else None
    return parse_config(raw, source=path, base_dir=base)


def parse_config(raw: Any, source: str = "<dict>", base_dir: str | None = None) -> JobConfig:
    if not isinstance(raw, dict):
        raise InvalidArgumentError(f"{source}: expected a mapping at the top level, found {type(raw).__name__}")
    _check_keys(raw, {"name", *_SECTIONS}, source, "")
    if "model" not in raw:
        raise InvalidArgumentError(f"{source}: missing required section 'model' (with 'meta_graph')")
    model_raw = raw["model"]
    device_rules: tuple[dict, ...] = ()
    if isinstance(model_raw, dict) and "device_map" in model_raw:
        model_raw = dict(model_raw)
        device_rules = _device_rules(model_raw.pop("device_map"), source)
    model = _build(ModelConfig, model_raw, source, "model", device_map=device_rules)
    _check_device_map(model, source)
    ckpt = _build(CheckpointConfig, _section(raw, "checkpoint"), source, "checkpoint")
    cluster = _build(ClusterConfig, _section(raw, "cluster"), source, "cluster")
    train_raw = _section(raw, "train")
    if isinstance(train_raw, dict):
        train_raw = dict(train_raw)
        feeds_raw = _section(train_raw, "feeds")
        train_raw.pop("feeds", None)
    else:
        feeds_raw = {}
    feeds = _build(FeedsConfig, feeds_raw, source, "train.feeds")
    train = _build(TrainConfig, train_raw, source, "train", feeds=feeds)
    if base_dir is not None:
        model = dataclasses.replace(model, meta_graph=_resolve(model.meta_graph, base_dir))
        ckpt = dataclasses.replace(ckpt, restore_from=_resolve(ckpt.restore_from, base_dir),
                                   save_dir=_resolve(ckpt.save_dir, base_dir))
        feeds = dataclasses.replace(feeds, file=_resolve(feeds.file, base_dir))
        train = dataclasses.replace(train, feeds=feeds)
    for key, value in (("train.steps", train.steps), ("train.log_every_steps", train.log_every_steps),
                       ("checkpoint.max_to_keep", ckpt.max_to_keep), ("cluster.restore_actors", cluster.restore_actors)):
        if value < 0:
            raise InvalidArgumentError(f"{source}: {key} must be >= 0, found {value}")
    _check_default_task(cluster.default_task, source)
    if cluster.partition_by_device and cluster.restore_actors:
        raise InvalidArgumentError(f"{source}: cluster.restore_actors does not apply with cluster.partition_by_device "
                                   f"(each task actor reads its own variables); remove one of them")
    if cluster.restore_threads < 1:
        raise InvalidArgumentError(f"{source}: cluster.restore_threads must be >= 1, found {cluster.restore_threads}")
    if ckpt.save_every_steps < 0:
        raise InvalidArgumentError(f"{source}: checkpoint.save_every_steps must be >= 0, found {ckpt.save_every_steps}")
    return JobConfig(model=model, checkpoint=ckpt, train=train, cluster=cluster, name=str(raw.get("name", "job")),
                     source=source)


def _device_rules(value: Any, source: str) -> tuple[dict, ...]:
    """``model.device_map``: a list of ``{from, to}`` rules (absent or empty: no rewrite)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidArgumentError(f"{source}: model.device_map must be a list of {{from: ..., to: ...}} rules, "
                                   f"found {type(value).__name__} {value!r}")
    return tuple(dict(rule) if isinstance(rule, dict) else rule for rule in value)


def _check_device_map(model: ModelConfig, source: str) -> None:
    """Parse the rules now, so a bad spec fails when the config loads, not after the import."""
    from orchestrator.graph.device_map import UNMAPPED_POLICIES, DeviceMap

    if model.unmapped_devices not in UNMAPPED_POLICIES:
        raise InvalidArgumentError(f"{source}: model.unmapped_devices must be one of "
                                   f"{', '.join(UNMAPPED_POLICIES)}, found {model.unmapped_devices!r}")
    if model.device_map and model.clear_devices:
        raise InvalidArgumentError(f"{source}: model.clear_devices and model.device_map are both set: "
                                   f"clear_devices drops every device the map would rewrite; use one of them")
    DeviceMap.from_rules(model.device_map, unmapped=model.unmapped_devices,
                         allow_unused_rules=model.allow_unused_device_rules, source=source)


def _check_default_task(task: str, source: str) -> None:
    from orchestrator.graph.devices import DeviceSpec

    try:
        spec = DeviceSpec.from_string(task)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{source}: cluster.default_task: {exc}") from None
    if spec.job is None or spec.device_type is not None:
        raise InvalidArgumentError(f"{source}: cluster.default_task must name a task such as "
                                   f"'/job:localhost/replica:0/task:0' (a job, no device), found {task!r}")


def _section(raw: dict, key: str) -> Any:
    """A section's raw value; an absent or empty (``key:``) section means all defaults."""
    value = raw.get(key)
    return {} if value is None else value


def _resolve(path: str | None, base_dir: str) -> str | None:
    if path is None or "://" in path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base_dir, path))


def _check_keys(raw: dict, allowed: set[str], source: str, section: str) -> None:
    for key in raw:
        if key not in allowed:
            where = f"{section}.{key}" if section else key
            raise InvalidArgumentError(f"{source}: unknown key {where!r}.{suggest(str(key), allowed)} "
                                       f"Allowed here: {', '.join(sorted(allowed))}")


def _build(cls: type, raw: Any, source: str, section: str, **extra: Any) -> Any:
    if not isinstance(raw, dict):
        raise InvalidArgumentError(f"{source}: section {section!r} must be a mapping, found {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _check_keys(raw, set(fields) - set(extra), source, section)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        values[name] = _coerce(value, fields[name], source, f"{section}.{name}")
    missing = [f.name for f in fields.values()
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               and f.name not in values and f.name not in extra]
    if missing:
        raise InvalidArgumentError(f"{source}: section {section!r} is missing required key(s) {', '.join(missing)}")
    return cls(**values, **extra)


def _coerce(value: Any, field: dataclasses.Field, source: str, where: str) -> Any:
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", str(field.type))
    ok: bool
    if kind.startswith("bool"):
        ok = isinstance(value, bool)
    elif kind.startswith("int"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind.startswith("float"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind.startswith("str"):
        ok = isinstance(value, str) or (value is None and "None" in kind)
    elif kind.startswith("tuple"):
        if isinstance(value, str):
            value = [value]
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    elif kind.startswith("dict"):
        ok = isinstance(value, dict)
    else:
        ok = True
    if not ok:
        raise InvalidArgumentError(f"{source}: {where} expected {kind}, found {value!r} ({type(value).__name__})")
    return value
