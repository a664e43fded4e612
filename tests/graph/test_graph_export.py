"""export_meta_graph: round trips by meaning, scopes, and real TF importing our file to keep training."""
from __future__ import annotations

import json
import shutil

import pytest
from google.protobuf import text_format

from graph_helpers import FIXTURES, TRAIN_META, elem, nodes_view
from orchestrator.graph.collections import PROTO_KEYS
from orchestrator.graph.export import export_meta_graph
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.meta_io import read_meta_graph
from orchestrator.graph.model import Graph


def _imported(source=str(TRAIN_META), **kwargs):
    graph = Graph()
    with graph.as_default():
        saver = import_meta_graph(source, **kwargs)
    return graph, getattr(saver, "saver_def", saver)


def _meaning(graph: Graph):
    return (nodes_view(graph), [n.attr for n in graph.as_graph_def().node],
            {k: [elem(x) for x in graph.get_collection(k)] for k in graph.get_all_collection_keys()},
            sorted(graph.function_library))


def test_import_export_import_equals_import():
    graph, saver_def = _imported()
    meta = export_meta_graph(graph=graph, saver_def=saver_def)
    again, saver_def2 = _imported(meta)
    assert _meaning(again) == _meaning(graph)
    assert saver_def2 == saver_def
    original = read_meta_graph(str(TRAIN_META))
    assert {op.name for op in meta.meta_info_def.stripped_op_list.op} == {
        op.name for op in original.meta_info_def.stripped_op_list.op}
    for key, col in original.collection_def.items():
        ours = meta.collection_def[key]
        if key in PROTO_KEYS:   # map fields serialize in any order: compare parsed
            assert [PROTO_KEYS[key].FromString(v) for v in ours.bytes_list.value] == [
                PROTO_KEYS[key].FromString(v) for v in col.bytes_list.value], key
        else:
            assert ours == col, key


def test_written_binary_and_text(tmp_path):
    graph, saver_def = _imported()
    export_meta_graph(str(tmp_path / "m.meta"), graph=graph, saver_def=saver_def)
    export_meta_graph(str(tmp_path / "m.pbtxt"), graph=graph, saver_def=saver_def, as_text=True)
    assert text_format.Parse((tmp_path / "m.pbtxt").read_text(), type(read_meta_graph(str(TRAIN_META)))())
    assert _meaning(_imported(str(tmp_path / "m.meta"))[0]) == _meaning(graph)
    assert _meaning(_imported(str(tmp_path / "m.pbtxt"))[0]) == _meaning(graph)


def test_export_scope_strips_and_reimports_under_new_scope():
    graph, saver_def = _imported(import_scope="tower")
    meta = export_meta_graph(graph=graph, export_scope="tower", saver_def=saver_def)
    assert meta.saver_def.restore_op_name == "save/restore_all"
    assert all(not n.name.startswith("tower/") for n in meta.graph_def.node)
    plain, _ = _imported()
    assert _meaning(_imported(meta)[0]) == _meaning(plain)
    moved, moved_saver = _imported(meta, import_scope="other")
    assert moved_saver.restore_op_name == "other/save/restore_all"
    assert moved.get_collection("variables")[0].name == "other/w:0"


def test_export_scope_with_outside_input_leaves_it_unbound():
    graph, _ = _imported()
    with graph.as_default():
        import_meta_graph(str(TRAIN_META), import_scope="t", input_map={"x:0": graph.get_tensor_by_name("x:0")})
    meta = export_meta_graph(graph=graph, export_scope="t")
    matmul = next(n for n in meta.graph_def.node if n.name == "MatMul")
    assert list(matmul.input) == ["$unbound_inputs_x", "w/read"]
    assert list(meta.collection_def["unbound_inputs"].bytes_list.value) == [b"$unbound_inputs_x"]
    assert "unbound_inputs" not in graph.get_all_collection_keys()   # the source graph is not changed
    # Binding it again gives back what the scoped import built.
    again = Graph()
    with again.as_default():
        x = again.create_op("Placeholder", [], {"dtype": graph.get_tensor_by_name("x:0").dtype, "shape": None},
                            name="feed").outputs[0]
        import_meta_graph(meta, import_scope="t", input_map={"$unbound_inputs_x": x})
    assert again.get_operation_by_name("t/MatMul").inputs[0] is x
    assert "unbound_inputs" not in again.get_all_collection_keys()


def test_clear_devices_and_strip_default_attrs():
    graph, saver_def = _imported()
    meta = export_meta_graph(graph=graph, clear_devices=True, strip_default_attrs=True, saver_def=saver_def)
    assert all(n.device == "" for n in meta.graph_def.node)
    assert meta.meta_info_def.stripped_default_attrs
    matmul = next(n for n in meta.graph_def.node if n.name == "MatMul")
    assert "transpose_a" not in matmul.attr   # default False is stripped
    full = next(n for n in graph.as_graph_def().node if n.name == "MatMul")
    assert "transpose_a" in full.attr
    # Imports restore the defaults, so the meaning is unchanged.
    stripped_back = _imported(meta)[0]
    assert [n.attr for n in stripped_back.as_graph_def().node] == [n.attr for n in graph.as_graph_def().node]


def test_collection_list_limits_collections():
    graph, _ = _imported()
    meta = export_meta_graph(graph=graph, collection_list=["train_op", "variables"])
    assert sorted(meta.collection_def) == ["train_op", "variables"]


# One TF process answers every question about our files (starting TF takes ~10 s).
_TF_READS_OUR_FILES = """
import json, sys
import tensorflow as tf
v1 = tf.compat.v1
v1.disable_eager_execution()
v1.disable_control_flow_v2()
d = sys.argv[1]
out = {}
with tf.Graph().as_default():
    saver = v1.train.import_meta_graph(d + "/ours.meta", clear_devices=True)
    with v1.Session() as sess:
        saver.restore(sess, d + "/model.ckpt-3")
        before = sess.run("global_step/Read/ReadVariableOp:0")
        sess.run(v1.get_collection("train_op")[0])
        after = sess.run("global_step/Read/ReadVariableOp:0")
        saver.save(sess, d + "/model.ckpt", global_step=int(after))
        out["train"] = {"before": int(before), "after": int(after),
                        "vars": [v.name for v in v1.global_variables()]}
with tf.Graph().as_default() as g:
    saver = v1.train.import_meta_graph(d + "/default_saver.meta")   # our save/ subgraph, run by TF
    out["save_nodes"] = len([o for o in g.get_operations() if o.name.startswith("save")])
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        path = saver.save(sess, d + "/m", write_meta_graph=False)
        saver.restore(sess, path)
    out["keys"] = [name for name, _ in tf.train.list_variables(path)]
with tf.Graph().as_default() as g:
    y = v1.placeholder(tf.float32, [2], name="y")
    k = tf.constant(2.0, name="k")
    v1.train.import_meta_graph(d + "/unbound.meta", import_scope="u", input_map={
        "$unbound_inputs_x": y, "$unbound_inputs_c": k, "^$unbound_inputs_c": k})
    with v1.Session() as sess:
        out["e"] = sess.run("u/e:0", {y: [1.0, 2.0]}).tolist()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def tf_reads_our_files(tmp_path_factory, run_tf):
    tmp_path = tmp_path_factory.mktemp("tf_reads")
    graph, saver_def = _imported()
    export_meta_graph(str(tmp_path / "ours.meta"), graph=graph, saver_def=saver_def)
    for f in (FIXTURES / "train").glob("model.ckpt-3*"):
        shutil.copy(f, tmp_path / f.name)
    small = FIXTURES / "small"
    graph, saver_def = _imported(str(small / "no_saver.meta"))
    export_meta_graph(str(tmp_path / "default_saver.meta"), graph=graph, saver_def=saver_def)
    export_meta_graph(str(tmp_path / "unbound.meta"), graph=_imported(str(small / "unbound.meta"))[0],
                      export_scope="t")
    result = json.loads(run_tf(_TF_READS_OUR_FILES, str(tmp_path)).strip().splitlines()[-1])
    return tmp_path, result


@pytest.mark.tf
def test_real_tf_imports_our_export_and_trains(tf_reads_our_files):
    tmp_path, result = tf_reads_our_files
    assert result["train"] == {"before": 3, "after": 4,
                               "vars": ["w:0", "b:0", "global_step:0", "w/Momentum:0", "b/Momentum:0"]}
    assert (tmp_path / "model.ckpt-4.index").exists()


@pytest.mark.tf
def test_real_tf_runs_our_default_saver(tf_reads_our_files):
    # TF reuses our 14 save/ nodes instead of building its own, and saves/restores with them.
    _, result = tf_reads_our_files
    assert (result["save_nodes"], result["keys"]) == (14, ["b", "w"])


@pytest.mark.tf
def test_real_tf_binds_our_unbound_inputs(tf_reads_our_files):
    _, result = tf_reads_our_files
    assert result["e"] == [4.0, 6.0]   # e = x + (x + c) with x = [1, 2], c = 2
