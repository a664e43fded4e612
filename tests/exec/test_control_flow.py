"""v1 frames and v2 functional control flow against what real TF returned.

Fixtures: ``tests/fixtures/exec/<case>/`` made by ``scripts/tf_fixtures/exec_cases.py``
(nested v1 while loops with a cond inside, a v1 loop inside an untaken cond branch,
tf.function + While + If + Case in the function library).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from orchestrator.exec.session import Session
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.model import Graph

EXEC = Path(__file__).resolve().parent.parent / "fixtures" / "exec"
CASES = sorted(p.name for p in EXEC.iterdir() if (p / "manifest.json").exists())


def load(case: str) -> tuple[Session, dict, dict]:
    folder = EXEC / case
    manifest = json.loads((folder / "manifest.json").read_text())
    graph = Graph()
    with graph.as_default():
        import_meta_graph(str(folder / "model.meta"))
    return Session(graph=graph), manifest, dict(np.load(folder / "cases.npz"))


@pytest.mark.parametrize("lift_loops", [True, False])
@pytest.mark.parametrize("case", CASES)
def test_matches_tf(case: str, lift_loops: bool) -> None:
    sess, manifest, arrays = load(case)
    sess.lift_loops = lift_loops
    assert sess.unsupported_ops() == {}
    for k in range(manifest["runs"]):
        feed = {name: arrays[f"feed/{k}/{name}"] for name in manifest["feeds"]}
        values = sess.run(manifest["fetches"], feed_dict=feed)
        for name, value in zip(manifest["fetches"], values):
            expected = arrays[f"out/{k}/{name}"]
            assert np.asarray(value).dtype == expected.dtype, (case, k, name)
            np.testing.assert_allclose(value, expected, rtol=1e-6, atol=1e-6, err_msg=f"{case} run {k} {name}")


@pytest.mark.parametrize("case,path", [("while_v1_nested", "v1"), ("cond_v1_loop", "v1"), ("functional_v2", "none"),
                                       ("while_v1_grad", "v1-lifted")])
def test_executor_choice(case: str, path: str) -> None:
    """A v1 cond anywhere keeps the frame executor (dead tensors); v2 graphs are flat."""
    sess, manifest, arrays = load(case)
    elements = [sess.graph.get_tensor_by_name(n) for n in manifest["fetches"]]
    feeds = [sess.graph.get_tensor_by_name(n) for n in sorted(manifest["feeds"])]
    assert sess.plan(elements, feeds).control_flow == path


def test_function_bodies_are_compiled_once() -> None:
    sess, manifest, arrays = load("functional_v2")
    feed = {name: arrays[f"feed/0/{name}"] for name in manifest["feeds"]}
    sess.run(manifest["fetches"], feed_dict=feed)
    compiled = dict(sess._functions._cache)
    assert compiled, "no function body was compiled"
    sess.run(manifest["fetches"], feed_dict=feed)
    assert {k: id(v) for k, v in sess._functions._cache.items()} == {k: id(v) for k, v in compiled.items()}
