"""Graph model API: lookups and their errors, collections, default-graph stack, create_op."""
from __future__ import annotations

import numpy as np
import pytest

from graph_helpers import TRAIN_META
from orchestrator.dtypes import DType
from orchestrator.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from orchestrator.graph import model
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.model import Graph, get_default_graph, reset_default_graph


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = Graph()
    with g.as_default():
        import_meta_graph(str(TRAIN_META))
        import_meta_graph(str(TRAIN_META), import_scope="tower")
    return g


def test_lookup_errors_suggest_near_names(graph):
    with pytest.raises(NotFoundError, match=r"no operation named 'Momentun'.*Did you mean 'Momentum'"):
        graph.get_operation_by_name("Momentun")
    with pytest.raises(NotFoundError, match=r"no tensor named 'y:1'|'y:1' does not exist: operation 'y' \(Identity\) has 1"):
        graph.get_tensor_by_name("y:1")
    with pytest.raises(NotFoundError, match=r"no tensor named 'yy:0'.*Did you mean 'y:0'"):
        graph.get_tensor_by_name("yy:0")
    with pytest.raises(InvalidArgumentError, match="names a tensor, not an operation"):
        graph.get_operation_by_name("y:0")
    with pytest.raises(InvalidArgumentError, match="a tensor name looks like 'y:0'"):
        graph.get_tensor_by_name("y")


def test_as_graph_element(graph):
    y_op = graph.get_operation_by_name("y")
    assert graph.as_graph_element("y") is y_op
    assert graph.as_graph_element("y:0") is y_op.outputs[0]
    assert graph.as_graph_element(y_op) is y_op
    assert graph.as_graph_element(graph.get_collection("variables")[0]) is graph.get_tensor_by_name("w:0")
    with pytest.raises(InvalidArgumentError, match="an operation name is expected"):
        graph.as_graph_element("y:0", allow_tensor=False)
    with pytest.raises(InvalidArgumentError, match="a tensor name like 'y:0' is expected"):
        graph.as_graph_element("y", allow_operation=False)
    with pytest.raises(InvalidArgumentError, match="belongs to another graph"):
        Graph().as_graph_element(y_op)


def test_get_collection_scope_is_a_regex_match(graph):
    all_vars = [v.name for v in graph.get_collection("variables")]
    assert [v.name for v in graph.get_collection("variables", scope="tower")] == [n for n in all_vars if n.startswith("tower")]
    assert [v.name for v in graph.get_collection("variables", scope="w")] == ["w:0", "w/Momentum:0"]
    assert [v.name for v in graph.get_collection("variables", scope=".*Momentum")] == [
        "w/Momentum:0", "b/Momentum:0", "tower/w/Momentum:0", "tower/b/Momentum:0"]
    assert graph.get_collection("ratios", scope=".*") == []   # floats have no name: skipped, as in TF
    assert graph.get_collection("no such key") == []


def test_collection_mutation_api():
    g = Graph()
    g.add_to_collection("a", 1)
    g.add_to_collections(["a", "b"], 2)
    ref = g.get_collection_ref("a")
    ref.append(3)
    assert g.get_collection("a") == [1, 2, 3] and g.get_collection("b") == [2]
    copy = g.get_collection("a")
    copy.append(4)
    assert g.get_collection("a") == [1, 2, 3]
    g.clear_collection("a")
    assert g.get_all_collection_keys() == ["b"]


def test_default_graph_stack_and_reset():
    reset_default_graph()
    outer = get_default_graph()
    g = Graph()
    with g.as_default():
        assert get_default_graph() is g
        model.add_to_collection("k", 1)
        assert model.get_collection("k") == [1]
        with pytest.raises(FailedPreconditionError, match="reset_default_graph"):
            reset_default_graph()
    assert get_default_graph() is outer
    reset_default_graph()
    assert get_default_graph() is not outer


def test_create_op_infers_attrs_and_names_uniquely(graph):
    g = Graph()
    with g.as_default():
        import_meta_graph(str(TRAIN_META))
    y = g.get_tensor_by_name("y:0")
    ident = g.create_op("Identity", [y], name="y")
    assert ident.name == "y_1" and ident.attrs["T"] == DType.FLOAT and ident.outputs[0].dtype == DType.FLOAT
    assert g.create_op("Identity", [y], name="y").name == "y_2"
    const = g.create_op("Const", [], attrs={"value": np.array([b"a", b"b"], dtype=object), "dtype": DType.STRING},
                        name="save/tensor_names")
    assert const.name == "save/tensor_names" and const.outputs[0].shape == (2,)
    packed = g.create_op("Pack", [[y, y]])
    assert packed.attrs["N"] == 2 and len(packed.inputs) == 2 and packed.name == "Pack"
    ctrl = g.create_op("NoOp", [], control_inputs=[packed], device="/cpu:0")
    assert ctrl.control_inputs == (packed,) and ctrl.node_def.input == ["^Pack"]
    assert [op.name for op in y.consumers()][-4:] == ["y_1", "y_2", "Pack", "Pack"]   # one per input edge, as TF
    assert g.get_operations()[-1] is ctrl   # insertion order
    with pytest.raises(InvalidArgumentError, match="Identity has no attr 'Tx'.*Did you mean 'T'"):
        g.create_op("Identity", [y], attrs={"Tx": DType.FLOAT})
    with pytest.raises(InvalidArgumentError, match=r"Identity takes 1 input arg\(s\)"):
        g.create_op("Identity", [y, y])
    with pytest.raises(NotFoundError, match="op type 'Identiti'.*Did you mean 'Identity'"):
        g.create_op("Identiti", [y])


def test_op_def_sources(graph):
    assert graph.op_def("ApplyMomentum").name == "ApplyMomentum"       # from the meta graph
    assert graph.op_def("ResourceApplyAdam").input_arg[0].name == "var"  # from orchestrator's table


def test_graph_def_keeps_functions_and_versions(graph):
    gd = graph.as_graph_def()
    assert gd.versions.producer > 0
    assert len(gd.node) == len(graph.get_operations())
