"""`orchestrator ckpt ls / verify / diff` on TF-made checkpoints and damaged copies."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from orchestrator.checkpoint import bundle_io, state_file
from orchestrator.cli import main


@pytest.fixture
def ckpt(fixtures_dir, tmp_path):
    src = fixtures_dir / "saver" / "partitioned_sharded"
    for path in src.glob("model.ckpt-0.*"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / "model.ckpt-0"


def test_ls_json_lists_names_dtypes_shapes_bytes_shards(ckpt, capsys):
    assert main(["ckpt", "ls", str(ckpt), "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["tensors"]}
    assert rows["emb"] == {"name": "emb", "dtype": "float32", "shape": [10, 4], "bytes": 160, "shards": [0],
                           "slices": 3}
    assert rows["global_step"]["dtype"] == "int64" and rows["global_step"]["shape"] == []
    assert rows["names"]["dtype"] == "string" and rows["names"]["bytes"] == 9


def test_ls_table_and_directory_resolves_latest(ckpt, capsys):
    state_file.update_checkpoint_state(str(ckpt.parent), str(ckpt))
    assert main(["ckpt", "ls", str(ckpt.parent)]) == 0
    out = capsys.readouterr().out
    assert f"checkpoint {ckpt}: 4 tensors" in out
    assert "emb           float32  [10, 4]  160    0 (3 slices)" in out


def test_verify_ok(ckpt, capsys):
    assert main(["ckpt", "verify", str(ckpt)]) == 0
    assert "OK (4 tensors" in capsys.readouterr().out


def _entry(ckpt, name):
    return bundle_io.read_index(str(ckpt)).entry(name)


def test_verify_bit_flip_names_tensor_and_file(ckpt, capsys):
    data = ckpt.parent / "model.ckpt-0.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[_entry(ckpt, "dense/kernel").offset + 3] ^= 0x10
    data.write_bytes(bytes(raw))
    assert main(["ckpt", "verify", str(ckpt)]) == 1
    out = capsys.readouterr().out
    assert "1 problem(s)" in out
    assert "'dense/kernel'" in out and "model.ckpt-0.data-00000-of-00001" in out and "crc32c mismatch" in out


def test_verify_truncated_and_missing_data(ckpt, capsys):
    data = ckpt.parent / "model.ckpt-0.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:100])
    assert main(["ckpt", "verify", str(ckpt)]) == 1
    out = capsys.readouterr().out
    assert "truncated" in out and "'names'" in out
    data.unlink()
    assert main(["ckpt", "verify", str(ckpt)]) == 1
    assert "data file" in capsys.readouterr().out


def test_verify_corrupt_index_exits_2_with_one_line(ckpt, capsys):
    index = ckpt.parent / "model.ckpt-0.index"
    raw = bytearray(index.read_bytes())
    raw[-1] ^= 0xFF
    index.write_bytes(bytes(raw))
    assert main(["ckpt", "verify", str(ckpt)]) == 2
    err = capsys.readouterr().err
    assert "bad table magic" in err and "Traceback" not in err
    raw[-1] ^= 0xFF
    raw[5] ^= 0x01                                # inside the data block: block crc fails
    index.write_bytes(bytes(raw))
    assert main(["ckpt", "verify", str(ckpt)]) == 2
    assert "crc32c" in capsys.readouterr().err


def test_missing_prefix_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "nothing"
    assert main(["ckpt", "ls", str(missing)]) == 2
    err = capsys.readouterr().err
    # The reader's resolve_prefix: names the path and what would have made it a checkpoint.
    assert f"{missing} is not a checkpoint" in err and f"{missing}.index" in err
    assert "Traceback" not in err


def test_directory_without_state_file_says_what_to_pass(tmp_path, capsys):
    assert main(["ckpt", "verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} is a directory without a 'checkpoint' state file" in err
    assert "model.ckpt-1000" in err   # an example of what to pass instead


def test_state_file_naming_a_missing_checkpoint(ckpt, capsys):
    state_file.update_checkpoint_state(str(ckpt.parent), str(ckpt.parent / "model.ckpt-9"))
    assert main(["ckpt", "ls", str(ckpt.parent)]) == 2
    err = capsys.readouterr().err
    assert "model.ckpt-9" in err and "does not exist" in err


def test_index_path_resolves_to_its_prefix(ckpt, capsys):
    assert main(["ckpt", "ls", f"{ckpt}.index", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["prefix"] == str(ckpt)


def test_a_file_that_is_no_v2_checkpoint_is_refused(ckpt, capsys):
    data = next(ckpt.parent.glob("model.ckpt-0.data-*"))
    assert main(["ckpt", "ls", str(data)]) == 2
    err = capsys.readouterr().err
    assert f"{data} is not a V2 checkpoint" in err and "PREFIX.index" in err


def test_diff_identical_and_changed(ckpt, tmp_path, capsys):
    assert main(["ckpt", "diff", str(ckpt), str(ckpt)]) == 0
    assert "4 equal, 0 changed" in capsys.readouterr().out
    values = dict(zip(["dense/kernel", "global_step", "names"],
                      bundle_io.read_tensors(str(ckpt), [("dense/kernel", ""), ("global_step", ""), ("names", "")])))
    kernel = values["dense/kernel"].copy()
    kernel[0, 0] += 0.5
    other = tmp_path / "other" / "m"
    bundle_io.write_checkpoint(str(other), [[("dense/kernel", "", kernel), ("global_step", "", np.int32(1)),
                                             ("names", "", np.array([b"a", b"zz"], dtype=object)),
                                             ("extra", "", np.zeros(2, np.float32))]])
    assert main(["ckpt", "diff", str(ckpt), str(other), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["only_in_a"] == ["emb"] and report["only_in_b"] == ["extra"]
    changed = {r["name"]: r for r in report["changed"]}
    assert changed["dense/kernel"]["max_abs"] == pytest.approx(0.5)
    assert changed["dense/kernel"]["num_different"] == 1
    assert changed["dense/kernel"]["max_rel"] == pytest.approx(0.5 / max(abs(kernel[0, 0]), abs(kernel[0, 0] - 0.5)))
    assert changed["global_step"]["dtype"] == ["int64", "int32"]
    assert changed["names"]["num_different"] == 1
    assert main(["ckpt", "diff", str(ckpt), str(other), "--atol", "1"]) == 1
    out = capsys.readouterr().out
    assert "only in A: emb" in out and "dense/kernel" not in out.split("only in B")[1]
