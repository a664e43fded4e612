"""Saver fixtures made by real TF: partitioned + sharded savers and a renamed-key var list.

Writes ``tests/fixtures/saver/<case>/`` with ``model.meta``, a checkpoint ``model.ckpt-0``
and ``values.npz`` (every variable op's value at save time, keyed by op name).
Run: ``/work/tfvenv/bin/python scripts/tf_fixtures/saver_cases.py [--out tests/fixtures]``.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def _case(out: pathlib.Path, name: str, build) -> None:
    import numpy as np
    import tensorflow as tf
    tf1 = tf.compat.v1
    case_dir = out / "saver" / name
    shutil.rmtree(case_dir, ignore_errors=True)
    case_dir.mkdir(parents=True)
    graph = tf1.Graph()
    with graph.as_default():
        tf1.set_random_seed(7)
        saver = build(tf1)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            saver.save(sess, str(case_dir / "model.ckpt"), global_step=0, write_meta_graph=False,
                       write_state=False)
            saver.export_meta_graph(str(case_dir / "model.meta"))
            values = {}
            for var in tf1.global_variables():
                value = sess.run(var)
                values[var.op.name] = value.astype(bytes) if value.dtype == object else value
            np.savez(case_dir / "values.npz", **values)


def _partitioned_sharded(tf1):
    with tf1.device("/cpu:0"):
        tf1.get_variable("emb", [10, 4], partitioner=tf1.fixed_size_partitioner(3))
        tf1.get_variable("dense/kernel", [4, 2], use_resource=True)
        tf1.train.get_or_create_global_step()
        tf1.Variable([b"a", b"bc"], name="names")
    return tf1.train.Saver(sharded=True, max_to_keep=3)


def _renamed(tf1):
    w = tf1.get_variable("w", [3, 2])
    b = tf1.get_variable("b", [2], use_resource=True)
    tf1.get_variable("not_saved", [1])
    return tf1.train.Saver({"old_scope/w": w, "b": b})


def build(out_dir: pathlib.Path, only: set[str] | None = None) -> None:
    for name, fn in (("partitioned_sharded", _partitioned_sharded), ("renamed", _renamed)):
        if only is None or name in only:
            _case(out_dir, name, fn)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures"))
    args = parser.parse_args()
    build(pathlib.Path(args.out))
