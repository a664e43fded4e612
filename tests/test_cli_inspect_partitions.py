"""``orchestrator inspect META --partitions``: the task actors and blocks a partitioned job would
run for one training step, with and without a device map; a refused plan exits 1 naming it."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from orchestrator.cli import main
from orchestrator.dtypes import as_dtype
from orchestrator.graph.export import export_meta_graph
from orchestrator.graph.model import Graph

REPO = Path(__file__).resolve().parents[1]
PS_WORKER = REPO / "tests" / "fixtures" / "models" / "ps_worker" / "model.meta"


def test_ps_worker_step_over_three_tasks(capsys):
    assert main(["inspect", str(PS_WORKER), "--partitions", "--json"]) == 0
    section = json.loads(capsys.readouterr().out)["partitions"]
    assert section["ok"] and section["train_op"] == "Adagrad"
    assert section["tasks"] == ["/job:ps/replica:0/task:0", "/job:ps/replica:0/task:1", "/job:worker/replica:0/task:0"]
    stages = [b["stage"] for b in section["blocks"]]
    assert stages == sorted(stages) and section["blocks"][-1]["example"] == "Adagrad"


def test_device_map_is_applied_first(capsys):
    rules = str(REPO / "configs" / "ps_worker_local.yaml")
    assert main(["inspect", str(PS_WORKER), "--partitions", "--device-map", rules]) == 0
    out = capsys.readouterr().out
    assert "1 task actor(s), 1 block(s) a step" in out and "/job:localhost/replica:0/task:0" in out


def test_a_refused_plan_exits_1(tmp_path, capsys):
    f32 = as_dtype(np.float32)
    g = Graph()
    handle = g.create_op("VarHandleOp", [], attrs={"dtype": f32, "shape": [2], "shared_name": "v"}, name="v",
                         device="/job:ps/task:0").outputs[0]
    value = g.create_op("Const", [], attrs={"value": np.ones(2, np.float32), "dtype": f32}, name="one",
                        device="/job:worker/task:0").outputs[0]
    train = g.create_op("AssignAddVariableOp", [handle, value], attrs={"dtype": f32}, name="train",
                        device="/job:worker/task:0")
    g.add_to_collection("train_op", train)
    path = tmp_path / "crossing.meta"
    path.write_bytes(export_meta_graph(graph=g).SerializeToString())
    assert main(["inspect", str(path), "--partitions"]) == 1
    assert "resource handle cannot cross tasks: 'v:0'" in capsys.readouterr().out


def test_partitions_of_a_checkpoint_prefix_is_an_error(capsys):
    prefix = str(REPO / "tests" / "fixtures" / "models" / "ps_worker" / "ckpt" / "model.ckpt-0")
    assert main(["inspect", prefix, "--partitions"]) == 2
    assert "--partitions applies to a meta graph, but this is a checkpoint prefix" in capsys.readouterr().err
