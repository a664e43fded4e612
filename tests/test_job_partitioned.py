"""cluster.partition_by_device: the TF-made parameter-server run (variables on /job:ps/task:0..1,
compute on /job:worker/task:0) resumed with each task's partition on its own actor of a real
local Ray cluster. Losses, checkpoints and final variables must be TF's, as in one process."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from orchestrator.checkpoint.reader import load_checkpoint
from orchestrator.config import parse_config
from orchestrator.job import run_job

MODEL = Path(__file__).resolve().parent / "fixtures" / "models" / "ps_worker"
MANIFEST = json.loads((MODEL / "manifest.json").read_text())


def job(tmp_path: Path, steps: int, partitioned: bool) -> dict:
    return {
        "model": {"meta_graph": str(MODEL / "model.meta")},
        "checkpoint": {"restore_from": str(MODEL / "ckpt"), "save_dir": str(tmp_path / "run"), "save_every_steps": 10},
        "train": {"steps": steps, "fetches": ["loss:0"], "log_every_steps": 0,
                  "feeds": {"file": str(MODEL / "reference.npz"), "cycle": False,
                            "first_step": MANIFEST["warmup_steps"]}},
        "cluster": {"partition_by_device": partitioned},
    }


def test_ps_worker_run_on_task_actors_matches_tensorflow(ray, tmp_path):
    ref = np.load(MODEL / "reference.npz")
    lines: list[str] = []
    result = run_job(parse_config(job(tmp_path, 20, True)), log=lines.append)
    (restored,) = [line for line in lines if "task actor(s)" in line]
    # The variables live on the ps tasks (round robin); the worker and the default task hold none.
    assert "on 4 task actor(s)" in restored and "/job:worker/replica:0/task:0 (0 variables)" in restored
    assert "/job:ps/replica:0/task:0 (0 variables)" not in restored and "/job:ps/replica:0/task:1 (0" not in restored
    losses = np.array([float(r["loss:0"]) for r in result.fetched])
    np.testing.assert_allclose(losses, ref["loss"], rtol=1e-5, atol=1e-6)
    saved = load_checkpoint(result.saved[-1])
    for key in ref.files:
        if key.startswith("final/"):
            np.testing.assert_allclose(saved.get_tensor(key[6:]), ref[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_restarted_partitioned_run_continues_from_its_own_save(ray, tmp_path):
    first = run_job(parse_config(job(tmp_path, 10, True)), log=lambda _: None)
    second = run_job(parse_config(job(tmp_path, 10, True)), log=lambda _: None)
    assert (first.last_step, second.first_step, second.last_step) == (12, 12, 22)
    whole = run_job(parse_config(job(tmp_path / "whole", 20, False)), log=lambda _: None)
    got = [float(r["loss:0"]) for r in first.fetched + second.fetched]
    assert got == [float(r["loss:0"]) for r in whole.fetched]


def test_shipped_example_config_is_this_run():
    from orchestrator.config import load_config

    cfg = load_config(str(Path(__file__).resolve().parent.parent / "configs" / "ps_worker_ray.yaml"))
    assert cfg.cluster.partition_by_device and Path(cfg.model.meta_graph) == MODEL / "model.meta"
    assert cfg.train.feeds.first_step == MANIFEST["warmup_steps"]
