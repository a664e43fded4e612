"""Bad input to import_meta_graph: every case gets a specific error and leaves the graph unchanged."""
from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from google.protobuf import text_format

from graph_helpers import FIXTURES, TRAIN_META, nodes_view
from orchestrator import storage
from orchestrator.errors import InvalidArgumentError, NotFoundError
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.meta_io import read_meta_graph
from orchestrator.graph.model import Graph

META_BYTES = TRAIN_META.read_bytes()


def _import_into_fresh(source, **kwargs):
    graph = Graph()
    with graph.as_default():
        return graph, import_meta_graph(source, **kwargs)


def _write(tmp_path, name, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_missing_file_names_it(tmp_path):
    missing = str(tmp_path / "nope" / "model.meta")
    with pytest.raises(NotFoundError, match="nope/model.meta: no such file"):
        _import_into_fresh(missing)


def test_empty_file(tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"model.meta: file is empty \(0 bytes\)"):
        _import_into_fresh(_write(tmp_path, "model.meta", b""))


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_file(tmp_path, cut):
    path = _write(tmp_path, "model.meta", META_BYTES[: int(len(META_BYTES) * cut)])
    with pytest.raises(InvalidArgumentError, match="model.meta: not a MetaGraphDef.*truncated, corrupt"):
        _import_into_fresh(path)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes(tmp_path, seed):
    data = np.random.default_rng(seed).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    with pytest.raises(InvalidArgumentError, match="not a MetaGraphDef"):
        _import_into_fresh(_write(tmp_path, "model.meta", data))


def test_graph_def_given_instead(tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"this is a GraphDef \(\d+ nodes"):
        _import_into_fresh(str(FIXTURES / "graph_def.pb"))


def test_saved_model_given_instead():
    with pytest.raises(InvalidArgumentError, match=r"this is a SavedModel .*\[\['serve'\]\]"):
        _import_into_fresh(str(FIXTURES / "saved_model" / "saved_model.pb"))


def test_text_format_graph_def_detected(tmp_path):
    from orchestrator.protos import graph_pb2
    gd = graph_pb2.GraphDef()
    gd.ParseFromString((FIXTURES / "graph_def.pb").read_bytes())
    path = _write(tmp_path, "graph.pbtxt", text_format.MessageToString(gd).encode())
    with pytest.raises(InvalidArgumentError, match="this is a text-format GraphDef"):
        _import_into_fresh(path)


def test_malformed_text_format(tmp_path):
    text = text_format.MessageToString(read_meta_graph(str(TRAIN_META)))
    broken = text.replace("graph_def {", "graph_def {{", 1)
    with pytest.raises(InvalidArgumentError, match=r"model.pbtxt: malformed text-format MetaGraphDef: .*\d+:\d+"):
        _import_into_fresh(_write(tmp_path, "model.pbtxt", broken.encode()))


@pytest.mark.parametrize("name", ["model.pbtxt", "model.meta.txt", "model.meta"])
def test_text_format_imports_like_binary(tmp_path, name):
    text = text_format.MessageToString(read_meta_graph(str(TRAIN_META))).encode()
    graph, _ = _import_into_fresh(_write(tmp_path, name, text))
    reference, _ = _import_into_fresh(str(TRAIN_META))
    assert nodes_view(graph) == nodes_view(reference)


def test_fsspec_url():
    storage.write_bytes("memory://graph-tests/run/model.meta", META_BYTES)
    graph, saver = _import_into_fresh("memory://graph-tests/run/model.meta")
    assert graph.get_collection("train_op")[0].name == "Momentum"


@pytest.mark.parametrize("scope", ["bad scope", "_under", "-dash", "x!y", "a:b"])
def test_invalid_import_scope(scope):
    graph = Graph()
    with graph.as_default(), pytest.raises(InvalidArgumentError, match=f"import_scope {scope!r} is not a valid scope"):
        import_meta_graph(str(TRAIN_META), import_scope=scope)
    assert graph.get_operations() == []


@pytest.mark.parametrize("scope, first_node", sorted(json.loads((FIXTURES / "import_details.json").read_text())[
    "import_scopes"].items()))
def test_import_scopes_tf_accepts_and_rejects(scope, first_node):
    graph = Graph()
    with graph.as_default():
        if first_node is None:
            with pytest.raises(InvalidArgumentError, match=f"import_scope {re.escape(repr(scope))} is not a valid"):
                import_meta_graph(str(FIXTURES / "small" / "devices.meta"), import_scope=scope)
            assert graph.get_operations() == []
        else:
            import_meta_graph(str(FIXTURES / "small" / "devices.meta"), import_scope=scope)
            assert graph.get_operations()[0].name == first_node


@pytest.mark.parametrize("scope", ["ok", "a/b", "v1.2-x", "tower_0/"])
def test_valid_import_scope(scope):
    graph, _ = _import_into_fresh(str(TRAIN_META), import_scope=scope)
    assert graph.get_operation_by_name(scope.rstrip("/") + "/w").type == "VariableV2"


def test_unknown_kwarg():
    with pytest.raises(InvalidArgumentError, match=r"unsupported keyword argument\(s\) \['input_mapping'\].*input_map"):
        _import_into_fresh(str(TRAIN_META), input_mapping={})


def _populated_graph() -> Graph:
    graph = Graph()
    with graph.as_default():
        import_meta_graph(str(TRAIN_META))
    return graph


def _snapshot(graph: Graph):
    return (nodes_view(graph), {k: list(graph.get_collection(k)) for k in graph.get_all_collection_keys()},
            dict(graph.function_library), graph.unique_name("w", mark_as_used=False))


def test_input_map_missing_tensor_leaves_graph_unchanged():
    graph = _populated_graph()
    before = _snapshot(graph)
    x = graph.get_tensor_by_name("x:0")
    with graph.as_default(), pytest.raises(NotFoundError, match=r"input_map names 'inputs:0'.*no node 'inputs'"):
        import_meta_graph(str(TRAIN_META), import_scope="again", input_map={"inputs:0": x})
    assert _snapshot(graph) == before


def test_input_map_bad_output_index():
    graph = _populated_graph()
    x = graph.get_tensor_by_name("x:0")
    with graph.as_default(), pytest.raises(NotFoundError, match=r"'x:3'.*has 1 output"):
        import_meta_graph(str(TRAIN_META), import_scope="again", input_map={"x:3": x})


def test_input_map_rewires_consumers():
    graph = _populated_graph()
    x = graph.get_tensor_by_name("x:0")
    with graph.as_default():
        saver, (matmul, y) = import_meta_graph(str(TRAIN_META), import_scope="t2", input_map={"x:0": x},
                                               return_elements=["MatMul", "y:0"])
    assert matmul.name == "t2/MatMul" and matmul.inputs[0] is x
    assert y is graph.get_tensor_by_name("t2/y:0")
    assert graph.get_operation_by_name("t2/x").type == "PlaceholderWithDefault"   # still imported, as TF does


def test_return_elements_missing():
    with pytest.raises(NotFoundError, match="return_elements names 'nothere:0'"):
        _import_into_fresh(str(TRAIN_META), return_elements=["nothere:0"])


def test_failed_import_midway_is_rolled_back():
    # A node whose input is missing fails only after many ops were staged.
    meta = read_meta_graph(str(TRAIN_META))
    meta.graph_def.node[-1].input.append("no_such_node")
    graph = _populated_graph()
    before = _snapshot(graph)
    with graph.as_default(), pytest.raises(InvalidArgumentError, match="input 'no_such_node'.*no node 'no_such_node'"):
        import_meta_graph(meta)
    assert _snapshot(graph) == before


def test_unknown_op_type():
    meta = read_meta_graph(str(TRAIN_META))
    meta.graph_def.node[0].op = "MatMull"
    with pytest.raises(NotFoundError, match=r"op type 'MatMull'.*Did you mean 'MatMul'"):
        _import_into_fresh(meta)


def test_not_a_meta_graph_object():
    with pytest.raises(InvalidArgumentError, match="must be a MetaGraphDef or a path"):
        _import_into_fresh(42)


def test_pathlike(tmp_path):
    path = tmp_path / "m.meta"
    path.write_bytes(META_BYTES)
    graph, _ = _import_into_fresh(os.fspath(path))
    assert graph.get_operations()
