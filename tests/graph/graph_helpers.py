"""Shared helpers for tests/graph: fixture paths and our view of a graph in TF's terms."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "graph"
TRAIN_META = FIXTURES / "train" / "model.meta"


def tf_views() -> dict[str, Any]:
    return json.loads((FIXTURES / "train" / "tf_view.json").read_text())


def elem(x: Any) -> Any:
    """Name a collection item the way scripts/tf_fixtures/graph_cases.py names TF's."""
    if isinstance(x, bytes):
        return "b:" + x.decode()
    if isinstance(x, str):   # as graph_cases.py: types are checked in test_graph_collections.py
        return "b:" + x
    if isinstance(x, (int, float)):
        return x
    if hasattr(x, "name"):
        return x.name
    for field in ("queue_name", "context_name"):
        if hasattr(x, field):
            return getattr(x, field)
    return repr(x)


def _inputs(node: Any) -> list[str]:
    # Control inputs are a set: TF re-sorts them by name after renaming.
    data = [i for i in node.input if not i.startswith("^")]
    return data + sorted(i for i in node.input if i.startswith("^"))


def nodes_view(graph: Any) -> list[dict[str, Any]]:
    return [{"name": n.name, "op": n.op, "device": n.device, "input": _inputs(n),
             "class": [c.decode() for c in n.attr["_class"].list.s] if "_class" in n.attr else []}
            for n in graph.as_graph_def().node]
