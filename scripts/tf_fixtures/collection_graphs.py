"""Graphs that use TensorArrays, stacks and TensorLists the way TF's own Python builds them
(tf.TensorArray in while loops, tf.scan / tf.map_fn, gradients through them), and what real
TF's Session.run returns — the integration side of the collections op table.

Each case is ``tests/fixtures/ops/collection_graphs/<case>/`` in the executor fixtures'
layout (``model.meta``, ``cases.npz`` with ``feed/<k>/<tensor>`` and ``out/<k>/<fetch>``,
``manifest.json``). v1 cases are built with control flow v2 disabled (TensorArrayV3 ops,
Stack* ops in backprop); v2 cases with it enabled (tf.TensorArray becomes TensorList ops in
the While bodies, and gradients accumulate with TensorListPushBack/PopBack).

    TF_ENABLE_ONEDNN_OPTS=0 /work/tfvenv/bin/python scripts/make_fixtures.py --modules collection_graphs
"""
from __future__ import annotations

import pathlib
from typing import Any, Callable

import numpy as np
from exec_cases import make_case  # same recording: meta graph, TF's outputs per feed, manifest

X3 = np.array([1.0, -2.0, 0.5], np.float32)


def _dynamic_writes(tf: Any) -> tuple:
    """A growing TensorArray written once per iteration, stacked, and differentiated."""
    v1 = tf.compat.v1
    x = v1.placeholder(tf.float32, [3], name="x")
    n = v1.placeholder(tf.int32, [], name="n")
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[3])

    def body(i, ta, h):
        h = tf.tanh(h * 0.9 + x)
        return i + 1, ta.write(i, h * tf.cast(i + 1, tf.float32)), h

    _, ta, _ = tf.while_loop(lambda i, ta, h: i < n, body, [0, ta, tf.zeros([3])])
    stacked = tf.identity(ta.stack(), name="stacked")
    loss = tf.reduce_sum(stacked * stacked, name="loss")
    (grad,) = tf.gradients(loss, [x])
    feeds = [{"x:0": X3, "n:0": np.int32(k)} for k in (1, 4, 6)]
    return "while loop writing a dynamic_size TensorArray, stacked, with d(loss)/dx", \
        [stacked, loss, tf.identity(grad, name="grad"), tf.identity(ta.size(), name="size")], feeds


def _scan_and_map(tf: Any) -> tuple:
    """tf.scan (unstack, read, write, stack) and tf.map_fn over rows, with gradients."""
    v1 = tf.compat.v1
    xs = v1.placeholder(tf.float32, [5, 3], name="xs")
    running = tf.scan(lambda acc, row: acc * 0.5 + tf.sin(row), xs, initializer=tf.zeros([3]))
    mapped = tf.map_fn(lambda row: tf.reduce_sum(row * row), xs)
    loss = tf.reduce_sum(running) + tf.reduce_sum(mapped * mapped)
    (grad,) = tf.gradients(loss, [xs])
    rng = np.random.RandomState(0)
    feeds = [{"xs:0": rng.standard_normal((5, 3)).astype(np.float32)} for _ in range(2)]
    return "tf.scan and tf.map_fn (TensorArray unstack/read/write/stack) with gradients", \
        [tf.identity(running, name="running"), tf.identity(mapped, name="mapped"),
         tf.identity(loss, name="loss"), tf.identity(grad, name="grad")], feeds


def _array_per_outer_iteration(tf: Any) -> tuple:
    """A TensorArray created inside an outer loop body: a fresh array every outer iteration."""
    v1 = tf.compat.v1
    x = v1.placeholder(tf.float32, [3], name="x")
    n = v1.placeholder(tf.int32, [], name="n")

    def outer(i, acc):
        inner_ta = tf.TensorArray(tf.float32, size=i + 1, element_shape=[3])

        def inner(j, ta):
            return j + 1, ta.write(j, x * tf.cast(i * 10 + j, tf.float32))

        _, inner_ta = tf.while_loop(lambda j, ta: j < i + 1, inner, [0, inner_ta])
        return i + 1, acc + tf.reduce_sum(inner_ta.stack(), axis=0)

    _, acc = tf.while_loop(lambda i, acc: i < n, outer, [0, tf.zeros([3])])
    (grad,) = tf.gradients(tf.reduce_sum(acc * acc), [x])
    feeds = [{"x:0": X3, "n:0": np.int32(k)} for k in (0, 1, 3)]
    return "nested loops, a TensorArray made in each outer iteration (n=0: no iteration)", \
        [tf.identity(acc, name="acc"), tf.identity(grad, name="grad")], feeds


def _split_concat(tf: Any) -> tuple:
    """TensorArray split into uneven pieces, read back, concatenated, differentiated."""
    v1 = tf.compat.v1
    x = v1.placeholder(tf.float32, [6, 2], name="x")
    ta = tf.TensorArray(tf.float32, size=3, infer_shape=False, clear_after_read=False).split(
        x, lengths=[1, 3, 2])
    middle = ta.read(1)
    joined = ta.concat()
    loss = tf.reduce_sum(joined * joined) + tf.reduce_sum(middle)
    (grad,) = tf.gradients(loss, [x])
    feeds = [{"x:0": np.arange(12, dtype=np.float32).reshape(6, 2) * 0.25 - 1.0}]
    return "TensorArray split/read/concat and their gradients (split, concat of the grad array)", \
        [tf.identity(middle, name="middle"), tf.identity(joined, name="joined"),
         tf.identity(grad, name="grad")], feeds


CASES: dict[str, tuple[str, Callable[[Any], tuple]]] = {
    "dynamic_writes_v1": ("v1", _dynamic_writes),
    "scan_map_v1": ("v1", _scan_and_map),
    "array_per_iteration_v1": ("v1", _array_per_outer_iteration),
    "split_concat_v1": ("v1", _split_concat),
    "dynamic_writes_v2": ("v2", _dynamic_writes),
    "scan_map_v2": ("v2", _scan_and_map),
    "array_per_iteration_v2": ("v2", _array_per_outer_iteration),
}


def build(out_dir: pathlib.Path, only: set[str] | None = None) -> None:
    for name, (flavour, builder) in CASES.items():
        if only is None or name in only or "collection_graphs" in only:
            make_case(out_dir, name, flavour, builder, subdir="collection_graphs")
            print(f"  {name}: made")


if __name__ == "__main__":
    import os
    import sys
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    build(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/ops"))
