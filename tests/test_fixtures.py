"""The committed TF-made fixtures are complete and agree with their manifests.

Every other test trusts these files, so a half-regenerated or hand-edited fixture must fail
here first: missing files, manifest fields of the wrong kind, reference arrays without N
steps, variables the checkpoint does not hold (the last one checked by real TF).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODELS = sorted(p for p in (FIXTURES / "models").glob("*") if (p / "manifest.json").exists())
CHECKPOINTS = sorted(p for p in (FIXTURES / "checkpoints").glob("*") if p.is_dir())
MANIFEST_KEYS = {"name", "description", "train_op", "loss", "feeds", "steps", "checkpoint",
                 "variable_kind", "control_flow", "op_types", "tolerance"}
TENSOR_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/]*:\d+$")


def _manifest(model: Path) -> dict:
    return json.loads((model / "manifest.json").read_text())


def test_required_models_present() -> None:
    names = {p.name for p in MODELS}
    assert "mlp_sgd" in names, f"models found: {sorted(names)}"


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.name)
def test_manifest_fields(model: Path) -> None:
    m = _manifest(model)
    missing = MANIFEST_KEYS - set(m)
    assert not missing, f"{model.name}: manifest lacks {sorted(missing)}"
    assert m["name"] == model.name
    assert m["steps"] >= 20
    assert m["variable_kind"] in ("ref", "resource")
    assert m["control_flow"] in ("none", "v1", "v2")
    assert TENSOR_NAME.match(m["loss"]), m["loss"]
    assert ":" not in m["train_op"] and m["train_op"]
    assert m["feeds"] and all(TENSOR_NAME.match(f) for f in m["feeds"])
    assert m["op_types"] == sorted(set(m["op_types"])) and "Placeholder" in m["op_types"]
    assert set(m["tolerance"]) == {"rtol", "atol"} and all(v > 0 for v in m["tolerance"].values())
    if m["control_flow"] == "v1":
        assert {"Enter", "Exit", "Merge", "Switch", "NextIteration"} <= set(m["op_types"])
    if m["control_flow"] == "v2":
        assert {"While", "StatelessWhile"} & set(m["op_types"])
    var_ops = {"VariableV2"} if m["variable_kind"] == "ref" else {"VarHandleOp"}
    assert var_ops & set(m["op_types"]), f"{model.name}: no {var_ops} op for a {m['variable_kind']} model"


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.name)
def test_checkpoint_files(model: Path) -> None:
    m = _manifest(model)
    prefix = model / m["checkpoint"]
    assert (model / "model.meta").stat().st_size > 0
    assert prefix.with_name(prefix.name + ".index").exists()
    data = sorted(prefix.parent.glob(prefix.name + ".data-*"))
    assert data, f"{model.name}: no data files for {prefix}"
    total = {int(p.name.rsplit("-of-", 1)[1]) for p in data}
    assert total == {len(data)}, f"{model.name}: data shards {[p.name for p in data]}"
    state = (prefix.parent / "checkpoint").read_text()
    assert f'model_checkpoint_path: "{prefix.name}"' in state, state
    assert "/work/" not in state, "state file holds a machine-specific absolute path"


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.name)
def test_reference_arrays(model: Path) -> None:
    m = _manifest(model)
    n = m["steps"]
    with np.load(model / "reference.npz") as ref:
        keys = set(ref.files)
        assert ref["loss"].shape == (n,) and np.all(np.isfinite(ref["loss"]))
        for i in range(n):
            for feed in m["feeds"]:
                assert f"feed/{i}/{feed}" in keys, f"{model.name}: no feed/{i}/{feed}"
        assert not any(k.startswith(f"feed/{n}/") for k in keys)
        finals = [k for k in keys if k.startswith("final/")]
        assert finals, f"{model.name}: no final variable values"
        assert any(k.endswith("global_step") for k in finals), f"{model.name}: no global_step"
        steps = {ref[k].item() for k in finals if k.endswith("global_step")}
        assert len(steps) == 1 and steps.pop() >= n
        if m.get("summary"):
            assert all(f"summary/{i}" in keys for i in range(n))
        # a trajectory that does not move would make every executor look right
        assert ref["loss"][0] != ref["loss"][-1]


_TF_CHECK = r"""
import json, sys
import tensorflow as tf
import numpy as np
out = {}
for model in sys.argv[1:]:
    m = json.load(open(model + "/manifest.json"))
    reader = tf.train.load_checkpoint(model + "/" + m["checkpoint"])
    meta = tf.compat.v1.MetaGraphDef()
    meta.ParseFromString(open(model + "/model.meta", "rb").read())
    types = {n.op for n in meta.graph_def.node}
    for f in meta.graph_def.library.function:
        types.update(n.op for n in f.node_def)
    nodes = {n.name for n in meta.graph_def.node}
    out[model] = {"keys": reader.get_variable_to_shape_map(), "types": sorted(types),
                  "train_op": m["train_op"] in nodes, "loss": m["loss"].split(":")[0] in nodes,
                  "feeds": all(f.split(":")[0] in nodes for f in m["feeds"])}
print(json.dumps(out))
"""


def test_tf_reads_models(run_tf) -> None:
    """Real TF: checkpoints hold every non-partitioned variable, op_types and names match."""
    report = json.loads(run_tf(_TF_CHECK, *map(str, MODELS)))
    for model in MODELS:
        got = report[str(model)]
        m = _manifest(model)
        assert got["types"] == m["op_types"], model.name
        assert got["train_op"] and got["loss"] and got["feeds"], (model.name, got)
        with np.load(model / "reference.npz") as ref:
            for key in (k for k in ref.files if k.startswith("final/")):
                name = key[len("final/"):]
                # a partition (emb/part_1, emb/part_1/Adagrad) is saved under its full name
                full = re.sub(r"/part_\d+", "", name)
                assert full in got["keys"], f"{model.name}: {full} not in checkpoint"
                if full == name:
                    assert list(ref[key].shape) == got["keys"][name], (model.name, name)
                else:
                    assert ref[key].shape[1:] == tuple(got["keys"][full][1:]), (model.name, name)


def test_regeneration_is_byte_stable(tf_python, tmp_path) -> None:
    """Re-running the generator rewrites the committed bytes (seeds fixed, maps sorted)."""
    import subprocess
    script = Path(__file__).resolve().parent.parent / "scripts" / "make_fixtures.py"
    proc = subprocess.run([tf_python, str(script), "--modules", "models_rnn", "--only", "while_v1",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    made = tmp_path / "models" / "while_v1"
    committed = FIXTURES / "models" / "while_v1"
    files = sorted(p.relative_to(made) for p in made.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    for rel in files:
        assert (made / rel).read_bytes() == (committed / rel).read_bytes(), f"{rel} differs"


def test_docs_resume_fixture() -> None:
    root = FIXTURES / "docs_resume"
    m = json.loads((root / "manifest.json").read_text())
    state = (root / "my-save-dir" / "checkpoint").read_text()
    assert 'model_checkpoint_path: "my-model-10"' in state
    for step in (0, 5, 10):
        for suffix in (".meta", ".index", ".data-00000-of-00001"):
            assert (root / "my-save-dir" / f"my-model-{step}{suffix}").exists()
    assert (root / m["meta"]).exists() and m["feeds"] == []
    with np.load(root / "reference.npz") as ref:
        assert ref["loss"].shape == (m["steps"],) and ref["loss"][-1] < ref["loss"][0]
        assert {"final/w", "final/b"} <= set(ref.files)


CASES = {"all_dtypes", "partitioned", "sharded", "v1_format", "multi_step", "bigger"}


def _expected(case: Path) -> dict:
    return json.loads((case / "expected.json").read_text())


def test_checkpoint_cases_present() -> None:
    assert CASES <= {p.name for p in CHECKPOINTS}, sorted(p.name for p in CHECKPOINTS)


@pytest.mark.parametrize("case", CHECKPOINTS, ids=lambda p: p.name)
def test_checkpoint_case_consistent(case: Path) -> None:
    exp = _expected(case)
    on_disk = sorted(p.name for p in case.iterdir() if not p.name.startswith("expected."))
    assert on_disk == exp["files"], f"{case.name}: files {on_disk} vs expected.json {exp['files']}"
    assert any(f == exp["prefix"] or f.startswith(exp["prefix"] + ".") for f in on_disk)
    with np.load(case / "expected.npz") as arrays:
        assert set(arrays.files) == {n for n, t in exp["tensors"].items() if t["npz"]}
        for name, t in exp["tensors"].items():
            if t["dtype"] == "string":
                assert len(t["strings"]) == int(np.prod(t["shape"])), name
            else:
                assert list(arrays[name].shape) == t["shape"], name
                assert arrays[name].dtype == np.dtype("uint16" if t["bits"] else t["dtype"]), name


def test_all_dtypes_covers_every_dtype() -> None:
    exp = _expected(FIXTURES / "checkpoints" / "all_dtypes")["tensors"]
    dtypes = {t["dtype"] for t in exp.values()}
    assert dtypes == {"float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64",
                      "uint8", "uint16", "uint32", "uint64", "bool", "complex64", "complex128",
                      "string"}
    assert any(t["shape"] == [] for t in exp.values())
    assert len({t["dtype"] for t in exp.values() if 0 in t["shape"]}) >= 3
    strings = [s for t in exp.values() if t["dtype"] == "string" for s in t["strings"]]
    assert "" in strings and any(len(s) > 200 for s in strings)


def test_partition_slices_tile_full_shape() -> None:
    exp = _expected(FIXTURES / "checkpoints" / "partitioned")
    for full, parts in exp["slices"].items():
        shape = exp["tensors"][full]["shape"]
        covered = np.zeros(shape, dtype=int)
        for p in parts:
            assert p["full_shape"] == shape
            covered[tuple(slice(o, o + s) for o, s in zip(p["offset"], p["size"]))] += 1
        assert np.all(covered == 1), f"{full}: slices do not tile {shape}"
    sizes = [p["size"][0] for p in exp["slices"]["rows"]]
    assert sizes == [4, 3, 3]


def test_multi_step_retention_and_values() -> None:
    case = FIXTURES / "checkpoints" / "multi_step"
    exp = _expected(case)
    state = (case / "checkpoint").read_text()
    for kept in exp["kept"]:
        assert f'all_model_checkpoint_paths: "{kept}"' in state
        assert (case / f"{kept}.index").exists()
    for gone in exp["deleted"]:
        assert not list(case.glob(gone + ".*")) and gone not in state
    with np.load(case / "expected.npz") as arrays:
        latest = exp["checkpoints"][exp["prefix"]]
        np.testing.assert_array_equal(arrays["w"], latest["w"])
        assert arrays["global_step"] == latest["global_step"]


def test_bigger_matches_its_recipe() -> None:
    case = FIXTURES / "checkpoints" / "bigger"
    with np.load(case / "expected.npz") as arrays:
        big = arrays["big/kernel"]
    want = ((np.arange(768 * 1024) % 1000).astype(np.float32) * 0.001 - 0.5).reshape(768, 1024)
    np.testing.assert_array_equal(big, want)
    assert (case / "model.ckpt.data-00000-of-00001").stat().st_size >= big.nbytes


def test_tf_read_checkpoint_script(tf_python, tmp_path) -> None:
    """The reusable reader script reproduces the committed expectations (strings included)."""
    import subprocess
    script = Path(__file__).resolve().parent.parent / "scripts" / "tf_read_checkpoint.py"
    case = FIXTURES / "checkpoints" / "all_dtypes"
    proc = subprocess.run([tf_python, str(script), str(case / "model.ckpt"), str(tmp_path / "o.npz")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads((tmp_path / "o.json").read_text())["tensors"]
    assert got == _expected(case)["tensors"]
    with np.load(tmp_path / "o.npz") as a, np.load(case / "expected.npz") as b:
        for name in b.files:
            assert a[name].tobytes() == b[name].tobytes(), name
