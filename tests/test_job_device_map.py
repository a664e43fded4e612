"""model.device_map in the job: config validation, and the TF-made ps/worker run resumed on one
local CPU with TF's losses; TF itself runs our remapped export without clear_devices."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from orchestrator.config import parse_config
from orchestrator.errors import InvalidArgumentError
from orchestrator.graph.device_map import DeviceMap
from orchestrator.graph.export import export_meta_graph
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.model import Graph
from orchestrator.job import run_job

MODEL = Path(__file__).resolve().parent / "fixtures" / "models" / "ps_worker"
MANIFEST = json.loads((MODEL / "manifest.json").read_text())
WARMUP = MANIFEST["warmup_steps"]
LOCAL_TASK = "/job:localhost/replica:0/task:0"
RULES = [{"from": "/job:ps", "to": LOCAL_TASK + "/device:CPU:0"},
         {"from": "/job:worker", "to": LOCAL_TASK},
         {"from": "/device:CPU:*", "to": "/device:CPU:*"}]


def job(tmp_path: Path, steps: int = 20, **model) -> dict:
    return {
        "name": "ps_worker_local",
        "model": {"meta_graph": str(MODEL / "model.meta"), "device_map": RULES, **model},
        "checkpoint": {"restore_from": str(MODEL / "ckpt"), "save_dir": str(tmp_path / "run")},
        "train": {"steps": steps, "fetches": ["loss:0"], "log_every_steps": 0,
                  # The checkpoint was saved after the manifest's warmup steps: feed/0 is that global step's.
                  "feeds": {"file": str(MODEL / "reference.npz"), "cycle": False, "first_step": WARMUP}},
    }


# ------------------------------------------------------------------ config

def test_config_defaults_and_values(tmp_path):
    cfg = parse_config(job(tmp_path))
    assert cfg.model.device_map == tuple(RULES)
    assert (cfg.model.unmapped_devices, cfg.model.allow_unused_device_rules) == ("error", False)
    plain = parse_config({"model": {"meta_graph": "m.meta"}})
    assert plain.model.device_map == () and plain.model.unmapped_devices == "error"
    kept = parse_config(job(tmp_path, unmapped_devices="keep", allow_unused_device_rules=True))
    assert (kept.model.unmapped_devices, kept.model.allow_unused_device_rules) == ("keep", True)
    assert parse_config({"model": {"meta_graph": "m.meta", "device_map": None}}).model.device_map == ()


@pytest.mark.parametrize("model, message", [
    ({"clear_devices": True}, r"job\.yaml: model\.clear_devices and model\.device_map are both set"),
    ({"device_map": {"from": "/job:ps", "to": ""}}, r"model\.device_map must be a list"),
    ({"device_map": [{"from": "/job:ps", "to": "/job:x/task:y"}]},
     r"job\.yaml: device_map rule 0 'to': invalid device spec '/job:x/task:y'"),
    ({"device_map": [{"from": "/job:ps", "to": "", "form": ""}]}, r"rule 0 .*unknown key\(s\) 'form'"),
    ({"unmapped_devices": "ignore"}, r"model\.unmapped_devices must be one of error, keep, found 'ignore'"),
    ({"allow_unused_device_rules": "yes"}, r"model\.allow_unused_device_rules expected bool"),
    ({"device_maps": []}, r"unknown key 'model\.device_maps'"),
])
def test_config_errors(tmp_path, model, message):
    raw = job(tmp_path, **model)
    with pytest.raises(InvalidArgumentError, match=message):
        parse_config(raw, source="job.yaml")


# ------------------------------------------------------------------ the job

def test_ps_worker_job_on_one_local_cpu_matches_tensorflow(tmp_path):
    ref = np.load(MODEL / "reference.npz")
    logged: list[str] = []
    result = run_job(parse_config(job(tmp_path)), log=logged.append)
    losses = np.array([float(r["loss:0"]) for r in result.fetched])
    np.testing.assert_allclose(losses, ref["loss"], rtol=1e-4, atol=1e-6)
    assert (result.first_step, result.last_step) == (WARMUP, WARMUP + 20)
    # One log line per device mapping, before the restore.
    mapping_lines = [line for line in logged if line.startswith("device ")]
    assert f"device /job:worker/task:0 -> {LOCAL_TASK}" in mapping_lines[0]
    assert len(mapping_lines) == 6
    assert logged.index(mapping_lines[-1]) < next(i for i, line in enumerate(logged) if line.startswith("restored"))


def test_unmapped_devices_fail_before_restore(tmp_path):
    raw = job(tmp_path, device_map=RULES[:1])
    with pytest.raises(InvalidArgumentError, match=r"2 device\(s\) match no rule .*: /job:worker/task:0 \(86 nodes"):
        run_job(parse_config(raw, source="job.yaml"), log=lambda _: None)
    assert not (tmp_path / "run").exists()


@pytest.mark.tf
def test_tensorflow_runs_the_remapped_export_without_clear_devices(tmp_path, run_tf):
    graph = Graph()
    with graph.as_default():
        saver = import_meta_graph(str(MODEL / "model.meta"))
    DeviceMap.from_rules(RULES).apply(graph)
    remapped = tmp_path / "remapped.meta"
    export_meta_graph(str(remapped), graph=graph, saver_def=saver.saver_def)
    code = r'''
import json, sys
import numpy as np
import tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
original, remapped, ckpt, ref_path, train_op = sys.argv[1:6]
ref = np.load(ref_path)
feed_names = ("x:0", "y:0")

def one_step(meta):
    graph = tf1.Graph()
    with graph.as_default():
        saver = tf1.train.import_meta_graph(meta)   # no clear_devices: the devices are used as written
        with tf1.Session(graph=graph) as sess:      # a plain local session: /job:localhost only
            saver.restore(sess, ckpt)
            feed = {graph.get_tensor_by_name(n): ref["feed/0/" + n] for n in feed_names}
            loss, _ = sess.run([graph.get_tensor_by_name("loss:0"), graph.get_operation_by_name(train_op)], feed)
            return float(loss)

try:
    one_step(original)
    failed = None
except Exception as exc:   # the point of the rewrite: the ps/worker layout does not run locally
    failed = type(exc).__name__ + ": " + str(exc).splitlines()[0]
print(json.dumps({"original_error": failed, "loss": one_step(remapped)}))
'''
    out = json.loads(run_tf(code, str(MODEL / "model.meta"), str(remapped), str(MODEL / MANIFEST["checkpoint"]),
                            str(MODEL / "reference.npz"), MANIFEST["train_op"]).strip().splitlines()[-1])
    assert out["original_error"].startswith("InvalidArgumentError")   # TF cannot place /job:ps nodes locally
    np.testing.assert_allclose(out["loss"], np.load(MODEL / "reference.npz")["loss"][0], rtol=1e-5)


def test_shipped_example_config_matches_the_tested_rules():
    from orchestrator.config import load_config

    cfg = load_config(str(Path(__file__).resolve().parents[1] / "configs" / "ps_worker_local.yaml"))
    assert list(cfg.model.device_map) == RULES
    assert cfg.train.feeds.first_step == WARMUP and Path(cfg.model.meta_graph) == MODEL / "model.meta"
