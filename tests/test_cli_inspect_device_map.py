"""`orchestrator inspect META --device-map RULES.yaml`: the planned rewrite or its problems, nothing run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main

MODEL = Path(__file__).resolve().parent / "fixtures" / "models" / "ps_worker"
META = str(MODEL / "model.meta")
LOCAL_CPU = "/job:localhost/replica:0/task:0/device:CPU:0"
RULES = [{"from": "/job:ps", "to": LOCAL_CPU},
         {"from": "/job:worker", "to": "/job:localhost/replica:0/task:0"},
         {"from": "/device:CPU:*", "to": "/device:CPU:*"}]


def write(tmp_path: Path, content) -> str:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(content))
    return str(path)


def test_json_plan_and_meta_file_untouched(tmp_path, capsys):
    before = (MODEL / "model.meta").read_bytes()
    assert main(["inspect", META, "--json", "--device-map", write(tmp_path, RULES)]) == 0
    section = json.loads(capsys.readouterr().out)["device_map"]
    assert section["ok"] and section["problems"] == []
    worker = section["mappings"][0]
    assert worker == {"old": "/job:worker/task:0", "new": "/job:localhost/replica:0/task:0", "nodes": 86,
                      "rule": 1, "example": "x"}
    assert {m["new"] for m in section["mappings"] if m["rule"] == 0} == {LOCAL_CPU}
    assert section["unplaced_nodes"] == 6
    assert (MODEL / "model.meta").read_bytes() == before


@pytest.mark.parametrize("shape", ["list", "mapping", "job config"])
def test_rules_file_shapes(tmp_path, capsys, shape):
    content = {"list": RULES[:2],
               "mapping": {"device_map": RULES[:2], "unmapped_devices": "keep"},
               "job config": {"model": {"meta_graph": "x.meta", "device_map": RULES[:2],
                                        "unmapped_devices": "keep"}, "train": {"steps": 3}}}[shape]
    status = main(["inspect", META, "--device-map", write(tmp_path, content)])
    out = capsys.readouterr().out
    assert "device map " in out and f"/job:ps/task:1               {LOCAL_CPU}" in out
    if shape == "list":   # unmapped "/device:CPU:*" is an error by default
        assert status == 1
        assert "device map problems (1; a job with this map would not start):" in out
        assert "/device:CPU:* (5 nodes, e.g. 'save/StaticRegexFullMatch')" in out
    else:
        assert status == 0 and "device map problems: none" in out


def test_typo_rule_is_reported(tmp_path, capsys):
    rules = RULES + [{"from": "/job:wrker", "to": ""}]
    assert main(["inspect", META, "--device-map", write(tmp_path, rules)]) == 1
    assert "rule 3 (from '/job:wrker' to '') rewrites no node: it matches no device" in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [
    ([{"from": "/job:ps", "to": "/job:x/gpu:0/cpu:0"}], "device_map rule 0 'to': invalid device spec"),
    ({"rules": RULES}, "unknown key 'rules'"),
    ({"unmapped_devices": "keep"}, "no device_map rules found"),
    ("just text", "expected a list of {from: ..., to: ...} rules"),
])
def test_bad_rules_file_exits_2_with_one_line(tmp_path, capsys, content, message):
    path = write(tmp_path, content)
    assert main(["inspect", META, "--device-map", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"orchestrator inspect: error: {path}") and message in err


def test_checkpoint_prefix_with_device_map_is_an_error(tmp_path, capsys):
    assert main(["inspect", str(MODEL / "ckpt" / "model.ckpt-0"), "--device-map", write(tmp_path, RULES)]) == 2
    assert "--device-map applies to a meta graph" in capsys.readouterr().err
