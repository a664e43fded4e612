"""Executor fixtures: small control-flow graphs and what real TF's Session.run returns for them.

Each case is ``tests/fixtures/exec/<case>/``:

- ``model.meta`` — the graph (``export_meta_graph``);
- ``cases.npz`` — ``feed/<k>/<tensor>`` and ``out/<k>/<fetch>`` for run k (fetched in one
  ``sess.run(fetches, feed)`` of a fresh session per run);
- ``manifest.json`` — ``feeds``, ``fetches`` (tensor names), ``runs``, ``control_flow``,
  ``op_types``, ``description``.

v1 cases are built with ``disable_control_flow_v2()`` (Enter/Exit/Switch/Merge frames,
dead branches, a loop inside an untaken branch, nested loops and their gradient); v2 cases with it enabled (While/If/Case
bodies and a tf.function call in the function library).
"""
from __future__ import annotations

import json
import pathlib
import shutil
from typing import Any, Callable

import numpy as np
from common import canonical_meta


def _tf() -> Any:
    import tensorflow as tf
    tf.compat.v1.disable_eager_execution()
    return tf


def _nested_while_with_cond(tf: Any) -> tuple:
    v1 = tf.compat.v1
    x = v1.placeholder(tf.float32, [3], name="x")
    n = v1.placeholder(tf.int32, [], name="n")

    def outer_body(i, acc):
        def inner_body(j, a):
            return j + 1, a + x * tf.cast(j, tf.float32)
        _, acc = tf.while_loop(lambda j, a: j < i, inner_body, [0, acc], name="inner")
        acc = tf.cond(tf.reduce_sum(acc) > 10.0, lambda: acc * 0.5, lambda: acc + 1.0, name="halve")
        return i + 1, acc

    i, acc = tf.while_loop(lambda i, acc: i < n, outer_body, [0, tf.zeros([3])], name="outer")
    result = tf.identity(acc, name="result")
    count = tf.identity(i, name="count")
    feeds = [{"x:0": np.array([1.0, -2.0, 3.5], np.float32), "n:0": np.int32(k)} for k in (0, 1, 4, 7)]
    return "nested v1 while loops with a cond in the outer body (n=0: the loop never runs)", \
        [result, count], feeds


def _loop_in_untaken_branch(tf: Any) -> tuple:
    x = tf.compat.v1.placeholder(tf.float32, [], name="x")
    p = tf.compat.v1.placeholder(tf.bool, [], name="p")

    def looping():
        return tf.while_loop(lambda k, s: k < 5, lambda k, s: (k + 1, s * 1.5), [0, x])[1]

    out = tf.cond(p, looping, lambda: x - 1.0, name="branch")
    result = tf.identity(out, name="result")
    feeds = [{"x:0": np.float32(2.0), "p:0": np.bool_(v)} for v in (True, False)]
    return "v1 cond whose true branch holds a while loop (dead exits when not taken)", [result], feeds


def _functional(tf: Any) -> tuple:
    x = tf.compat.v1.placeholder(tf.float32, [2, 2], name="x")
    b = tf.compat.v1.placeholder(tf.int32, [], name="b")

    @tf.function
    def affine(v):
        return tf.matmul(v, v) + 1.0, tf.reduce_sum(v)

    squared, total = affine(x)
    looped = tf.while_loop(lambda k, v: k < 3, lambda k, v: (k + 1, v * 2.0 + total), [0, squared])[1]
    chosen = tf.cond(total > 0.0, lambda: looped - 1.0, lambda: looped + 1.0)
    branches = [lambda: chosen * 0.0, lambda: chosen + 10.0, lambda: -chosen]
    picked = tf.switch_case(b, branches)
    result = tf.identity(picked, name="result")
    feeds = [{"x:0": np.array([[1, 2], [3, -4]], np.float32), "b:0": np.int32(k)} for k in (0, 1, 2, 5)]
    feeds.append({"x:0": np.array([[-1, -2], [0.5, -4]], np.float32), "b:0": np.int32(1)})
    return "v2: tf.function (PartitionedCall), While, If, Case (index 5 runs the last branch)", [result], feeds


def _nested_while_with_gradient(tf: Any) -> tuple:
    v1 = tf.compat.v1
    x = v1.placeholder(tf.float32, [3], name="x")
    n = v1.placeholder(tf.int32, [], name="n")

    def outer_body(i, acc):
        _, acc = tf.while_loop(lambda j, a: j < 2, lambda j, a: (j + 1, a * 0.9 + tf.sin(x)), [0, acc],
                               name="inner")
        return i + 1, acc * x

    i, acc = tf.while_loop(lambda i, acc: i < n, outer_body, [0, tf.ones([3])], name="outer")
    result = tf.identity(tf.reduce_sum(acc), name="result")
    grad = tf.identity(tf.gradients(result, x)[0], name="grad")
    feeds = [{"x:0": np.array([0.5, -1.0, 1.5], np.float32), "n:0": np.int32(k)} for k in (0, 1, 3)]
    return ("nested v1 while loops (no cond) and their gradient: stacks, loop-invariant gradient "
            "accumulation, ops between Switch and Exit"), [result, grad], feeds


CASES: dict[str, tuple[str, Callable[[Any], tuple]]] = {
    "while_v1_nested": ("v1", _nested_while_with_cond),
    "cond_v1_loop": ("v1", _loop_in_untaken_branch),
    "while_v1_grad": ("v1", _nested_while_with_gradient),
    "functional_v2": ("v2", _functional),
}


def make_case(out_dir: pathlib.Path, name: str, flavour: str, builder: Callable[[Any], tuple],
              subdir: str = "exec") -> None:
    """Build one graph in ``flavour`` ("v1"/"v2" control flow), run it with TF on each feed and
    write ``<out_dir>/<subdir>/<name>/{model.meta, cases.npz, manifest.json}``."""
    tf = _tf()
    v1 = tf.compat.v1
    if flavour == "v1":
        v1.disable_control_flow_v2()
    else:
        v1.enable_control_flow_v2()
    folder = out_dir / subdir / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    graph = tf.Graph()
    with graph.as_default():
        description, fetches, feeds = builder(tf)
        v1.train.export_meta_graph(str(folder / "model.meta"), graph=graph)
        canonical_meta(folder / "model.meta")   # byte-stable regeneration
        fetch_names = [t.name for t in fetches]
        arrays = {}
        for k, feed in enumerate(feeds):
            with v1.Session(graph=graph) as sess:
                values = sess.run(fetch_names, feed_dict=feed)
            for tensor, value in feed.items():
                arrays[f"feed/{k}/{tensor}"] = np.asarray(value)
            for tensor, value in zip(fetch_names, values):
                arrays[f"out/{k}/{tensor}"] = np.asarray(value)
        op_types = {op.type for op in graph.get_operations()}
        for fn in graph.as_graph_def().library.function:
            op_types.update(node.op for node in fn.node_def)
    np.savez(folder / "cases.npz", **arrays)
    manifest = {"name": name, "description": description, "control_flow": flavour,
                "feeds": sorted(feeds[0]), "fetches": fetch_names, "runs": len(feeds),
                "op_types": sorted(op_types)}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def build(out_dir: pathlib.Path, only: set[str] | None = None) -> None:
    for name, (flavour, builder) in CASES.items():
        if only is None or name in only:
            make_case(out_dir, name, flavour, builder)


if __name__ == "__main__":
    import os
    import sys
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    build(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures"))
