"""Shared machinery of the model fixtures: train with real TF, save, replay the resume path.

A model fixture is made in two sessions, because what other parts of the project must match
is TF's *resume* behaviour, not its first run:

1. build the graph, initialise, run the warm-up steps (their feeds are not recorded), save
   ``model.meta`` and ``ckpt/model.ckpt-0`` (the state file is written with relative paths);
2. in a fresh graph and session, ``import_meta_graph`` + ``restore`` exactly as a user's resume
   script does, then run N recorded steps and record feeds, losses and every global variable.

Step 2 runs twice; the two trajectories must be bit-identical, which rejects graphs whose
result depends on TF's thread scheduling (such a graph could not be an exact reference).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pathlib
import shutil
from typing import Any, Callable, Iterator

import numpy as np

STEPS = 20
DEFAULT_TOLERANCE = {"rtol": 1e-4, "atol": 1e-6}


@dataclasses.dataclass
class ModelSpec:
    """What a model builder returns (built inside the current default graph).

    ``feeds`` maps each placeholder to a function ``rng -> ndarray`` making one step's value.
    ``session`` makes the session used for both training and replay; it gets the graph.
    """

    description: str
    loss: Any
    train_op: Any
    feeds: dict[Any, Callable[[np.random.Generator], np.ndarray]]
    variable_kind: str = "ref"
    control_flow: str = "none"
    warmup: int = 0
    summary: Any = None
    tolerance: dict[str, float] = dataclasses.field(default_factory=lambda: dict(DEFAULT_TOLERANCE))
    session: Callable[[Any], Any] | None = None
    saver_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def tf1():
    """``tf.compat.v1`` with eager execution off (imported lazily: only scripts import TF)."""
    import tensorflow as tf
    tf.compat.v1.disable_eager_execution()
    return tf.compat.v1


@contextlib.contextmanager
def chdir(path: pathlib.Path) -> Iterator[None]:
    """Save with relative prefixes so committed state files name no machine-specific path."""
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@contextlib.contextmanager
def control_flow(kind: str) -> Iterator[None]:
    """Build with v1 loops (Enter/Exit/...) when ``kind == "v1"``; v2 is TF2's default."""
    t = tf1()
    if kind == "v1":
        t.disable_control_flow_v2()
    try:
        yield
    finally:
        t.enable_control_flow_v2()


def op_types(meta_path: pathlib.Path) -> list[str]:
    """Sorted op types of the graph, including the bodies in its function library."""
    import tensorflow as tf
    meta = tf.compat.v1.MetaGraphDef()
    meta.ParseFromString(meta_path.read_bytes())
    types = {n.op for n in meta.graph_def.node}
    for fn in meta.graph_def.library.function:
        types.update(n.op for n in fn.node_def)
    return sorted(types)


def canonical_meta(meta_path: pathlib.Path) -> None:
    """Rewrite a .meta with its control-flow context protos' maps in key order.

    TF fills ``ValuesDef.external_values`` from a dict keyed by tensors (ordered by object id), so
    the map's wire order changes from run to run; the meaning does not. Sorting it keeps
    regenerated fixtures byte-stable.
    """
    import tensorflow as tf
    from tensorflow.core.protobuf import control_flow_pb2
    meta = tf.compat.v1.MetaGraphDef()
    meta.ParseFromString(meta_path.read_bytes())
    kinds = {"while_context": control_flow_pb2.WhileContextDef,
             "cond_context": control_flow_pb2.CondContextDef}
    for key, proto in kinds.items():
        if key not in meta.collection_def:
            continue
        values = meta.collection_def[key].bytes_list.value
        for k, raw in enumerate(values):
            msg = proto()
            msg.ParseFromString(raw)
            values[k] = msg.SerializeToString(deterministic=True)
    meta_path.write_bytes(meta.SerializeToString(deterministic=True))


def _feed_values(spec_feeds: dict, seed: int, steps: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [{ph.name: make(rng) for ph, make in spec_feeds.items()} for _ in range(steps)]


def _default_session(graph):
    return tf1().Session(graph=graph)


def _replay(model_dir: pathlib.Path, spec: ModelSpec, names: dict[str, Any],
            feeds: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The resume path: import the meta graph, restore ckpt-0, run the recorded steps."""
    t = tf1()
    graph = t.Graph()
    with graph.as_default():
        saver = t.train.import_meta_graph(str(model_dir / "model.meta"))
        train_op = graph.get_operation_by_name(names["train_op"])
        loss = graph.get_tensor_by_name(names["loss"])
        summary = graph.get_tensor_by_name(names["summary"]) if names.get("summary") else None
        maker = spec.session or _default_session
        with maker(graph) as sess, chdir(model_dir / "ckpt"):
            saver.restore(sess, "model.ckpt-0")
            out: dict[str, np.ndarray] = {}
            losses = []
            for i, feed in enumerate(feeds):
                fetches = [train_op, loss] + ([summary] if summary is not None else [])
                result = sess.run(fetches, feed_dict=feed)
                losses.append(result[1])
                if summary is not None:
                    out[f"summary/{i}"] = np.frombuffer(result[2], dtype=np.uint8)
                for name, value in feed.items():
                    out[f"feed/{i}/{name}"] = value
            out["loss"] = np.asarray(losses)
            for var in t.global_variables():
                out[f"final/{var.op.name}"] = sess.run(var)
    return out


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[str]:
    return [k for k in a if a[k].tobytes() != b[k].tobytes()]


def make_model(out_root: pathlib.Path, name: str, build: Callable[[], ModelSpec],
               seed: int = 1234) -> None:
    """Build, warm up, save and replay one model into ``out_root/models/<name>/``."""
    t = tf1()
    model_dir = out_root / "models" / name
    shutil.rmtree(model_dir, ignore_errors=True)
    (model_dir / "ckpt").mkdir(parents=True)
    graph = t.Graph()
    with graph.as_default():
        t.set_random_seed(seed)
        spec = build()
        saver = t.train.Saver(**spec.saver_kwargs)
        maker = spec.session or _default_session
        with maker(graph) as sess:
            sess.run(t.global_variables_initializer())
            for feed in _feed_values(spec.feeds, seed + 1, spec.warmup):
                sess.run(spec.train_op, feed_dict=feed)
            with chdir(model_dir / "ckpt"):
                saver.save(sess, "model.ckpt", global_step=0, write_meta_graph=False)
        saver.export_meta_graph(str(model_dir / "model.meta"))
        canonical_meta(model_dir / "model.meta")
        names = {"train_op": spec.train_op.name, "loss": spec.loss.name,
                 "summary": spec.summary.name if spec.summary is not None else None}
        feed_names = [ph.name for ph in spec.feeds]
    feeds = _feed_values(spec.feeds, seed + 2, STEPS)
    first = _replay(model_dir, spec, names, feeds)
    second = _replay(model_dir, spec, names, feeds)
    differ = _same(first, second)
    if differ:
        raise RuntimeError(f"{name}: two TF replays differ in {differ[:5]}; not usable as a reference")
    np.savez_compressed(model_dir / "reference.npz", **first)
    manifest = {
        "name": name, "description": spec.description, "train_op": names["train_op"],
        "loss": names["loss"], "feeds": feed_names, "steps": STEPS,
        "checkpoint": "ckpt/model.ckpt-0", "variable_kind": spec.variable_kind,
        "control_flow": spec.control_flow, "op_types": op_types(model_dir / "model.meta"),
        "tolerance": spec.tolerance, "warmup_steps": spec.warmup,
        "summary": names["summary"], **spec.extra,
    }
    (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"model {name}: loss {first['loss'][0]:.5f} -> {first['loss'][-1]:.5f}, "
          f"{len(manifest['op_types'])} op types")


def global_step(t, resource: bool):
    """The global step as a ref (``VariableV2``) or resource variable, matching the model."""
    with t.variable_scope(t.get_variable_scope(), use_resource=resource):
        return t.train.get_or_create_global_step()


def mlp(t, x, sizes: list[int], resource: bool, activation=None, name: str = "dense"):
    """Dense layers with seeded glorot init; ``resource`` picks ResourceVariables."""
    h = x
    for k, size in enumerate(sizes):
        with t.variable_scope(f"{name}_{k}", use_resource=resource):
            fan_in = int(h.shape[-1])
            w = t.get_variable("kernel", [fan_in, size], initializer=t.glorot_uniform_initializer())
            b = t.get_variable("bias", [size], initializer=t.constant_initializer(0.01))
            h = t.nn.bias_add(t.matmul(h, w), b)
            if k < len(sizes) - 1 or activation is not None:
                h = (activation or t.nn.relu)(h)
    return h
