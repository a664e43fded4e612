"""import_meta_graph returns a real Saver: from the saver_def, TF's default one, or None."""
from __future__ import annotations

import json

import pytest

from graph_helpers import FIXTURES, TRAIN_META
from orchestrator.checkpoint.bundle_io import read_index
from orchestrator.checkpoint.saver import Saver
from orchestrator.graph.export import export_meta_graph
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.meta_io import read_meta_graph
from orchestrator.graph.model import Graph

DEFAULT = json.loads((FIXTURES / "import_details.json").read_text())["default_saver"]
NO_SAVER = FIXTURES / "small" / "no_saver.meta"
TRAIN_CKPT = FIXTURES / "train" / "model.ckpt-3"


def _import(source, scopes=(None,)) -> tuple[Graph, list]:
    graph = Graph()
    with graph.as_default():
        savers = [import_meta_graph(source, import_scope=s) for s in scopes]
    return graph, savers


def _mapping(saver: Saver) -> dict[str, str]:
    return {entry.key: entry.variable.op_name for entry in saver.spec.restores}


def test_saver_from_saver_def_maps_checkpoint_keys_to_variables():
    graph, (saver,) = _import(str(TRAIN_META))
    assert isinstance(saver, Saver)
    keys = sorted(read_index(str(TRAIN_CKPT)).names())   # written by TF from this graph
    assert sorted(_mapping(saver)) == keys
    assert _mapping(saver) == {key: key for key in keys}
    assert saver.saver_def.restore_op_name == "save/restore_all"
    assert saver.spec.shards[0].op_name == "save/SaveV2"


def test_scoped_saver_keeps_keys_and_scopes_variables():
    graph, (saver,) = _import(str(TRAIN_META), ["tower"])
    keys = sorted(read_index(str(TRAIN_CKPT)).names())
    assert _mapping(saver) == {key: f"tower/{key}" for key in keys}
    assert saver.saver_def.filename_tensor_name == "tower/save/Const:0"
    assert saver.spec.shards[0].op_name == "tower/save/SaveV2"
    graph.get_operation_by_name(saver.saver_def.restore_op_name)


def test_second_import_gets_its_own_saver():
    graph, (first, second) = _import(str(TRAIN_META), [None, None])
    assert _mapping(second) == {key: f"{op}_1" for key, op in _mapping(first).items()}
    assert second.saver_def.restore_op_name == "save/restore_all_1"


def _added_nodes(graph: Graph, names_before: set[str], saver_scope: str) -> list[dict]:
    out = []
    for node in graph.as_graph_def().node:
        if node.name in names_before or not node.name.startswith(saver_scope + "/"):
            continue
        inputs = [i for i in node.input if not i.startswith("^")] + sorted(i for i in node.input if i.startswith("^"))
        out.append({"name": node.name, "op": node.op, "input": inputs, "device": node.device})
    return out


@pytest.mark.parametrize("scope", ["None", "s"])
def test_default_saver_is_built_like_tfs(scope):
    graph, (saver,) = _import(str(NO_SAVER), [None if scope == "None" else scope])
    tf_view = DEFAULT[scope]
    assert isinstance(saver, Saver)
    sd = saver.saver_def
    assert {"filename_tensor_name": sd.filename_tensor_name, "save_tensor_name": sd.save_tensor_name,
            "restore_op_name": sd.restore_op_name, "sharded": sd.sharded, "max_to_keep": sd.max_to_keep,
            "version": int(sd.version), "keep_checkpoint_every_n_hours": sd.keep_checkpoint_every_n_hours} == \
        tf_view["saver_def"]
    assert _added_nodes(graph, set(), "save") == tf_view["added_nodes"]
    assert sorted(_mapping(saver)) == tf_view["checkpoint_keys"]
    # TF's default saver keys a variable by its op name, scope included.
    assert _mapping(saver) == {key: key for key in tf_view["checkpoint_keys"]}


def test_default_saver_covers_every_global_variable_and_gets_a_fresh_scope():
    # TF builds Saver() over the whole graph; TF itself fails on the unscoped double import
    # ("two variables have the same name"), we save the renamed copies under their names.
    graph, (first, second) = _import(str(NO_SAVER), [None, None])
    assert first.saver_def.restore_op_name == "save/restore_all"
    assert second.saver_def.restore_op_name == "save_1/restore_all"
    assert _mapping(second) == {"b": "b", "b_1": "b_1", "w": "w", "w_1": "w_1"}
    _, (_, scoped) = _import(str(NO_SAVER), ["s", "s"])
    assert sorted(_mapping(scoped)) == ["s/b", "s/w", "s_1/b", "s_1/w"]


def test_no_variables_means_no_saver():
    assert DEFAULT["no_variables"] is None
    meta = read_meta_graph(str(NO_SAVER))
    keep = {"Const"}
    kept = [n for n in meta.graph_def.node if n.op in keep][:1]
    del meta.graph_def.node[:]
    meta.graph_def.node.extend(kept)
    meta.collection_def.clear()
    graph, (saver,) = _import(meta)
    assert saver is None
    assert [op.type for op in graph.get_operations()] == ["Const"]


def test_default_saver_survives_export_and_reimport():
    graph, (saver,) = _import(str(NO_SAVER))
    meta = export_meta_graph(graph=graph, saver_def=saver.saver_def)
    again, (saver2,) = _import(meta)
    assert saver2.saver_def == saver.saver_def
    assert _mapping(saver2) == _mapping(saver)
    assert not any(op.name.startswith("save_1") for op in again.get_operations())   # no second saver built


@pytest.mark.parametrize("model", ["embedding_partitioned", "adam_resource", "ps_worker", "bn_unfused", "lstm_v1"])
def test_default_saver_maps_like_the_saver_tf_wrote(model):
    # Partitioned slices, resource and ref variables, ps-pinned variables, v1 loops: with the
    # saver_def removed, the default subgraph maps keys to variables as TF's saver did.
    path = str(FIXTURES.parent / "models" / model / "model.meta")
    _, (tf_saver,) = _import(path)
    meta = read_meta_graph(path)
    meta.ClearField("saver_def")
    _, (ours,) = _import(meta)
    assert ours.saver_def.restore_op_name == "save_1/restore_all"   # TF's own save/ nodes are in the graph
    key = lambda e: (e.key, e.slice_spec, e.variable.op_name)   # noqa: E731
    assert sorted(map(key, ours.spec.restores)) == sorted(map(key, tf_saver.spec.restores))
