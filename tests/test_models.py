"""End-to-end resume numerics: every TF-made model fixture, restored and trained without TF.

For each ``tests/fixtures/models/<name>/manifest.json``: a fresh Graph, ``import_meta_graph``,
``Saver.restore`` of ``ckpt/model.ckpt-0``, then N steps of
``sess.run([train_op, loss(, summary)], feed_dict=feed_i)``; the per-step losses, the
summaries' bytes and every variable after N steps must match what TF computed on the same
path (``reference.npz``) within the manifest's tolerance (integers and bools exactly).
Also TF1's own ``import_meta_graph`` docs example, run verbatim through
``orchestrator.compat.v1``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from orchestrator.exec.session import Session
from orchestrator.exec.state import ResourceHandle
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.model import Graph

MODELS = Path(__file__).resolve().parent / "fixtures" / "models"
DOCS = Path(__file__).resolve().parent / "fixtures" / "docs_resume"
MODEL_NAMES = sorted(p.name for p in MODELS.iterdir() if (p / "manifest.json").exists())


def variable_value(sess: Session, name: str) -> np.ndarray:
    """The session's value of the variable whose op is ``name`` (ref or resource)."""
    op = sess.graph.get_operation_by_name(name)
    if op.type in ("VariableV2", "Variable"):
        return sess.state.ref_variables[name].get()
    assert op.type == "VarHandleOp", f"{name} is a {op.type}"
    shared = op.get_attr("shared_name").decode() or name
    key = ResourceHandle(op.get_attr("container").decode(), shared).key
    return sess.state.resources[key].get()


def assert_close(ours: np.ndarray, expected: np.ndarray, tolerance: dict, what: str) -> None:
    ours, expected = np.asarray(ours), np.asarray(expected)
    assert ours.shape == expected.shape, f"{what}: shape {ours.shape} != {expected.shape}"
    if expected.dtype.kind in "fc":
        np.testing.assert_allclose(ours, expected, rtol=tolerance["rtol"], atol=tolerance["atol"], err_msg=what)
    else:
        np.testing.assert_array_equal(ours, expected, err_msg=what)


def assert_same_summary(ours: bytes, expected: bytes, tolerance: dict, step: int) -> None:
    """Same tags, kinds and bucket layout; values within the trajectory tolerance.

    Not byte equality: a float32 MatMul summed in another order moves a logit by an ulp,
    which changes a histogram's min/sum bytes (the summary kernels have their own
    byte-exact op table).
    """
    from orchestrator.protos import summary_pb2

    a, b = summary_pb2.Summary.FromString(ours), summary_pb2.Summary.FromString(expected)
    assert [v.tag for v in a.value] == [v.tag for v in b.value], f"step {step}: summary tags"
    for va, vb in zip(a.value, b.value):
        what = f"step {step} summary {va.tag!r}"
        assert va.WhichOneof("value") == vb.WhichOneof("value"), what
        if vb.HasField("histo"):
            ha, hb = va.histo, vb.histo
            fields = ("min", "max", "num", "sum", "sum_squares")
            assert_close(np.array([getattr(ha, f) for f in fields]), np.array([getattr(hb, f) for f in fields]),
                         tolerance, what)
            assert list(ha.bucket_limit) == list(hb.bucket_limit), what
            assert list(ha.bucket) == list(hb.bucket), what
        else:
            assert_close(np.float32(va.simple_value), np.float32(vb.simple_value), tolerance, what)


V1_MODELS = [n for n in MODEL_NAMES if json.loads((MODELS / n / "manifest.json").read_text())["control_flow"] == "v1"]


@pytest.mark.parametrize("name,lift_loops", [(n, True) for n in MODEL_NAMES] + [(n, False) for n in V1_MODELS])
def test_model_resumes_like_tf(name: str, lift_loops: bool) -> None:
    """(v1 models run twice: loops lifted to compiled loop nodes, and on the frame executor.)"""
    folder = MODELS / name
    manifest = json.loads((folder / "manifest.json").read_text())
    reference = np.load(folder / "reference.npz")
    graph = Graph()
    with graph.as_default():
        saver = import_meta_graph(str(folder / "model.meta"))
    sess = Session(graph=graph)
    sess.lift_loops = lift_loops
    assert sess.unsupported_ops() == {}
    saver.restore(sess, str(folder / manifest["checkpoint"]))
    fetches = [manifest["train_op"], manifest["loss"]]
    if manifest.get("summary"):
        fetches.append(manifest["summary"])
    losses = []
    for step in range(manifest["steps"]):
        feed = {tensor: reference[f"feed/{step}/{tensor}"] for tensor in manifest["feeds"]}
        results = sess.run(fetches, feed_dict=feed)
        assert results[0] is None
        losses.append(results[1])
        if manifest.get("summary"):
            assert_same_summary(results[2], reference[f"summary/{step}"].tobytes(), manifest["tolerance"], step)
    assert_close(np.array(losses), reference["loss"], manifest["tolerance"], f"{name} losses")
    expected_path = {"none": "none", "v2": "none", "v1": "v1-lifted" if lift_loops else "v1"}[manifest["control_flow"]]
    assert {plan.control_flow for plan in sess._plans.values()} == {expected_path}
    finals = [key for key in reference.files if key.startswith("final/")]
    assert finals, "reference has no final variables"
    for key in finals:
        variable = key[len("final/"):]
        assert_close(variable_value(sess, variable), reference[key], manifest["tolerance"], f"{name} {variable}")


def test_tf1_docs_resume_example_verbatim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``tf.train.import_meta_graph`` docs loop, with only the import line changed."""
    import orchestrator.compat.v1 as tf

    manifest = json.loads((DOCS / "manifest.json").read_text())
    reference = np.load(DOCS / "reference.npz")
    shutil.copytree(DOCS / "my-save-dir", tmp_path / "my-save-dir")
    monkeypatch.chdir(tmp_path / "my-save-dir")
    with tf.Graph().as_default():
        # --- the documented example ---
        sess = tf.Session()
        new_saver = tf.train.import_meta_graph('my-model-10.meta')
        new_saver.restore(sess, 'my-model-10')
        train_op = tf.get_collection('train_op')[0]
        for step in range(manifest["steps"]):
            sess.run(train_op)
        # ------------------------------
        for key in (k for k in reference.files if k.startswith("final/")):
            assert_close(variable_value(sess, key[len("final/"):]), reference[key], manifest["tolerance"], key)

    with tf.Graph().as_default():   # the same resume, fetching the loss with the train op
        with tf.Session() as sess:
            saver = tf.train.import_meta_graph('my-model-10.meta')
            saver.restore(sess, 'my-model-10')
            train_op = tf.get_collection('train_op')[0]
            losses = [sess.run([train_op, manifest["loss"]])[1] for _ in range(manifest["steps"])]
    assert_close(np.array(losses), reference["loss"], manifest["tolerance"], "docs_resume losses")


@pytest.mark.parametrize("name", ["cnn", "adam_resource", "lstm_v1"])
def test_graph_init_op_initializes_every_variable(name: str) -> None:
    """A fresh start instead of a restore: the graph's own init op, then a training step."""
    folder = MODELS / name
    manifest = json.loads((folder / "manifest.json").read_text())
    reference = np.load(folder / "reference.npz")
    graph = Graph()
    with graph.as_default():
        import_meta_graph(str(folder / "model.meta"))
    sess = Session(graph=graph)
    variables = [key[len("final/"):] for key in reference.files if key.startswith("final/")]
    assert not any(ref.initialized for ref in [*sess.state.ref_variables.values(), *sess.state.resources.values()])
    sess.run("init")
    for variable in variables:
        assert variable_value(sess, variable).shape == reference[f"final/{variable}"].shape
    feed = {tensor: reference[f"feed/0/{tensor}"] for tensor in manifest["feeds"]}
    _, loss = sess.run([manifest["train_op"], manifest["loss"]], feed_dict=feed)
    assert np.isfinite(loss)
