"""Saver on TF-made meta graphs: key mapping from the saver subgraph, restore checks, save, retention."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

from orchestrator.checkpoint import bundle_io, state_file
from orchestrator.checkpoint.saver import Saver
from orchestrator.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from orchestrator.exec.state import ResourceHandle, SessionState
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.model import Graph


def _load(fixtures_dir, case):
    graph = Graph()
    with graph.as_default():
        saver = import_meta_graph(str(fixtures_dir / "saver" / case / "model.meta"))
    return graph, saver, fixtures_dir / "saver" / case


def _ref(state, name):
    return state.ref_variables.get(name) or state.resources[("", name)]


def _values(state):
    out = {name: ref.value for name, ref in state.ref_variables.items()}
    out.update({shared: ref.value for (_, shared), ref in state.resources.items()})
    return out


def test_partitioned_sharded_restore_matches_tf(fixtures_dir):
    graph, saver, case = _load(fixtures_dir, "partitioned_sharded")
    assert saver.spec.sharded
    keys = {(e.key, e.slice_spec) for e in saver.spec.restores}
    assert ("emb", "10 4 0,4:0,4") in keys and ("emb", "10 4 7,3:0,4") in keys
    state = SessionState()
    saver.restore(state, str(case / "model.ckpt-0"))
    expected = np.load(case / "values.npz")
    got = _values(state)
    assert set(expected.files) == set(got)
    for name in expected.files:
        want = expected[name].astype(object) if expected[name].dtype.kind == "S" else expected[name]
        np.testing.assert_array_equal(got[name], want, err_msg=name)
        assert got[name].dtype == want.dtype
    assert list(got["names"]) == [b"a", b"bc"]


def test_save_round_trip_is_bit_exact_and_keeps_slices(fixtures_dir, tmp_path):
    graph, saver, case = _load(fixtures_dir, "partitioned_sharded")
    state = SessionState()
    saver.restore(state, str(case / "model.ckpt-0"))
    prefix = saver.save(state, str(tmp_path / "model.ckpt"), global_step=12)
    assert prefix == str(tmp_path / "model.ckpt-12")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint", "model.ckpt-12.data-00000-of-00001", "model.ckpt-12.index", "model.ckpt-12.meta"]
    ours = bundle_io.read_index(prefix)
    theirs = bundle_io.read_index(str(case / "model.ckpt-0"))
    assert ours.entries == theirs.entries            # same keys, slices, offsets and crcs as TF's save
    assert (tmp_path / "model.ckpt-12.data-00000-of-00001").read_bytes() == \
        (case / "model.ckpt-0.data-00000-of-00001").read_bytes()
    again = SessionState()
    saver.restore(again, prefix)
    for name, value in _values(state).items():
        np.testing.assert_array_equal(_values(again)[name], value)


def test_global_step_from_variable(fixtures_dir, tmp_path):
    graph, saver, case = _load(fixtures_dir, "partitioned_sharded")
    state = SessionState()
    saver.restore(state, str(case / "model.ckpt-0"))
    state.resources[("", "global_step")].set(np.array(41, np.int64))
    assert saver.save(state, str(tmp_path / "m"), global_step="global_step:0").endswith("m-41")
    gs = next(v for v in graph.get_collection("variables") if v.name == "global_step:0")
    assert saver.save(state, str(tmp_path / "m"), global_step=gs).endswith("m-41")
    read = graph.get_tensor_by_name("global_step/Read/ReadVariableOp:0")      # through the read op
    assert saver.save(state, str(tmp_path / "m"), global_step=read).endswith("m-41")
    with pytest.raises(InvalidArgumentError, match="neither an int nor a variable"):
        saver.save(state, str(tmp_path / "m"), global_step="save/Const:0")


def test_renamed_keys_and_partial_var_list(fixtures_dir, tmp_path):
    graph, saver, case = _load(fixtures_dir, "renamed")
    mapping = {e.key: e.variable.op_name for e in saver.spec.restores}
    assert mapping == {"old_scope/w": "w", "b": "b"}
    state = SessionState()
    saver.restore(state, str(case / "model.ckpt-0"))
    expected = np.load(case / "values.npz")
    np.testing.assert_array_equal(_ref(state, "w").value, expected["w"])
    assert set(_values(state)) == {"w", "b"}
    prefix = saver.save(state, str(tmp_path / "m"), write_meta_graph=False)
    assert [n for n, _ in bundle_io.list_variables(prefix)] == ["b", "old_scope/w"]


def test_missing_key_names_it_with_near_names(fixtures_dir):
    graph, saver, case = _load(fixtures_dir, "renamed")
    w = next(v for v in graph.get_collection("variables") if v.name == "w:0")
    bad = Saver({"old_scope/ww": w}, graph=graph)
    with pytest.raises(NotFoundError, match=r"'old_scope/ww'.*Did you mean 'old_scope/w'"):
        bad.restore(SessionState(), str(case / "model.ckpt-0"))


def test_shape_and_dtype_mismatch_name_variable_and_change_nothing(fixtures_dir):
    graph, saver, case = _load(fixtures_dir, "renamed")
    variables = {v.name: v for v in graph.get_collection("variables")}
    state = SessionState()
    state.resource_variable(ResourceHandle("", "not_saved"), create=True).set(np.zeros(1, np.float32))
    wrong_shape = Saver({"b": variables["b:0"], "old_scope/w": variables["not_saved:0"]}, graph=graph)
    with pytest.raises(InvalidArgumentError, match=r"variable 'not_saved'.*shape \[1\].*shape \[3, 2\]"):
        wrong_shape.restore(state, str(case / "model.ckpt-0"))
    assert ("", "b") not in state.resources                     # nothing half-restored
    np.testing.assert_array_equal(_ref(state, "not_saved").value, [0])


def test_dtype_mismatch(fixtures_dir, tmp_path):
    graph, saver, case = _load(fixtures_dir, "partitioned_sharded")
    gs = next(v for v in graph.get_collection("variables") if v.name == "global_step:0")
    kernel = next(v for v in graph.get_collection("variables") if v.name == "dense/kernel:0")
    bad = Saver({"global_step": kernel}, graph=graph)
    with pytest.raises(InvalidArgumentError, match=r"'dense/kernel'.*dtype float32, the checkpoint has int64"):
        bad.restore(SessionState(), str(case / "model.ckpt-0"))
    assert gs is not None


def test_restore_bad_paths(fixtures_dir, tmp_path):
    graph, saver, case = _load(fixtures_dir, "renamed")
    with pytest.raises(NotFoundError, match=r"not a valid checkpoint: .*nope\.index does not exist"):
        saver.restore(SessionState(), str(tmp_path / "nope"))
    with pytest.raises(InvalidArgumentError, match="save_path is None"):
        saver.restore(SessionState(), None)


def test_save_uninitialized_variable_is_an_error(fixtures_dir, tmp_path):
    graph, saver, case = _load(fixtures_dir, "renamed")
    with pytest.raises(FailedPreconditionError, match="variable '(w|b)'.*uninitialized"):
        saver.save(SessionState(), str(tmp_path / "m"))
    assert not list(tmp_path.iterdir())


def _restored(fixtures_dir, case="renamed", **kwargs):
    graph, saver, case_dir = _load(fixtures_dir, case)
    state = SessionState()
    saver.restore(state, str(case_dir / "model.ckpt-0"))
    return graph, Saver(saver_def=saver.saver_def, graph=graph, **kwargs), state


def test_max_to_keep_deletes_old_files_and_updates_state(fixtures_dir, tmp_path):
    graph, saver, state = _restored(fixtures_dir)
    saver.saver_def.max_to_keep = 2
    for step in (1, 2, 3):
        saver.save(state, str(tmp_path / "model.ckpt"), global_step=step)
    assert saver.last_checkpoints == [str(tmp_path / "model.ckpt-2"), str(tmp_path / "model.ckpt-3")]
    assert sorted(p.name for p in tmp_path.iterdir() if "ckpt-1" in p.name) == []
    raw = state_file.read_checkpoint_state(str(tmp_path))
    assert list(raw.all_model_checkpoint_paths) == ["model.ckpt-2", "model.ckpt-3"]
    assert state_file.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model.ckpt-3")


def test_keep_checkpoint_every_n_hours_preserves(fixtures_dir, tmp_path):
    graph, saver, state = _restored(fixtures_dir)
    saver.saver_def.max_to_keep = 1
    saver.saver_def.keep_checkpoint_every_n_hours = 1.0
    saver._next_checkpoint_time = time.time() - 1        # the first pushed-out checkpoint is past the mark
    for step in (1, 2, 3):
        saver.save(state, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    names = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".index"))
    assert names == ["m-1.index", "m-3.index"]           # m-1 kept by the hours rule, m-2 deleted


def test_max_to_keep_zero_keeps_everything(fixtures_dir, tmp_path):
    graph, saver, state = _restored(fixtures_dir)
    saver.saver_def.max_to_keep = 0
    for step in (1, 2):
        saver.save(state, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    assert saver.last_checkpoints == []
    assert (tmp_path / "m-1.index").exists()
    assert list(state_file.read_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths) == ["m-2"]


def test_recover_last_checkpoints_continues_retention(fixtures_dir, tmp_path):
    graph, saver, state = _restored(fixtures_dir)
    saver.saver_def.max_to_keep = 2
    for step in (1, 2):
        saver.save(state, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    resumed = Saver(saver_def=saver.saver_def, graph=graph)
    resumed.recover_last_checkpoints(state_file.get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths)
    assert resumed.last_checkpoints == [str(tmp_path / "m-1"), str(tmp_path / "m-2")]
    resumed.save(state, str(tmp_path / "m"), global_step=3, write_meta_graph=False)
    assert not (tmp_path / "m-1.index").exists()


def test_write_state_false_and_latest_filename(fixtures_dir, tmp_path):
    graph, saver, state = _restored(fixtures_dir)
    saver.save(state, str(tmp_path / "m"), global_step=1, write_state=False, write_meta_graph=False)
    assert not (tmp_path / "checkpoint").exists()
    saver.save(state, str(tmp_path / "m"), global_step=2, latest_filename="mine", write_meta_graph=False)
    assert state_file.latest_checkpoint(str(tmp_path), "mine") == str(tmp_path / "m-2")


def test_var_list_saver_shards_by_device(fixtures_dir, tmp_path):
    graph = Graph()
    with graph.as_default():
        import_meta_graph(str(fixtures_dir / "graph" / "train" / "model.meta"))
    state = SessionState()
    Saver(saver_def=None, graph=graph).restore(state, str(fixtures_dir / "graph" / "train" / "model.ckpt-3"))
    sharded = Saver(graph=graph, sharded=True)
    assert sorted(s.device for s in sharded.spec.shards) == ["", "job:ps/task:0", "job:ps/task:1"]
    prefix = sharded.save(state, str(tmp_path / "model.ckpt"), global_step=3, write_meta_graph=False)
    assert sorted(p.name for p in tmp_path.iterdir() if ".data-" in p.name) == [
        f"model.ckpt-3.data-0000{i}-of-00003" for i in range(3)]
    back = SessionState()
    sharded.restore(back, prefix)
    for key, ref in state.resources.items():
        np.testing.assert_array_equal(back.resources[key].value, ref.value)


def test_memory_url_save_and_restore(fixtures_dir):
    graph, saver, state = _restored(fixtures_dir)
    prefix = saver.save(state, "memory://h5-saver/run/model.ckpt", global_step=5)
    assert state_file.latest_checkpoint("memory://h5-saver/run") == prefix
    back = SessionState()
    saver.restore(back, prefix)
    np.testing.assert_array_equal(_ref(back, "w").value, _ref(state, "w").value)


def test_overwrite_same_prefix_is_staged_and_clean(fixtures_dir, tmp_path):
    graph, saver, state = _restored(fixtures_dir)
    saver.save(state, str(tmp_path / "model.ckpt"))
    _ref(state, "w").set(_ref(state, "w").value + 1)
    saver.save(state, str(tmp_path / "model.ckpt"))
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model.ckpt.data-00000-of-00001", "model.ckpt.index",
                                            "model.ckpt.meta"]
    back = SessionState()
    saver.restore(back, str(tmp_path / "model.ckpt"))
    np.testing.assert_array_equal(_ref(back, "w").value, _ref(state, "w").value)


def test_restored_values_are_what_the_variable_kernels_read(fixtures_dir):
    """The Saver writes where VarHandleOp/VariableV2 kernels look (same state keys)."""
    from orchestrator.exec.state import KernelContext
    from orchestrator.ops.registry import get_kernel
    graph = Graph()
    with graph.as_default():
        saver = import_meta_graph(str(fixtures_dir / "graph" / "train" / "model.meta"))
    state = SessionState()
    saver.restore(state, str(fixtures_dir / "graph" / "train" / "model.ckpt-3"))
    expected = dict(zip(["b", "w"], bundle_io.read_tensors(str(fixtures_dir / "graph" / "train" / "model.ckpt-3"),
                                                           [("b", ""), ("w", "")])))

    def run(op, *inputs):
        kdef = get_kernel(op.type)
        attrs = {k: v for k, v in op.attrs.items() if k in kdef.attr_names}
        return kdef.fn(*inputs, ctx=KernelContext(node=op, state=state), **attrs)

    handle = run(graph.get_operation_by_name("b"))
    np.testing.assert_array_equal(run(graph.get_operation_by_name("b/Read/ReadVariableOp"), handle), expected["b"])
    ref = run(graph.get_operation_by_name("w"))
    np.testing.assert_array_equal(ref.get(), expected["w"])
