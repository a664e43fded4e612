"""Details of import/export checked against what real TF did (tests/fixtures/graph/import_details.json).

Collection item types per import scope, control-input order, export_scope's unbound
inputs and while-loop frame names.
"""
from __future__ import annotations

import json

import pytest

from graph_helpers import FIXTURES, TRAIN_META
from orchestrator.errors import InvalidArgumentError, NotFoundError
from orchestrator.graph.export import export_meta_graph
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.meta_io import read_meta_graph
from orchestrator.graph.model import Graph

DETAILS = json.loads((FIXTURES / "import_details.json").read_text())
SMALL = FIXTURES / "small"


def _import(source, graph: Graph | None = None, **kwargs) -> Graph:
    graph = graph or Graph()
    with graph.as_default():
        import_meta_graph(source, **kwargs)
    return graph


def _train_with_strings():
    meta = read_meta_graph(str(TRAIN_META))
    # The same collection graph_cases.add_string_collection gave TF.
    meta.collection_def["strings"].bytes_list.value.extend(s.encode() for s in DETAILS["string_collection"])
    return meta


@pytest.mark.parametrize("scope", ["None", "s", "s/"])
def test_collection_item_types_match_tf(scope):
    graph = _import(_train_with_strings(), import_scope=None if scope == "None" else scope)
    for key, expected in DETAILS["collection_types"][scope].items():
        ours = [[type(x).__name__, x.decode() if isinstance(x, bytes) else x] for x in graph.get_collection(key)]
        assert ours == expected, key


def test_scoped_strings_round_trip_through_export():
    graph = _import(_train_with_strings(), import_scope="s")
    meta = export_meta_graph(graph=graph, export_scope="s")
    assert list(meta.collection_def["strings"].bytes_list.value) == [
        s.encode() for s in DETAILS["string_collection"]]
    again = _import(meta, import_scope="s")
    assert again.get_collection("strings") == graph.get_collection("strings")


def test_scoped_export_keeps_only_strings_under_the_scope():
    graph = Graph()
    graph.add_to_collection("names", "s/a")
    graph.add_to_collection("names", b"^s/b")
    graph.add_to_collection("names", "other")
    graph.add_to_collection("names", "loc:@t/c")
    meta = export_meta_graph(graph=graph, export_scope="s")
    assert list(meta.collection_def["names"].bytes_list.value) == [b"a", b"^b"]


def test_unscoped_strings_keep_their_bytes():
    graph = Graph()
    graph.add_to_collection("raw", b"\xff\x00binary")
    graph.add_to_collection("raw", "text")
    meta = export_meta_graph(graph=graph)
    assert list(meta.collection_def["raw"].bytes_list.value) == [b"\xff\x00binary", b"text"]
    assert _import(meta).get_collection("raw") == [b"\xff\x00binary", b"text"]


def test_control_input_order_is_the_node_defs():
    # TF keeps the NodeDef's order in op.node_def (and sorts op.control_inputs and
    # as_graph_def() by name); we keep the NodeDef's order everywhere.
    tf_order = DETAILS["control_order"]
    graph = _import(str(SMALL / "control_order.meta"))
    op = graph.get_operation_by_name("n")
    assert list(op.node_def.input) == tf_order["node_def"]
    assert [o.name for o in op.control_inputs] == [i[1:] for i in tf_order["node_def"] if i.startswith("^")]
    assert sorted(o.name for o in op.control_inputs) == tf_order["control_inputs"]
    (node,) = [n for n in graph.as_graph_def().node if n.name == "n"]
    assert list(node.input) == tf_order["node_def"]
    assert sorted(node.input) == sorted(tf_order["graph_def"])
    # Survives export and a second, renamed import.
    _import(export_meta_graph(graph=graph), graph)
    assert list(graph.get_operation_by_name("n_1").node_def.input) == ["m_1", "^z_1", "^m_1", "^bb_1"]


def _unbound_source() -> Graph:
    return _import(str(SMALL / "unbound.meta"))


def test_unbound_inputs_written_as_tf_does():
    tf_view = DETAILS["unbound"]
    meta = export_meta_graph(graph=_unbound_source(), export_scope="t")
    assert [{"name": n.name, "input": list(n.input)} for n in meta.graph_def.node] == tf_view["nodes"]
    assert list(meta.collection_def["outs"].node_list.value) == tf_view["collections"]["outs"]
    # TF repeats each use and leaves out control inputs (so its own import of such a file
    # fails); we list every unbound input once.
    ours = [v.decode() for v in meta.collection_def["unbound_inputs"].bytes_list.value]
    assert ours == ["$unbound_inputs_x", "$unbound_inputs_c", "^$unbound_inputs_c"]
    assert set(ours) == set(tf_view["source_graph_unbound_inputs"])


def test_unbound_inputs_must_be_bound():
    meta = export_meta_graph(graph=_unbound_source(), export_scope="t")
    graph = Graph()
    with graph.as_default(), pytest.raises(
            InvalidArgumentError, match=r"reads 3 input\(s\) from outside it: \['\$unbound_inputs_x', "
                                        r"'\$unbound_inputs_c', '\^\$unbound_inputs_c'\]; bind each with input_map"):
        import_meta_graph(meta)
    assert graph.get_operations() == []
    with graph.as_default(), pytest.raises(NotFoundError, match="no node of the imported graph has the unbound "
                                                                "input '\\$unbound_inputs_q'"):
        import_meta_graph(meta, input_map={"$unbound_inputs_q": None})


def test_bound_unbound_inputs_rebuild_the_scope():
    source = _unbound_source()
    meta = export_meta_graph(graph=source, export_scope="t")
    graph = _import(str(SMALL / "unbound.meta"))
    x, c = graph.get_tensor_by_name("x:0"), graph.get_operation_by_name("c")
    _import(meta, graph, import_scope="u",
            input_map={"$unbound_inputs_x:0": x, "$unbound_inputs_c": c.outputs[0],
                       "^$unbound_inputs_c": c.outputs[0]})   # TF takes a tensor for "^" keys too
    a, d, e = (graph.get_operation_by_name(f"u/{n}") for n in "ade")
    assert a.inputs == (x, c.outputs[0])
    assert d.control_inputs == (c,) and d.inputs[0] is a.outputs[0]
    assert e.inputs[0] is x
    assert [t.name for t in graph.get_collection("outs")] == ["t/d:0", "u/d:0"]


def test_while_frames_follow_the_import_scope():
    graph = _import(str(TRAIN_META), import_scope="tower")
    frames = {op.get_attr("frame_name") for op in graph.get_operations() if op.type in ("Enter", "RefEnter")}
    (context,) = graph.get_collection("while_context")
    assert frames == {b"tower/loop/while_context", b"tower/gradients/loop/while_context"}
    assert context.context_name.encode() in frames
    meta = export_meta_graph(graph=graph, export_scope="tower")
    exported = {n.attr["frame_name"].s for n in meta.graph_def.node if n.op in ("Enter", "RefEnter")}
    assert exported == {b"loop/while_context", b"gradients/loop/while_context"}


def test_second_unscoped_import_gets_its_own_while_frames():
    # TF gives both copies of the loop the frame "loop/while_context" (checked with TF 2.21),
    # so an executor keying frames by name would mix their iterations; the second copy's
    # frames and its WhileContextDef get "_1".
    graph = _import(str(TRAIN_META))
    _import(str(TRAIN_META), graph)
    first, second = graph.get_collection("while_context")
    assert (first.context_name, second.context_name) == ("loop/while_context", "loop/while_context_1")
    for ctx in (first, second):
        enters = [graph.get_tensor_by_name(name).op for name in ctx.loop_enter_names]
        assert enters and {op.get_attr("frame_name") for op in enters} == {ctx.context_name.encode()}
    assert set(first.loop_exit_names).isdisjoint(second.loop_exit_names)
    # The gradient loop's frame is renamed the same way.
    frames = {op.get_attr("frame_name") for op in graph.get_operations() if op.type in ("Enter", "RefEnter")}
    assert frames == {b"loop/while_context", b"loop/while_context_1", b"gradients/loop/while_context",
                      b"gradients/loop/while_context_1"}
    # A scoped import keeps TF's scoped frame names.
    _import(str(TRAIN_META), graph, import_scope="t")
    assert graph.get_collection("while_context")[2].context_name == "t/loop/while_context"
