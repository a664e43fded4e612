"""Model fixtures about what surrounds the math: summaries, device placement, sharded saves,
and the TF1 documentation's own save/resume example.

``ps_worker`` trains through in-process ``tf.train.Server``s (2 ps tasks, 1 worker on
127.0.0.1), the only way TF runs a replica_device_setter graph while keeping its
``/job:ps/task:k`` device strings in the meta graph.
"""
from __future__ import annotations

import json
import pathlib
import shutil
import socket
from typing import Callable

import numpy as np

from common import STEPS, ModelSpec, canonical_meta, chdir, global_step, make_model, mlp, op_types, tf1
from models import _onehot, _x

_SERVERS: dict[str, object] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cluster():
    """Start (once per process) 2 ps servers and 1 worker server; returns (ClusterSpec, worker)."""
    t = tf1()
    if not _SERVERS:
        jobs = {"ps": [f"127.0.0.1:{_free_port()}" for _ in range(2)],
                "worker": [f"127.0.0.1:{_free_port()}"]}
        cluster = t.train.ClusterSpec(jobs)
        for job, addrs in jobs.items():
            for k in range(len(addrs)):
                _SERVERS[f"{job}{k}"] = t.train.Server(cluster, job_name=job, task_index=k)
        _SERVERS["cluster"] = cluster
    return _SERVERS["cluster"], _SERVERS["worker0"]


def _classifier_loss(t, resource: bool):
    x = t.placeholder(t.float32, [8, 6], name="x")
    y = t.placeholder(t.float32, [8, 4], name="y")
    logits = mlp(t, x, [10, 4], resource)
    ce = t.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits)
    return x, y, logits, t.reduce_mean(ce, name="loss")


def summaries() -> ModelSpec:
    t = tf1()
    x, y, logits, loss = _classifier_loss(t, False)
    t.summary.scalar("loss", loss)
    kernel = [v for v in t.global_variables() if v.op.name == "dense_0/kernel"][0]
    t.summary.histogram("dense_0/kernel", kernel)
    t.summary.scalar("kernel_norm", t.norm(kernel))
    t.summary.histogram("logits", logits)
    merged = t.summary.merge_all()
    # The kernel summaries read a ref variable the train op updates in place: without this
    # dependency TF may run them before or after the update (the replays would differ).
    with t.control_dependencies([merged]):
        train_op = t.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=global_step(t, False))
    return ModelSpec("MLP with scalar + histogram summaries merged by merge_all (the train op has a "
                     "control dependency on them), fetched each step (reference summary/<i> = "
                     "serialized Summary bytes), ref variables", loss,
                     train_op, {x: _x, y: _onehot}, summary=merged)


def ps_worker() -> ModelSpec:
    t = tf1()
    cluster, worker = _cluster()
    setter = t.train.replica_device_setter(ps_tasks=2, worker_device="/job:worker/task:0",
                                           cluster=cluster)
    with t.device(setter):
        x, y, logits, loss = _classifier_loss(t, False)
        step = global_step(t, False)
        train_op = t.train.AdagradOptimizer(0.1).minimize(loss, global_step=step)
    return ModelSpec("replica_device_setter graph: variables round-robin on /job:ps/task:0..1, ops "
                     "on /job:worker/task:0, Adagrad, ref variables, Saver(sharded=True) (a data file "
                     "per ps task); trained through in-process "
                     "servers", loss, train_op, {x: _x, y: _onehot}, warmup=2,
                     session=lambda graph: t.Session(worker.target, graph=graph),
                     saver_kwargs={"sharded": True},
                     extra={"cluster": {"ps": 2, "worker": 1}})


def sharded_saver() -> ModelSpec:
    t = tf1()
    config = t.ConfigProto(device_count={"CPU": 2})
    x = t.placeholder(t.float32, [8, 6], name="x")
    y = t.placeholder(t.float32, [8, 4], name="y")
    with t.device("/device:CPU:0"):
        h = mlp(t, x, [10], False, activation=t.nn.relu, name="lower")
    with t.device("/device:CPU:1"):
        logits = mlp(t, h, [4], False, name="upper")
    ce = t.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits)
    loss = t.reduce_mean(ce, name="loss")
    with t.device("/device:CPU:0"):
        step = global_step(t, False)
    train_op = t.train.MomentumOptimizer(0.05, 0.9).minimize(loss, global_step=step)
    return ModelSpec("MLP split over /device:CPU:0 and /device:CPU:1 (ConfigProto device_count "
                     "CPU=2), Saver(sharded=True): one SaveV2 and data file per device, merged "
                     "index; Momentum, ref variables", loss, train_op, {x: _x, y: _onehot},
                     warmup=2, saver_kwargs={"sharded": True},
                     session=lambda graph: t.Session(graph=graph, config=config))


MODELS: dict[str, Callable[[], ModelSpec]] = {
    "summaries": summaries, "ps_worker": ps_worker, "sharded_saver": sharded_saver,
}


def docs_resume(out_root: pathlib.Path) -> None:
    """The save loop of TF1's ``import_meta_graph`` docs, verbatim in shape.

    ``saver.save(sess, 'my-model', global_step=step)`` every 5 steps of ``sess.run(train_op)``
    with ``add_to_collection('train_op', train_op)``; inputs come from a seeded random op, as
    the docs' loop feeds nothing. reference.npz: the loss fetched with the train op and every
    variable after 20 resumed steps from my-model-10.
    """
    t = tf1()
    root = out_root / "docs_resume"
    shutil.rmtree(root, ignore_errors=True)
    save_dir = root / "my-save-dir"
    save_dir.mkdir(parents=True)
    graph = t.Graph()
    with graph.as_default():
        t.set_random_seed(42)
        x = t.random_normal([8, 3], seed=3, name="inputs")
        target = t.matmul(x, t.constant([[1.0], [-2.0], [0.5]]))
        w = t.Variable(t.zeros([3, 1]), name="w", use_resource=False)
        b = t.Variable(0.0, name="b", use_resource=False)
        loss = t.reduce_mean(t.square(t.matmul(x, w) + b - target), name="loss")
        train_op = t.train.GradientDescentOptimizer(0.05).minimize(loss)
        saver = t.train.Saver()
        t.add_to_collection("train_op", train_op)
        with t.Session() as sess, chdir(save_dir):
            sess.run(t.global_variables_initializer())
            for step in range(11):
                sess.run(train_op)
                if step % 5 == 0:
                    saver.save(sess, "my-model", global_step=step)
    for meta in save_dir.glob("*.meta"):
        canonical_meta(meta)
    graph = t.Graph()
    with graph.as_default(), t.Session() as sess, chdir(save_dir):
        new_saver = t.train.import_meta_graph("my-model-10.meta")
        new_saver.restore(sess, "my-model-10")
        train_op = t.get_collection("train_op")[0]
        loss = graph.get_tensor_by_name("loss:0")
        losses = [sess.run([train_op, loss])[1] for _ in range(STEPS)]
        ref = {"loss": np.asarray(losses)}
        ref.update({f"final/{v.op.name}": sess.run(v) for v in t.global_variables()})
    np.savez_compressed(root / "reference.npz", **ref)
    manifest = {"name": "docs_resume", "meta": "my-save-dir/my-model-10.meta",
                "checkpoint": "my-save-dir/my-model-10", "train_op": train_op.name,
                "loss": "loss:0", "feeds": [], "steps": STEPS,
                "description": "TF1 import_meta_graph docs example: resume my-model-10 and run "
                               "sess.run(get_collection('train_op')[0]) repeatedly",
                "op_types": op_types(save_dir / "my-model-10.meta"),
                "tolerance": {"rtol": 1e-4, "atol": 1e-6}}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"docs_resume: loss {losses[0]:.5f} -> {losses[-1]:.5f}")


def build(out_dir: pathlib.Path, only: set[str] | None = None) -> None:
    for name, builder in MODELS.items():
        if only is None or name in only:
            make_model(out_dir, name, builder)
    if only is None or "docs_resume" in only:
        docs_resume(out_dir)
