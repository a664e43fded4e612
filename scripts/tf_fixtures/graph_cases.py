"""Make the meta graphs tests/graph uses, and record what real TF reports when importing them.

Run with the TensorFlow venv (TF_USE_LEGACY_KERAS=1):
    /work/tfvenv/bin/python scripts/tf_fixtures/graph_cases.py

Writes tests/fixtures/graph/:
  train/model.meta, model.ckpt-3.*          a TF1 training graph: ref and resource variables,
                                        ps-pinned and colocated nodes, a v1 while loop and cond,
                                        a queue runner, number/string collections; saved after 3 steps
  train/tf_view.json                    TF's view after import_meta_graph for several
                                        (import_scope, clear_devices) cases and double imports
  graph_def.pb                          a bare GraphDef (wrong input on purpose)
  saved_model/saved_model.pb            a SavedModel (wrong input on purpose)
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import tensorflow as tf  # noqa: E402

v1 = tf.compat.v1
OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "graph"

# (case id, import scopes in order, clear_devices)
CASES = [
    ("plain", [None], False),
    ("scoped", ["tower"], False),
    ("scoped_slash", ["tower/"], False),
    ("cleared", [None], True),
    ("twice", [None, None], False),
    ("twice_scoped", ["s", "s"], False),
]


def build_train_graph() -> tf.Graph:
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(7)
        with tf.device("/job:ps/task:0"):
            w = v1.get_variable("w", [3, 2], initializer=v1.ones_initializer(), use_resource=False)
        with tf.device("/job:ps/task:1"):
            b = v1.get_variable("b", [2], initializer=v1.zeros_initializer(), use_resource=True)
        queue = v1.FIFOQueue(8, [tf.float32], shapes=[[3]], name="input_queue")
        enqueue = queue.enqueue([v1.random_uniform([3])])
        v1.train.add_queue_runner(v1.train.QueueRunner(queue, [enqueue]))
        x = v1.placeholder_with_default(tf.ones([4, 3]), [None, 3], name="x")
        with v1.colocate_with(w):
            y = tf.identity(tf.matmul(x, w) + b, name="y")
        i0 = tf.constant(0)
        _, total = tf.while_loop(lambda i, t: i < 3, lambda i, t: (i + 1, t + tf.reduce_sum(y)),
                                 [i0, tf.constant(0.0)], name="loop")
        loss = tf.cond(total > 0, lambda: total * 0.5, lambda: -total, name="pick")
        gs = v1.train.get_or_create_global_step()
        train = v1.train.MomentumOptimizer(0.01, 0.9).minimize(loss, global_step=gs)
        v1.add_to_collection("ratios", 0.25)
        v1.add_to_collection("ratios", 1.5)
        v1.add_to_collection("counts", 7)
        v1.add_to_collection("labels", "hello")
        v1.add_to_collection("outputs", y)
        v1.summary.scalar("loss", loss)
        graph.add_to_collection("my_train", train)
    return graph


def elem(x) -> object:
    """How the tests name a collection item."""
    if isinstance(x, bytes):
        return "b:" + x.decode()
    if isinstance(x, str):
        return "b:" + x
    if isinstance(x, (int, float)):
        return x
    for attr in ("name",):
        if hasattr(x, attr):
            return getattr(x, attr)
    return repr(x)


def tf_view(meta_path: Path, scopes, clear_devices: bool) -> dict:
    with tf.Graph().as_default() as g:
        savers = []
        for scope in scopes:
            saver = v1.train.import_meta_graph(str(meta_path), import_scope=scope, clear_devices=clear_devices)
            savers.append(None if saver is None else {
                "filename_tensor_name": saver.saver_def.filename_tensor_name,
                "save_tensor_name": saver.saver_def.save_tensor_name,
                "restore_op_name": saver.saver_def.restore_op_name})
        gd = g.as_graph_def()
        nodes = [{"name": n.name, "op": n.op, "device": n.device, "input": list(n.input),
                  "class": [c.decode() for c in n.attr["_class"].list.s] if "_class" in n.attr else []}
                 for n in gd.node]
        collections = {k: [elem(x) for x in g.get_collection(k)] for k in g.get_all_collection_keys()}
        variables = [{"name": v.name, "op": v.op.name, "initializer": v.initializer.name,
                      "dtype": v.dtype.base_dtype.name, "shape": v.shape.as_list()}
                     for v in g.get_collection("variables")]
        return {"nodes": nodes, "collections": collections, "savers": savers, "variables": variables}


def save_train(graph: tf.Graph, out: Path) -> None:
    """Train 3 steps on a local cluster-free session (devices cleared) and save meta + checkpoint."""
    with graph.as_default():
        saver = v1.train.Saver()
        meta = saver.export_meta_graph(str(out / "model.meta"))
    with tf.Graph().as_default():
        saver = v1.train.import_meta_graph(str(out / "model.meta"), clear_devices=True)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            train = v1.get_collection("train_op")[0]
            for _ in range(3):
                sess.run(train)
            saver.save(sess, str(out / "model.ckpt"), global_step=3, write_meta_graph=False)
    (out / "checkpoint").unlink()   # holds absolute paths of this machine


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    train_dir = OUT / "train"
    train_dir.mkdir(parents=True)
    v1.disable_eager_execution()
    v1.disable_control_flow_v2()
    graph = build_train_graph()
    save_train(graph, train_dir)
    views = {case: tf_view(train_dir / "model.meta", scopes, clear) for case, scopes, clear in CASES}
    (train_dir / "tf_view.json").write_text(json.dumps(views, sort_keys=True))

    (OUT / "graph_def.pb").write_bytes(graph.as_graph_def().SerializeToString())
    with tf.Graph().as_default():
        builder_dir = OUT / "saved_model"
        v = v1.get_variable("v", [2], initializer=v1.ones_initializer())
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            builder = v1.saved_model.Builder(str(builder_dir))
            builder.add_meta_graph_and_variables(sess, ["serve"])
            builder.save()
        shutil.rmtree(builder_dir / "variables")
    for path in sorted(OUT.rglob("*")):
        if path.is_file():
            print(f"{path.relative_to(OUT)}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
