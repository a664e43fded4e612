"""Make the meta graphs tests/graph uses, and record what real TF reports when importing them.

Run with the TensorFlow venv (TF_USE_LEGACY_KERAS=1):
    /work/tfvenv/bin/python scripts/tf_fixtures/graph_cases.py

Writes tests/fixtures/graph/:
  train/model.meta, model.ckpt-3.*          a TF1 training graph: ref and resource variables,
                                        ps-pinned and colocated nodes, a v1 while loop and cond,
                                        a queue runner, number/string collections; saved after 3 steps
  train/tf_view.json                    TF's view after import_meta_graph for several
                                        (import_scope, clear_devices) cases and double imports
  tensor_protos.json                    TensorProtos made by TF and the arrays TF decodes them to
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

import numpy as np  # noqa: E402
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


def tensor_cases() -> dict:
    """TensorProtos made by TF (packed and typed-field forms) and the arrays TF decodes them to."""
    from tensorflow.core.framework import tensor_pb2
    make = tf.make_tensor_proto
    protos = {
        "float32_packed": make(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "float32_broadcast": make(1.5, dtype=tf.float32, shape=[2, 3]),
        "float64": make(np.array([1e-300, -2.5, 3.0])),
        "half": make(np.array([0.5, -1.25, 65504.0], dtype=np.float16)),
        "half_broadcast": make(np.float16(2.0), shape=[2, 2]),
        "bfloat16": make(np.array([1.0, -3.5, 0.125], dtype=tf.bfloat16.as_numpy_dtype)),
        "int8": make(np.array([-128, 0, 127], dtype=np.int8)),
        "uint8": make(np.array([0, 255], dtype=np.uint8)),
        "int16": make(np.array([-5, 7], dtype=np.int16)),
        "uint16": make(np.array([65535, 1], dtype=np.uint16)),
        "int32_scalar": make(np.int32(-7)),
        "int64": make(np.array([2**62, -1], dtype=np.int64)),
        "uint32": make(np.array([2**32 - 1], dtype=np.uint32)),
        "uint64": make(np.array([2**64 - 1], dtype=np.uint64)),
        "bool": make(np.array([True, False, True])),
        "complex64": make(np.array([1 + 2j, -3.5j], dtype=np.complex64)),
        "complex128": make(np.array([[1 - 1j]], dtype=np.complex128)),
        "string": make(np.array([b"a", b"", b"\x00\xff"], dtype=object)),
        "string_broadcast": make(b"fill", shape=[3]),
        "empty_float": make(np.zeros((0, 3), dtype=np.float32)),
    }
    # Typed fields shorter than the shape: TF repeats the last value; none means zeros.
    partial = tensor_pb2.TensorProto(dtype=tf.float32.as_datatype_enum, float_val=[1.0, 2.0])
    partial.tensor_shape.dim.add().size = 4
    protos["float32_partial"] = partial
    zeros = tensor_pb2.TensorProto(dtype=tf.int32.as_datatype_enum)
    zeros.tensor_shape.dim.add().size = 3
    protos["int32_no_values"] = zeros
    half_typed = tensor_pb2.TensorProto(dtype=tf.float16.as_datatype_enum, half_val=[0x3C00, 0xC000])
    half_typed.tensor_shape.dim.add().size = 3
    protos["half_typed"] = half_typed
    bf_typed = tensor_pb2.TensorProto(dtype=tf.bfloat16.as_datatype_enum, half_val=[0x3F80])
    bf_typed.tensor_shape.dim.add().size = 2
    protos["bfloat16_typed"] = bf_typed

    out = {}
    for name, proto in protos.items():
        arr = tf.make_ndarray(proto)
        if arr.dtype == object:
            values = [v.hex() for v in arr.reshape(-1)]
        elif arr.dtype.kind == "c":
            values = [[float(v.real), float(v.imag)] for v in arr.reshape(-1)]
        else:
            values = [v.item() if arr.dtype.kind in "iub" else float(v) for v in arr.reshape(-1)]
        out[name] = {"proto": proto.SerializeToString().hex(), "dtype": tf.as_dtype(proto.dtype).name,
                     "shape": list(arr.shape), "values": values}
    return out


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

    (OUT / "tensor_protos.json").write_text(json.dumps(tensor_cases(), indent=1, sort_keys=True))
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
