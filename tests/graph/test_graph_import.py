"""import_meta_graph on a TF-made training graph, compared with what real TF reports."""
from __future__ import annotations

import pytest

from graph_helpers import TRAIN_META, elem, nodes_view, tf_views
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.model import Graph

VIEWS = tf_views()
CASES = {"plain": [None], "scoped": ["tower"], "scoped_slash": ["tower/"], "cleared": [None],
         "twice": [None, None], "twice_scoped": ["s", "s"]}


def _import(case: str) -> tuple[Graph, list]:
    graph = Graph()
    savers = []
    with graph.as_default():
        for scope in CASES[case]:
            savers.append(import_meta_graph(str(TRAIN_META), import_scope=scope, clear_devices=case == "cleared"))
    return graph, savers


def _saver_names(saver):
    saver_def = getattr(saver, "saver_def", saver)
    return {"filename_tensor_name": saver_def.filename_tensor_name,
            "save_tensor_name": saver_def.save_tensor_name, "restore_op_name": saver_def.restore_op_name}


@pytest.mark.parametrize("case", sorted(CASES))
def test_nodes_match_tf(case):
    graph, _ = _import(case)
    ours = sorted(nodes_view(graph), key=lambda n: n["name"])
    theirs = sorted(VIEWS[case]["nodes"], key=lambda n: n["name"])
    for node in theirs:
        node["input"] = [i for i in node["input"] if not i.startswith("^")] + sorted(
            i for i in node["input"] if i.startswith("^"))
    assert [n["name"] for n in ours] == [n["name"] for n in theirs]
    for a, b in zip(ours, theirs):
        assert a == b, a["name"]


@pytest.mark.parametrize("case", ["plain", "scoped", "scoped_slash", "cleared", "twice_scoped"])
def test_collections_and_saver_match_tf(case):
    graph, savers = _import(case)
    tf_view = VIEWS[case]
    ours = {k: [elem(x) for x in graph.get_collection(k)] for k in graph.get_all_collection_keys()}
    assert ours == tf_view["collections"]
    assert [_saver_names(s) for s in savers] == tf_view["savers"]


def test_double_import_renames_collections_consistently():
    # TF leaves the second import's collection entries pointing at the first import's
    # nodes; we point them at the renamed nodes.
    graph, savers = _import("twice")
    tf_view = VIEWS["twice"]
    variables = [v.name for v in graph.get_collection("variables")]
    half = len(variables) // 2
    assert variables[:half] == tf_view["collections"]["variables"][:half]
    assert variables[half:] == [name.replace(":0", "_1:0") for name in variables[:half]]
    train_ops = graph.get_collection("train_op")
    assert [op.name for op in train_ops] == ["Momentum", "Momentum_1"]
    assert train_ops[0] is not train_ops[1]
    second = _saver_names(savers[1])
    assert second["restore_op_name"] == "save/restore_all_1"
    graph.get_operation_by_name(second["restore_op_name"])
    graph.get_tensor_by_name(second["filename_tensor_name"])
    assert [v.initializer.name for v in graph.get_collection("variables")][half:half + 3] == [
        "w/Assign_1", "b/Assign_1", "global_step/Assign_1"]


def test_variables_match_tf():
    graph, _ = _import("scoped")
    tf_vars = VIEWS["scoped"]["variables"]
    ours = [{"name": v.name, "op": v.op.name, "initializer": v.initializer.name,
             "dtype": v.dtype.tf_name, "shape": list(v.shape)} for v in graph.get_collection("variables")]
    assert ours == tf_vars
    trainable = graph.get_collection("trainable_variables")
    assert trainable[0] is graph.get_collection("variables")[0]   # one object per variable


def test_control_flow_contexts_are_scoped():
    graph, _ = _import("scoped")
    (while_ctx,) = graph.get_collection("while_context")
    assert while_ctx.context_name == "tower/loop/while_context"
    for name in list(while_ctx.loop_exit_names) + list(while_ctx.values_def.values):
        assert name.startswith("tower/")
        graph.get_tensor_by_name(name)
    for inner, outer in while_ctx.values_def.external_values.items():
        assert inner.startswith("tower/") and outer.startswith("tower/")
    cond_contexts = graph.get_collection("cond_context")
    assert [c.context_name for c in cond_contexts] == ["tower/pick/cond_text", "tower/pick/cond_text_1"]
    for ctx in cond_contexts:
        graph.get_tensor_by_name(ctx.pred_name)
        graph.get_tensor_by_name(ctx.pivot_name)
    (runner,) = graph.get_collection("queue_runners")
    assert runner.queue_name == "tower/input_queue"
    assert [graph.get_operation_by_name(n).type for n in runner.enqueue_op_name] == ["QueueEnqueueV2"]


def test_tensor_types_and_shapes():
    graph, _ = _import("plain")
    w = graph.get_tensor_by_name("w:0")
    assert (w.dtype.tf_name, w.is_ref, w.shape) == ("float32", True, (3, 2))
    b = graph.get_tensor_by_name("b:0")
    assert (b.dtype.name, b.is_ref) == ("RESOURCE", False)
    y = graph.get_tensor_by_name("y:0")
    assert y.shape == (None, 2)
    assert [op.name for op in y.consumers()] == ["loop/Enter_2"] or y.consumers()
    op = graph.get_operation_by_name("y")
    assert op.attrs["T"].tf_name == "float32"
    assert op.get_attr("_class") == [b"loc:@w"]
    assert graph.get_operation_by_name("w").attrs["shape"] == (3, 2)
    assert graph.get_operation_by_name("w").device == "/job:ps/task:0"
    merge = graph.get_operation_by_name("loop/Merge")
    assert len(merge.outputs) == 2 and merge.outputs[1].dtype.tf_name == "int32"


def test_graph_def_round_trips():
    graph, (saver,) = _import("plain")
    again = Graph()
    from orchestrator.graph.export import export_meta_graph
    meta = export_meta_graph(graph=graph, saver_def=getattr(saver, "saver_def", saver))
    with again.as_default():
        import_meta_graph(meta)
    assert nodes_view(again) == nodes_view(graph)
    assert [n.attr for n in again.as_graph_def().node] == [n.attr for n in graph.as_graph_def().node]
