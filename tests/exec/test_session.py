"""Session.run semantics on small graphs built with Graph.create_op."""
from __future__ import annotations

import collections

import numpy as np
import pytest

from orchestrator.dtypes import as_dtype
from orchestrator.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError, UnimplementedError
from orchestrator.exec.session import Session
from orchestrator.graph.model import Graph
from orchestrator.ops.registry import has_kernel

F32 = as_dtype(np.float32)


def const(g: Graph, value, name: str | None = None, dtype=np.float32):
    value = np.asarray(value, dtype)
    tf_dtype = as_dtype("string") if dtype is object else as_dtype(dtype)
    return g.create_op("Const", [], attrs={"value": value, "dtype": tf_dtype}, name=name).outputs[0]


def placeholder(g: Graph, name: str, shape=None, dtype=np.float32):
    return g.create_op("Placeholder", [], attrs={"dtype": as_dtype(dtype), "shape": shape}, name=name).outputs[0]


def variable(g: Graph, name: str, init) -> tuple:
    """A ref variable, its initializer (Assign) and a counter op that adds 1 (AssignAdd)."""
    var = g.create_op("VariableV2", [], attrs={"dtype": F32, "shape": np.shape(init)}, name=name).outputs[0]
    assign = g.create_op("Assign", [var, const(g, init)], name=f"{name}/Assign")
    bump = g.create_op("AssignAdd", [var, const(g, np.ones(np.shape(init)))], name=f"{name}/bump")
    return var, assign, bump


@pytest.fixture
def toy():
    g = Graph()
    x = placeholder(g, "x", (None, 2))
    c = const(g, [1.0, 2.0], "c")
    add = g.create_op("AddV2", [x, c], name="add").outputs[0]
    total = g.create_op("Sum", [add, const(g, [0, 1], dtype=np.int32)], name="total").outputs[0]
    return g, x, c, add, total


def test_fetch_structures_come_back_in_shape(toy) -> None:
    g, x, c, add, total = toy
    sess = Session(g)
    Pair = collections.namedtuple("Pair", "left right")
    feed = {x: [[1.0, 1.0]]}
    out = sess.run({"a": [add, ("total:0", c)], "p": Pair(total, "add"), "n": {"op": "c"}}, feed_dict=feed)
    np.testing.assert_array_equal(out["a"][0], [[2.0, 3.0]])
    assert isinstance(out["a"][1], tuple) and out["a"][1][0] == np.float32(5.0)
    assert isinstance(out["p"], Pair) and out["p"].right is None and out["p"].left == 5.0
    assert out["n"] == {"op": None}
    scalar = sess.run(total, feed)
    assert isinstance(scalar, np.float32) and scalar == 5.0
    assert sess.run([], feed) == []


def test_feeds_by_name_tensor_and_python_values(toy) -> None:
    g, x, c, add, total = toy
    sess = Session(g)
    assert sess.run(total, {"x:0": [[0, 0], [1, 1]]}) == np.float32(8.0)   # ints take the float dtype
    assert sess.run(total, {x: np.ones((1, 2), np.float64)}) == np.float32(5.0)
    assert sess.run(add, {x: [[0.0, 0.0]]}).dtype == np.float32
    # any tensor may be fed, and fetching a fed tensor gives the fed value
    np.testing.assert_array_equal(sess.run(add, {add: np.zeros((1, 2), np.float32)}), [[0.0, 0.0]])
    assert sess.run(total, {add: np.full((2, 2), 2, np.float32)}) == np.float32(8.0)   # x need not be fed


def test_bad_feeds_are_refused_naming_the_tensor(toy) -> None:
    g, x, c, add, total = toy
    sess = Session(g)
    with pytest.raises(InvalidArgumentError, match=r"shape \(1, 3\).*'x:0'.*\(\?, 2\)"):
        sess.run(total, {x: np.ones((1, 3), np.float32)})
    with pytest.raises(InvalidArgumentError, match=r"dtype.*'x:0'.*float32"):
        sess.run(total, {x: np.array([["a", "b"]])})
    n = placeholder(g, "n", (), np.int32)
    with pytest.raises(InvalidArgumentError, match=r"float64.*'n:0'.*int32"):
        sess.run(n, {n: 1.5})
    with pytest.raises(InvalidArgumentError, match="You must feed a value for placeholder tensor 'x:0'"):
        sess.run(total)
    with pytest.raises(NotFoundError, match="nope"):
        sess.run(total, {"nope:0": 1.0})


def test_pruning_runs_only_what_the_fetches_need() -> None:
    g = Graph()
    var, assign, bump = variable(g, "v", [0.0])
    other, other_assign, other_bump = variable(g, "w", [0.0])
    read = g.create_op("Identity", [var], name="read").outputs[0]
    sess = Session(g)
    sess.run([assign, other_assign])
    sess.run(bump)
    assert sess.run(read) == [1.0]
    assert sess.state.ref_variables["w"].get().tolist() == [0.0]   # w/bump was never fetched


def test_stateful_op_runs_once_per_run() -> None:
    g = Graph()
    var, assign, bump = variable(g, "v", [0.0])
    first = g.create_op("Identity", [bump.outputs[0]], name="first").outputs[0]
    second = g.create_op("Identity", [bump.outputs[0]], name="second").outputs[0]
    sess = Session(g)
    sess.run(assign)
    a, b, _ = sess.run([first, second, bump])
    assert a.tolist() == b.tolist() == [1.0]
    assert sess.run("v:0").tolist() == [1.0]


def test_fetched_values_do_not_change_when_the_variable_does() -> None:
    g = Graph()
    var, assign, bump = variable(g, "v", [0.0])
    read = g.create_op("Identity", [var], name="read").outputs[0]
    sess = Session(g)
    sess.run(assign)
    before = sess.run(read)
    sess.run(bump)
    assert before.tolist() == [0.0]


def test_uninitialized_variable_read_names_it() -> None:
    g = Graph()
    var, assign, bump = variable(g, "weights", [0.0])
    read = g.create_op("Identity", [var], name="read").outputs[0]
    with pytest.raises(FailedPreconditionError, match="uninitialized value weights"):
        Session(g).run(read)


def test_missing_kernel_refused_before_anything_runs() -> None:
    assert not has_kernel("DecodeJpeg")
    g = Graph()
    var, assign, bump = variable(g, "v", [0.0])
    jpeg = const(g, b"not a jpeg", dtype=object)
    decode = g.create_op("DecodeJpeg", [jpeg], name="decode", control_inputs=[assign])
    group = g.create_op("NoOp", [], name="group", control_inputs=[decode, bump])
    sess = Session(g)
    assert sess.unsupported_ops() == {"DecodeJpeg": ["decode"]}
    with pytest.raises(UnimplementedError, match=r"DecodeJpeg \(used by 'decode'\)"):
        sess.run(group)
    assert not sess.state.ref_variables.get("v") or not sess.state.ref_variables["v"].initialized
    sess.run(assign)                               # the rest of the graph still runs
    assert sess.run(bump.outputs[0]).tolist() == [1.0]


def test_session_made_before_the_graph_grows() -> None:
    g = Graph()
    sess = Session(g)
    assert sess.run([]) == []
    c = const(g, 3.0, "three")
    assert sess.run("three:0") == 3.0
    double = g.create_op("AddV2", [c, c], name="six").outputs[0]
    assert sess.run(double) == 6.0
    assert sess.run("three:0") == 3.0


def test_compiled_plans_are_reused_and_values_freed(toy) -> None:
    g, x, c, add, total = toy
    sess = Session(g)
    sess.run(total, {x: [[1.0, 1.0]]})
    plan = sess.plan([total], [x])
    sess.run("total:0", {"x:0": [[2.0, 2.0]]})
    assert sess.plan([total], [x]) is plan
    schedule = plan.schedule
    assert schedule.num_ops == 2                       # AddV2 and Sum; the consts are folded
    add_step = schedule.steps[0]
    assert add_step.out in schedule.steps[1].free   # add:0 dies after Sum reads it


def test_closed_session_and_context_manager(toy) -> None:
    g, *_ = toy
    with Session(g) as sess:
        from orchestrator.graph.model import get_default_graph
        assert get_default_graph() is g
        assert sess.run("c:0").tolist() == [1.0, 2.0]
    with pytest.raises(FailedPreconditionError, match="closed"):
        sess.run("c:0")
    with pytest.raises(UnimplementedError, match="grpc"):
        Session("grpc://localhost:2222", g)


def test_kernel_errors_name_the_node() -> None:
    g = Graph()
    a = const(g, np.ones((2, 3)))
    b = const(g, np.ones((2, 3)))
    g.create_op("MatMul", [a, b], name="bad_matmul")
    with pytest.raises(InvalidArgumentError, match="bad_matmul"):
        Session(g).run("bad_matmul:0")


def test_compat_v1_session_is_ours() -> None:
    import orchestrator
    import orchestrator.compat.v1 as tf
    assert tf.Session is Session and orchestrator.Session is Session


def test_constant_subgraphs_fold_but_variable_reads_do_not() -> None:
    g = Graph()
    var, assign, bump = variable(g, "v", [1.0])
    two = g.create_op("AddV2", [const(g, [1.0]), const(g, [1.0])], name="two").outputs[0]
    scaled = g.create_op("Mul", [var, two], name="scaled").outputs[0]
    sess = Session(g)
    sess.run(assign)
    assert sess.run(scaled).tolist() == [2.0]
    assert sess.plan([scaled], []).num_ops == 1        # only Mul: the AddV2 of constants was folded
    sess.run(bump)
    assert sess.run(scaled).tolist() == [4.0]          # the variable is read at run time
    folded = sess.run(two)
    assert folded.tolist() == [2.0] and folded.flags.writeable   # fetched constants are the caller's copy


def test_make_callable_runs_the_compiled_plan(toy) -> None:
    g, x, c, add, total = toy
    sess = Session(g)
    step = sess.make_callable([total, add], feed_list=["x:0"])
    out_total, out_add = step([[1.0, 1.0]])
    assert out_total == 5.0 and out_add.tolist() == [[2.0, 3.0]]
    with pytest.raises(InvalidArgumentError, match="takes 1 feed value"):
        step()
    with pytest.raises(InvalidArgumentError, match="shape"):
        step(np.ones((1, 5), np.float32))


def test_identity_and_noop_cost_no_step_but_keep_their_meaning(toy) -> None:
    g, x, c, add, total = toy
    same = g.create_op("Identity", [add], name="same").outputs[0]
    g.create_op("NoOp", [], name="after", control_inputs=[same.op])
    sess = Session(g)
    a, b, _ = sess.run([add, same, "after"], {x: [[0.0, 0.0]]})
    assert a.tolist() == b.tolist() == [[1.0, 2.0]] and a is not b
    assert sess.plan([add, same, g.get_operation_by_name("after")], [x]).num_ops == 1   # only AddV2 runs
