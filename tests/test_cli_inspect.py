"""`orchestrator inspect` on TF-made meta graphs, and its errors (exit 2, one clear line)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from orchestrator import storage
from orchestrator.cli import main

GRAPH_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "graph"
META = GRAPH_FIXTURES / "train" / "model.meta"


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
    unsupported = report["unsupported_ops"]
    assert isinstance(unsupported, dict)
    for op_type, nodes in unsupported.items():
        if op_type != "error":
            assert nodes and all(isinstance(n, str) for n in nodes)


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


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)
