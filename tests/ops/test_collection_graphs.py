"""TensorArray / stack / TensorList kernels inside real graphs: tf.TensorArray in v1 and v2
while loops, tf.scan, tf.map_fn, split/concat, and the gradients TF builds through them, run
by our Session and compared with what TF's Session returned
(tests/fixtures/ops/collection_graphs, made by scripts/tf_fixtures/collection_graphs.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from orchestrator.exec.session import Session
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.model import Graph

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "ops" / "collection_graphs"
CASES = sorted(p.name for p in ROOT.iterdir() if (p / "manifest.json").exists())


V1_CASES = [c for c in CASES if json.loads((ROOT / c / "manifest.json").read_text())["control_flow"] == "v1"]


@pytest.mark.parametrize("case,lift_loops", [(c, True) for c in CASES] + [(c, False) for c in V1_CASES])
def test_graph_matches_tf(case: str, lift_loops: bool) -> None:
    """(v1 graphs run twice: loops lifted to compiled loop nodes, and on the frame executor.)"""
    folder = ROOT / case
    manifest = json.loads((folder / "manifest.json").read_text())
    graph = Graph()
    with graph.as_default():
        import_meta_graph(str(folder / "model.meta"))
    with np.load(folder / "cases.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    sess = Session(graph=graph)
    sess.lift_loops = lift_loops
    assert sess.unsupported_ops() == {}
    for k in range(manifest["runs"]):   # one session for all runs: nothing may leak between them
        feed = {name: arrays[f"feed/{k}/{name}"] for name in manifest["feeds"]}
        values = sess.run(manifest["fetches"], feed_dict=feed)
        for name, value in zip(manifest["fetches"], values):
            expected = arrays[f"out/{k}/{name}"]
            value = np.asarray(value)
            assert (value.dtype, value.shape) == (expected.dtype, expected.shape), (case, k, name)
            np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6, err_msg=f"{case} run {k} {name}")
    assert not sess.state.resources, "per-step TensorArrays/stacks must not stay in the session"


def test_cases_cover_both_control_flow_flavours() -> None:
    flavours = {json.loads((ROOT / c / "manifest.json").read_text())["control_flow"] for c in CASES}
    assert flavours == {"v1", "v2"}
