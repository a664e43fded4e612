"""State file: TF's text format, relative paths, moved directories, missing checkpoints."""
from __future__ import annotations

import logging
import shutil

import fsspec
import pytest

from orchestrator.checkpoint import state_file as sf
from orchestrator.errors import DataLossError, InvalidArgumentError, NotFoundError

# What TF 2.21's Saver(max_to_keep=2) wrote after three saves into a relative directory.
TF_WRITTEN = b'model_checkpoint_path: "model.ckpt-3"\nall_model_checkpoint_paths: "model.ckpt-2"\n' \
             b'all_model_checkpoint_paths: "model.ckpt-3"\n'


def _touch_ckpt(prefix: str) -> None:
    with fsspec.open(prefix + ".index", "wb") as f:
        f.write(b"x")


def test_reads_tf_written_file_and_joins_relative_paths(tmp_path):
    (tmp_path / "checkpoint").write_bytes(TF_WRITTEN)
    state = sf.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == str(tmp_path / "model.ckpt-3")
    assert list(state.all_model_checkpoint_paths) == [str(tmp_path / "model.ckpt-2"),
                                                      str(tmp_path / "model.ckpt-3")]
    raw = sf.read_checkpoint_state(str(tmp_path))
    assert raw.model_checkpoint_path == "model.ckpt-3"


def test_written_text_matches_tf_layout_with_relative_paths(tmp_path):
    d = str(tmp_path)
    sf.update_checkpoint_state(d, f"{d}/model.ckpt-3", [f"{d}/model.ckpt-2", f"{d}/model.ckpt-3"])
    assert (tmp_path / "checkpoint").read_bytes() == TF_WRITTEN
    assert not [p for p in tmp_path.iterdir() if p.name != "checkpoint"]   # no temp file left


def test_latest_is_appended_when_missing_from_all_paths(tmp_path):
    d = str(tmp_path)
    sf.update_checkpoint_state(d, f"{d}/b", [f"{d}/b", f"{d}/a"])
    raw = sf.read_checkpoint_state(d)
    assert list(raw.all_model_checkpoint_paths) == ["a", "b"]


def test_moved_directory_still_resumes(tmp_path):
    src = tmp_path / "run"
    src.mkdir()
    _touch_ckpt(str(src / "model.ckpt-7"))
    sf.update_checkpoint_state(str(src), str(src / "model.ckpt-7"))
    dst = tmp_path / "moved"
    shutil.copytree(src, dst)
    shutil.rmtree(src)
    assert sf.latest_checkpoint(str(dst)) == str(dst / "model.ckpt-7")


def test_absolute_paths_in_file_are_honoured(tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    _touch_ckpt(str(other / "m-1"))
    run = tmp_path / "run"
    run.mkdir()
    sf.update_checkpoint_state(str(run), str(other / "m-1"))        # outside: kept absolute
    assert sf.read_checkpoint_state(str(run)).model_checkpoint_path == str(other / "m-1")
    assert sf.latest_checkpoint(str(run)) == str(other / "m-1")
    sf.update_checkpoint_state(str(run), str(run / "m-2"), save_relative_paths=False)
    assert sf.read_checkpoint_state(str(run)).model_checkpoint_path == str(run / "m-2")


def test_relative_save_dir_like_tf(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sf.update_checkpoint_state("run1", "run1/model.ckpt-3")
    assert sf.read_checkpoint_state("run1").model_checkpoint_path == "model.ckpt-3"
    assert sf.get_checkpoint_state("run1").model_checkpoint_path == "run1/model.ckpt-3"


def test_memory_url_round_trip():
    d = "memory://h5-state/run"
    _touch_ckpt(d + "/model.ckpt-10")
    sf.update_checkpoint_state(d, d + "/model.ckpt-10", [d + "/model.ckpt-5", d + "/model.ckpt-10"])
    raw = sf.read_checkpoint_state(d)
    assert raw.model_checkpoint_path == "model.ckpt-10"
    assert sf.latest_checkpoint(d) == d + "/model.ckpt-10"
    assert list(sf.get_checkpoint_state(d).all_model_checkpoint_paths)[0] == d + "/model.ckpt-5"


def test_no_state_file_gives_none(tmp_path):
    assert sf.get_checkpoint_state(str(tmp_path)) is None
    assert sf.latest_checkpoint(str(tmp_path / "absent")) is None
    with pytest.raises(NotFoundError, match="no checkpoint state file"):
        sf.latest_checkpoint(str(tmp_path), require=True)


def test_state_file_pointing_at_missing_checkpoint(tmp_path, caplog):
    (tmp_path / "checkpoint").write_bytes(TF_WRITTEN)
    with caplog.at_level(logging.WARNING):
        assert sf.latest_checkpoint(str(tmp_path)) is None          # TF's behaviour
    assert "model.ckpt-3.index does not exist" in caplog.text
    with pytest.raises(NotFoundError, match=r"model\.ckpt-3\.index does not exist"):
        sf.latest_checkpoint(str(tmp_path), require=True)
    _touch_ckpt(str(tmp_path / "model.ckpt-3"))
    assert sf.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model.ckpt-3")


def test_v1_single_file_checkpoint_counts(tmp_path):
    (tmp_path / "model-v1").write_bytes(b"table")
    sf.update_checkpoint_state(str(tmp_path), str(tmp_path / "model-v1"))
    assert sf.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model-v1")


def test_garbage_state_file_is_an_error_naming_it(tmp_path):
    (tmp_path / "checkpoint").write_bytes(b"garbage {{")
    with pytest.raises(DataLossError, match=r"checkpoint: not a text-format CheckpointState"):
        sf.get_checkpoint_state(str(tmp_path))
    (tmp_path / "checkpoint").write_bytes(b"\xff\xfe")
    with pytest.raises(DataLossError):
        sf.latest_checkpoint(str(tmp_path))


def test_empty_model_path_is_invalid(tmp_path):
    (tmp_path / "checkpoint").write_bytes(b'all_model_checkpoint_paths: "a"\n')
    with pytest.raises(InvalidArgumentError, match="model_checkpoint_path is empty"):
        sf.get_checkpoint_state(str(tmp_path))


def test_custom_latest_filename_and_conflict(tmp_path):
    d = str(tmp_path)
    sf.update_checkpoint_state(d, f"{d}/m-1", latest_filename="latest_ckpt")
    assert sf.get_checkpoint_state(d, "latest_ckpt").model_checkpoint_path == f"{d}/m-1"
    assert sf.get_checkpoint_state(d) is None
    with pytest.raises(InvalidArgumentError, match="conflicts with the checkpoint state file"):
        sf.update_checkpoint_state(d, f"{d}/checkpoint")


def test_timestamps_round_trip_and_mismatch(tmp_path):
    d = str(tmp_path)
    sf.update_checkpoint_state(d, f"{d}/b", [f"{d}/a", f"{d}/b"], all_model_checkpoint_timestamps=[1.0, 2.0],
                               last_preserved_timestamp=0.5)
    raw = sf.read_checkpoint_state(d)
    assert list(raw.all_model_checkpoint_timestamps) == [1.0, 2.0]
    assert raw.last_preserved_timestamp == 0.5
    with pytest.raises(InvalidArgumentError, match="2 checkpoint paths but 1 timestamps"):
        sf.update_checkpoint_state(d, f"{d}/b", [f"{d}/a", f"{d}/b"], all_model_checkpoint_timestamps=[1.0])
