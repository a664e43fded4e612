"""The resume job end to end on a TF-made run: config → import → restore → train → saves.

The fixture's reference.npz holds what TF computed on the same path, so the job's losses and
final variables are checked against TF, and an interrupted job restarted from its own latest
save must land exactly where the uninterrupted one does."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from orchestrator.checkpoint.state_file import get_checkpoint_state
from orchestrator.config import load_config, parse_config
from orchestrator.errors import InvalidArgumentError, OutOfRangeError
from orchestrator.job import run_job

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "tests" / "fixtures" / "models" / "mlp_sgd"


def job(tmp_path: Path, **train) -> dict:
    return {
        "name": "t",
        "model": {"meta_graph": str(MODEL / "model.meta")},
        "checkpoint": {"restore_from": str(MODEL / "ckpt"), "save_dir": str(tmp_path / "run"),
                       "save_every_steps": 5, "max_to_keep": 2},
        "train": {"steps": 20, "fetches": ["loss:0"], "log_every_steps": 0,
                  "feeds": {"file": str(MODEL / "reference.npz"), "cycle": False}, **train},
    }


def final_values(prefix: str) -> dict[str, np.ndarray]:
    from orchestrator.checkpoint.reader import load_checkpoint

    reader = load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def test_example_config_parses():
    cfg = load_config(str(REPO / "configs" / "mlp_sgd.yaml"))
    assert Path(cfg.model.meta_graph).exists() and Path(cfg.train.feeds.file).exists()


def test_job_matches_tensorflow_and_keeps_retention(tmp_path):
    ref = np.load(MODEL / "reference.npz")
    result = run_job(parse_config(job(tmp_path)), log=lambda _: None)
    losses = np.array([float(r["loss:0"]) for r in result.fetched])
    np.testing.assert_allclose(losses, ref["loss"], rtol=1e-4, atol=1e-6)
    assert (result.first_step, result.last_step) == (0, 20)
    assert [Path(p).name for p in result.saved] == [f"model.ckpt-{s}" for s in (5, 10, 15, 20)]
    state = get_checkpoint_state(str(tmp_path / "run"))
    assert [Path(p).name for p in state.all_model_checkpoint_paths] == ["model.ckpt-15", "model.ckpt-20"]
    assert not (tmp_path / "run" / "model.ckpt-5.index").exists()
    saved = final_values(result.saved[-1])
    for key in ref.files:
        if key.startswith("final/"):
            np.testing.assert_allclose(saved[key[6:]], ref[key], rtol=1e-4, atol=1e-6, err_msg=key)


def test_interrupted_job_resumes_from_its_own_latest_save(tmp_path):
    first = run_job(parse_config(job(tmp_path, steps=7)), log=lambda _: None)
    assert first.last_step == 7
    second = run_job(parse_config(job(tmp_path, steps=13)), log=lambda _: None)
    assert (second.first_step, second.last_step) == (7, 20)
    whole = run_job(parse_config(job(tmp_path / "whole")), log=lambda _: None)
    a, b = final_values(second.saved[-1]), final_values(whole.saved[-1])
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    # Retention counted the first job's saves too (max_to_keep 2).
    state = get_checkpoint_state(str(tmp_path / "run"))
    assert [Path(p).name for p in state.all_model_checkpoint_paths] == ["model.ckpt-15", "model.ckpt-20"]


def test_feeds_run_out_without_cycle(tmp_path):
    with pytest.raises(OutOfRangeError, match="global step 20"):
        run_job(parse_config(job(tmp_path, steps=21)), log=lambda _: None)


def test_missing_restore_source_is_named(tmp_path):
    raw = job(tmp_path)
    raw["checkpoint"]["restore_from"] = None
    with pytest.raises(InvalidArgumentError, match="restore_from is required"):
        run_job(parse_config(raw), log=lambda _: None)


def test_cli_run_writes_checkpoints(tmp_path, capsys):
    from orchestrator.cli import main

    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job(tmp_path, steps=5)))
    assert main(["run", str(path)]) == 0
    assert "5 steps" in capsys.readouterr().out
    assert (tmp_path / "run" / "model.ckpt-5.index").exists()
    shutil.rmtree(tmp_path / "run")
