"""`orchestrator inspect` on TF-made meta graphs, and its errors (exit 2, one clear line)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from orchestrator import storage
from orchestrator.cli import main

GRAPH_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "graph"
META = GRAPH_FIXTURES / "train" / "model.meta"
MODELS = Path(__file__).resolve().parent / "fixtures" / "models"


def test_json_report(capsys):
    assert main(["inspect", str(META), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "meta_graph"
    assert report["num_ops"] == sum(report["op_counts"].values()) == 191
    assert report["op_counts"]["VariableV2"] == 2 and report["op_counts"]["ApplyMomentum"] == 1
    assert report["devices"]["/job:ps/task:0"] > 0 and sum(report["devices"].values()) == 191
    assert report["collections"]["variables"] == 5 and report["collections"]["while_context"] == 1
    w = report["variables"][0]
    assert w == {"name": "w:0", "dtype": "float32", "shape": [3, 2], "device": "/job:ps/task:0",
                 "initializer": "w/Assign", "kind": "ref", "trainable": True}
    assert report["saver_def"]["restore_op_name"] == "save/restore_all"
    assert report["saver_def"]["version"] == "V2"
    # The queue ops have no kernel (yet): reported with their nodes.
    assert report["unsupported_ops"]["QueueEnqueueV2"] == {"count": 1, "nodes": ["input_queue_enqueue"]}
    assert _expected_unsupported(META) == {k: v["count"] for k, v in report["unsupported_ops"].items()}


def test_text_report_is_aligned(capsys):
    assert main(["inspect", str(META)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"meta graph {META}: 191 ops")
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split() == ["name", "dtype", "shape", "kind", "device", "initializer"])
    w_row = lines[header + 2]
    assert w_row.split() == ["w:0", "float32", "[3,", "2]", "ref", "/job:ps/task:0", "w/Assign"]
    assert w_row.index("float32") == lines[header].index("dtype")
    assert "saver_def:" in out and "save/restore_all" in out


def test_memory_url(capsys):
    storage.write_bytes("memory://inspect-tests/model.meta", META.read_bytes())
    assert main(["inspect", "memory://inspect-tests/model.meta", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["num_ops"] == 191


@pytest.mark.parametrize("make, message", [
    (lambda d: str(d / "missing.meta"), "missing.meta: no such file"),
    (lambda d: str(d / "prefix"), "prefix.index does not exist"),
    (lambda d: _write(d / "empty.meta", b""), "file is empty"),
    (lambda d: _write(d / "junk.meta", np.random.default_rng(1).bytes(2000)), "not a MetaGraphDef"),
    (lambda d: _write(d / "cut.meta", META.read_bytes()[:5000]), "truncated, corrupt"),
    (lambda d: str(GRAPH_FIXTURES / "graph_def.pb"), "this is a GraphDef"),
    (lambda d: str(GRAPH_FIXTURES / "saved_model" / "saved_model.pb"), "this is a SavedModel"),
    (lambda d: _write(d / "bad.pbtxt", b"graph_def { node { name: 'a' op: }"), "malformed text-format"),
    (lambda d: _write(d / "dev.meta", _with_device(b"/job:ps/gpu:0/cpu:0")),
     "node 'a': invalid device spec '/job:ps/gpu:0/cpu:0': it names more than one device"),
    (lambda d: _write(d / "scoped.meta", _scoped_export()),
     "reads 3 input(s) from outside it: ['$unbound_inputs_x'"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, make, message):
    assert main(["inspect", make(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("orchestrator inspect: error: ") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_console_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "orchestrator", "inspect", str(tmp_path / "x.meta")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "x.meta: no such file" in proc.stderr and "Traceback" not in proc.stderr


def _expected_unsupported(meta_path: Path, meta=None) -> dict[str, int]:
    """Computed independently of inspect: every node type (graph and function bodies) without a kernel."""
    from orchestrator.graph.meta_io import read_meta_graph
    from orchestrator.ops.registry import has_kernel
    meta = meta or read_meta_graph(str(meta_path))
    functions = {f.signature.name for f in meta.graph_def.library.function}
    types = [n.op for n in meta.graph_def.node] + [n.op for f in meta.graph_def.library.function for n in f.node_def]
    counts: dict[str, int] = {}
    for op_type in types:
        if op_type not in functions and op_type != "Placeholder" and not has_kernel(op_type):
            counts[op_type] = counts.get(op_type, 0) + 1
    return counts


def _unary_op_without_kernel() -> str:
    """A float op with Tanh's signature that has no kernel yet (kernels keep being added)."""
    from orchestrator.ops.registry import has_kernel
    candidates = ["Erfinv", "Lgamma", "Digamma", "BesselI0e", "BesselI1e", "Ndtri", "Atanh"]
    missing = [op for op in candidates if not has_kernel(op)]
    if not missing:
        pytest.skip(f"every candidate op has a kernel now: {candidates}")
    return missing[0]


def test_unsupported_ops_in_function_bodies(tmp_path, capsys):
    from orchestrator.graph.meta_io import read_meta_graph
    meta = read_meta_graph(str(MODELS / "lstm_v2" / "model.meta"))
    body = next(f for f in meta.graph_def.library.function if f.signature.name.endswith("while_body_2926_rewritten"))
    tanh = next(n for n in body.node_def if n.op == "Tanh")
    missing = _unary_op_without_kernel()
    tanh.op = missing   # same signature as Tanh, no kernel
    path = tmp_path / "lstm.meta"
    path.write_bytes(meta.SerializeToString())
    assert main(["inspect", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unsupported_ops"] == {missing: {"count": 1, "nodes": [f"{body.signature.name}/{tanh.name}"]}}
    # Our independent count looks at every library body; here the only missing op is in a called one.
    assert _expected_unsupported(path, meta) == {missing: 1}
    assert report["function_op_counts"][missing] == 1
    assert sum(report["function_op_counts"].values()) == sum(len(f.node_def) for f in meta.graph_def.library.function)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "op types orchestrator cannot run (1 types, 1 nodes):" in out
    assert re.search(rf"^  {missing} +1 +{body.signature.name}/{tanh.name}$", out, re.M)


def test_supported_model_reports_none(capsys):
    assert main(["inspect", str(MODELS / "mlp_sgd" / "model.meta")]) == 0
    assert "op types orchestrator cannot run: none" in capsys.readouterr().out


def test_devices_are_canonical_with_node_counts(capsys):
    devices = json.loads((GRAPH_FIXTURES / "devices.json").read_text())["import"]["graph_def"]
    assert main(["inspect", str(GRAPH_FIXTURES / "small" / "devices.meta"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    expected: dict[str, int] = {}
    for device in devices.values():
        expected[device] = expected.get(device, 0) + 1
    assert report["devices"] == expected
    assert main(["inspect", str(GRAPH_FIXTURES / "small" / "devices.meta")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  /device:GPU:0 +3$", out, re.M) and re.search(r"^  /job:ps/task:0/device:CPU:0 +2$", out, re.M)


def test_meta_without_saver_def_shows_tfs_default_saver(capsys):
    assert main(["inspect", str(GRAPH_FIXTURES / "small" / "no_saver.meta"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["saver_def"]["restore_op_name"] == "save/restore_all"
    assert report["op_counts"]["SaveV2"] == 1 and report["op_counts"]["RestoreV2"] == 1


def _with_device(device: bytes) -> bytes:
    from orchestrator.graph.meta_io import read_meta_graph
    meta = read_meta_graph(str(GRAPH_FIXTURES / "small" / "devices.meta"))
    meta.graph_def.node[0].device = device.decode()
    return meta.SerializeToString()


def _scoped_export() -> bytes:
    from orchestrator.graph.export import export_meta_graph
    from orchestrator.graph.load import import_meta_graph
    from orchestrator.graph.model import Graph
    graph = Graph()
    with graph.as_default():
        import_meta_graph(str(GRAPH_FIXTURES / "small" / "unbound.meta"))
    return export_meta_graph(graph=graph, export_scope="t").SerializeToString()


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)
