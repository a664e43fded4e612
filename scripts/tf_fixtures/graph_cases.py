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
  devices.json                          tf.DeviceSpec's parse/reject/print/merge/replace table, and the
                                        devices TF gives imported nodes (canonical forms, colocation)
  small/*.meta                          tiny meta graphs: raw device strings, unsorted control inputs,
                                        a scope with inputs from outside it, variables without a saver_def
  import_details.json                   what TF does with them: collection item types (bytes/str) per
                                        import scope, control-input order, export_scope's unbound inputs,
                                        the default Saver's subgraph and checkpoint keys

`make_fixtures.py --modules graph_cases --only details` remakes the last three alone.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from common import canonical_meta  # noqa: E402  (scripts/tf_fixtures is on sys.path)

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
        saver.export_meta_graph(str(out / "model.meta"))
    canonical_meta(out / "model.meta")   # control-flow context maps in key order: byte-stable
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
    (OUT / "graph_def.pb").write_bytes(graph.as_graph_def().SerializeToString(deterministic=True))
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


# ------------------------------------------------------------------------ devices and import details

DEVICE_STRINGS = [
    "", "/job:ps/replica:0/task:1/device:GPU:0", "/job:ps/replica:1/task:2/device:GPU:3", "/gpu:0", "/GPU:1",
    "gpu:0", "/cpu:*", "cpu", "/device:CPU:0", "/device:cpu:0", "/device:gpu:1", "/device:tpu:0",
    "/device:XLA_CPU:0", "device:GPU:2", "/device:GPU:*", "/task:3", "/job:worker", "/replica:2",
    "/job:ps/task:0", "/job:ps/task:0/cpu:0", "/job:ps/task:1/gpu:*", "/job:worker/device:GPU:*",
    "/job:ps/job:w", "/task:1/task:2", "/task:01", "/task: 1", "/task:-1", "/task:+2", "/replica:1_0",
    "/job:", "//job:ps//", "/job:ps/", "/tpu:0", "/custom:0", "/epu:1", "/Job:ps", "/JOB:ps",
    "/job:a b", "/job:localhost/replica:0/task:0/device:CPU:0",
    # rejected by TF
    "/job:a:b", "/job", "/task:x", "/task:", "/task:1.5", "/replica:0x1", "/gpu:x", "/device:GPU:x",
    "/GPU:0/CPU:0", "/gpu:0/device:CPU:0", "/device:CPU:0/device:GPU:0", "/xla_cpu:0", "/localhost",
    "localhost:0", "/device:GPU:0:1", "/foo:1", "/device:GPU", "/cpu:0:1", ":", "/:", "/job:ps:0",
    "/device::0", "/device:GPU:", "/job:ps/replica:0/task:1/device:GPU:0/extra",
]

DEVICE_MERGES = [
    ("/job:ps", "/task:1"), ("/job:ps/task:0/device:CPU:0", "/job:worker"), ("/gpu:0", "/cpu:*"),
    ("/cpu:*", "/gpu:0"), ("/device:GPU:1", "/device:CPU:*"), ("", "/job:ps/replica:0/task:1/device:GPU:0"),
    ("/job:ps/replica:0/task:1/device:GPU:0", ""), ("/job:worker/task:3", "/replica:2/device:GPU:1"),
    ("/task:1", "/task:0"), ("/device:XLA_CPU:0", "/job:w"),
]

DEVICE_REPLACES = [
    ("/job:ps/task:0", {"task": 2, "device_type": "GPU"}), ("/job:ps/task:0", {"job": None}),
    ("/gpu:1", {"device_index": None}), ("", {"job": "w", "replica": 0, "task": 1, "device_type": "CPU",
                                             "device_index": 0}),
    ("/device:CPU:0", {"device_type": "gpu"}),
]


def device_cases() -> dict:
    """What tf.DeviceSpec parses, rejects, prints, merges and replaces; and what import does to devices."""
    parse = []
    for spec in DEVICE_STRINGS:
        try:
            d = tf.DeviceSpec.from_string(spec)
        except Exception as exc:   # TF raises ValueError (its message is ours to choose)
            parse.append({"spec": spec, "ok": False, "error": type(exc).__name__})
            continue
        parse.append({"spec": spec, "ok": True, "string": d.to_string(),
                      "components": [d.job, d.replica, d.task, d.device_type, d.device_index]})
    merges = [{"a": a, "b": b, "merged": tf.DeviceSpec.from_string(a).make_merged_spec(
        tf.DeviceSpec.from_string(b)).to_string()} for a, b in DEVICE_MERGES]
    replaces = [{"spec": s, "kwargs": kw, "result": tf.DeviceSpec.from_string(s).replace(**kw).to_string()}
                for s, kw in DEVICE_REPLACES]
    return {"parse": parse, "merge": merges, "replace": replaces}


def devices_meta() -> Any:
    """A graph whose NodeDefs carry raw (non-canonical) device strings and colocation constraints."""
    graph = tf.Graph()
    with graph.as_default():
        a = tf.constant(1.0, name="a")
        b = tf.constant(2.0, name="b")
        with v1.colocate_with(a):
            tf.identity(a, name="c")
        with v1.colocate_with(b):
            tf.identity(b, name="d")
        tf.identity(b, name="e")
        with v1.colocate_with(a), v1.colocate_with(b, ignore_existing=False):
            tf.add(a, b, name="f")
        meta = v1.train.export_meta_graph()
    raw = {"a": "/gpu:0", "b": "/job:ps/task:0/cpu:0", "c": "/cpu:1", "d": "", "e": "/job:ps/task:1/device:CPU:*",
           "f": "/job:worker"}
    for node in meta.graph_def.node:
        node.device = raw[node.name]
    return meta


def imported_devices(meta: Any) -> dict:
    with tf.Graph().as_default() as graph:
        v1.train.import_meta_graph(meta)
        return {"graph_def": {n.name: n.device for n in graph.as_graph_def().node},
                "colocation_groups": {op.name: [c.decode() for c in op.colocation_groups()]
                                      for op in graph.get_operations()}}


def model_devices(models_dir: Path) -> dict:
    """Per model fixture with device strings: node count per device, and each colocated op's groups."""
    out = {}
    for name in ("ps_worker", "sharded_saver"):
        with tf.Graph().as_default() as graph:
            v1.train.import_meta_graph(str(models_dir / name / "model.meta"))
            counts: dict[str, int] = {}
            for op in graph.get_operations():
                counts[op.device] = counts.get(op.device, 0) + 1
            groups = {op.name: [c.decode() for c in op.colocation_groups()] for op in graph.get_operations()
                      if op.colocation_groups() != [b"loc:@" + op.name.encode()]}
            out[name] = {"device_counts": counts, "colocation_groups": groups}
    return out


def collection_types(meta_path: Path) -> dict:
    """Python types and values tf.get_collection returns for each collection kind, unscoped and scoped."""
    from tensorflow.core.protobuf import meta_graph_pb2
    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString(meta_path.read_bytes())
    add_string_collection(meta)
    out = {}
    for scope in (None, "s", "s/"):
        with tf.Graph().as_default() as graph:
            v1.train.import_meta_graph(meta, import_scope=scope)
            out[str(scope)] = {key: [[type(x).__name__, x.decode() if isinstance(x, bytes) else x]
                                     for x in graph.get_collection(key)]
                               for key in ("labels", "ratios", "counts", "strings")}
    return out


STRING_COLLECTION = ["plain", "^ctl", "loc:@w", "a/b", "", "two\nlines"]


def add_string_collection(meta: Any) -> None:
    """The tests add the same collection to the train meta graph (kept out of the committed file)."""
    meta.collection_def["strings"].bytes_list.value.extend(s.encode() for s in STRING_COLLECTION)


def control_order_meta() -> Any:
    graph = tf.Graph()
    with graph.as_default():
        z = tf.constant(1.0, name="z")
        bb = tf.constant(2.0, name="bb")
        m = tf.constant(3.0, name="m")
        with tf.control_dependencies([z.op, bb.op]):
            tf.identity(m, name="n")
        meta = v1.train.export_meta_graph()
    node = next(n for n in meta.graph_def.node if n.name == "n")
    del node.input[:]
    node.input.extend(["m", "^z", "^m", "^bb"])   # not sorted, and one duplicates a data input
    return meta


def control_order(meta: Any) -> dict:
    with tf.Graph().as_default() as graph:
        v1.train.import_meta_graph(meta)
        op = graph.get_operation_by_name("n")
        return {"control_inputs": [o.name for o in op.control_inputs], "node_def": list(op.node_def.input),
                "graph_def": next(list(n.input) for n in graph.as_graph_def().node if n.name == "n")}


def unbound_meta() -> Any:
    """A graph with a scope "t" whose nodes read data and control inputs from outside it."""
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [2], name="x")
        c = tf.constant(1.0, name="c")
        with tf.name_scope("t"):
            a = tf.add(x, c, name="a")
            with tf.control_dependencies([c.op]):
                d = tf.identity(a, name="d")
            tf.add(x, d, name="e")
        v1.add_to_collection("outs", d)
        v1.add_to_collection("strs", "t/hello")
        v1.add_to_collection("strs", "other")
        return v1.train.export_meta_graph()


def unbound_export(meta: Any) -> dict:
    with tf.Graph().as_default() as graph:
        v1.train.import_meta_graph(meta)
        scoped = v1.train.export_meta_graph(export_scope="t")
        return {"nodes": [{"name": n.name, "input": list(n.input)} for n in scoped.graph_def.node],
                "collections": {k: [v.decode() for v in c.bytes_list.value] or list(c.node_list.value)
                                for k, c in scoped.collection_def.items()},
                "source_graph_unbound_inputs": graph.get_collection("unbound_inputs")}


IMPORT_SCOPES = ["bad scope", "_under", "-dash", "x!y", "a:b", "/lead", "a\\b", "ok", "a/b", "v1.2-x", "tower_0/",
                 "a//b", "a>b", ".dot", "9lives"]


def import_scopes(meta: Any) -> dict:
    """Which import_scope strings TF accepts, and the name the first node gets."""
    out = {}
    for scope in IMPORT_SCOPES:
        with tf.Graph().as_default() as graph:
            try:
                v1.train.import_meta_graph(meta, import_scope=scope)
                out[scope] = graph.get_operations()[0].name
            except ValueError:
                out[scope] = None
    return out


def no_saver_meta() -> Any:
    graph = tf.Graph()
    with graph.as_default():
        v1.get_variable("w", [2, 3], use_resource=False)
        v1.get_variable("b", [3], use_resource=True)
        return v1.train.export_meta_graph()


def default_saver(meta: Any) -> dict:
    """TF builds a default Saver (a save/ subgraph over all global variables) when there is no saver_def."""
    import tempfile
    out = {}
    for scope in (None, "s"):
        with tf.Graph().as_default() as graph:
            before = {op.name for op in graph.get_operations()}
            saver = v1.train.import_meta_graph(meta, import_scope=scope)
            imported = {n.name for n in meta.graph_def.node}
            added = [{"name": n.name, "op": n.op, "input": list(n.input), "device": n.device}
                     for n in graph.as_graph_def().node
                     if n.name not in before and n.name.split("/", 1)[-1 if scope else 0] not in imported
                     and not (scope and n.name.startswith(scope + "/"))]
            with v1.Session() as sess:
                sess.run(v1.global_variables_initializer())
                prefix = saver.save(sess, tempfile.mkdtemp() + "/m", write_meta_graph=False)
            sd = saver.saver_def
            out[str(scope)] = {"saver_def": {"filename_tensor_name": sd.filename_tensor_name,
                                             "save_tensor_name": sd.save_tensor_name,
                                             "restore_op_name": sd.restore_op_name, "sharded": sd.sharded,
                                             "max_to_keep": sd.max_to_keep, "version": int(sd.version),
                                             "keep_checkpoint_every_n_hours": sd.keep_checkpoint_every_n_hours},
                               "added_nodes": added,
                               "checkpoint_keys": sorted(name for name, _ in tf.train.list_variables(prefix))}
    with tf.Graph().as_default():
        tf.constant(1.0, name="c")
        constants_only = v1.train.export_meta_graph()
    with tf.Graph().as_default():
        out["no_variables"] = v1.train.import_meta_graph(constants_only)
    return out


def build_details(out: Path) -> None:
    """devices.json and import_details.json (+ the small meta graphs they were made from)."""
    v1.disable_eager_execution()
    v1.disable_control_flow_v2()
    devices = device_cases()
    dev_meta = devices_meta()
    devices["import"] = imported_devices(dev_meta)
    devices["models"] = model_devices(out.parent / "models")
    (out / "devices.json").write_text(json.dumps(devices, indent=1, sort_keys=True))
    metas = {"devices": dev_meta, "control_order": control_order_meta(), "unbound": unbound_meta(),
             "no_saver": no_saver_meta()}
    (out / "small").mkdir(exist_ok=True)
    for name, meta in metas.items():
        (out / "small" / f"{name}.meta").write_bytes(meta.SerializeToString(deterministic=True))
    details = {"collection_types": collection_types(out / "train" / "model.meta"),
               "string_collection": STRING_COLLECTION,
               "control_order": control_order(metas["control_order"]),
               "unbound": unbound_export(metas["unbound"]),
               "default_saver": default_saver(metas["no_saver"]),
               "import_scopes": import_scopes(metas["devices"])}
    (out / "import_details.json").write_text(json.dumps(details, indent=1, sort_keys=True))


def build(out_dir: Path, only: set[str] | None) -> None:
    """make_fixtures entry point: everything, or ``only={"details"}`` for the last three outputs alone.

    ``main()`` starts by deleting the whole folder, so remaking ``train`` remakes the details too.
    """
    global OUT
    OUT = out_dir / "graph"
    if only is None or "train" in only:
        main()
        build_details(OUT)
    elif "details" in only:
        build_details(OUT)
    else:
        raise SystemExit(f"graph_cases: unknown case(s) {sorted(only)}; known: train, details")

if __name__ == "__main__":
    status = main()
    build_details(OUT)
    sys.exit(status)
