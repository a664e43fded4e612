"""Resource variables are updated in place only when nothing else can see their array
(Ref.mutable, TF's copy-on-write): sparse updates of an unshared table touch its rows, and
every value read before an update, fetched, or assigned from elsewhere keeps its contents."""
from __future__ import annotations

import weakref

import numpy as np

from orchestrator.dtypes import as_dtype
from orchestrator.exec.session import Session
from orchestrator.exec.state import Ref
from orchestrator.graph.model import Graph

F32 = as_dtype(np.float32)


def const(g: Graph, value, dtype=np.float32):
    value = np.asarray(value, dtype)
    return g.create_op("Const", [], attrs={"value": value, "dtype": as_dtype(dtype)}).outputs[0]


def table(rows: int = 6, cols: int = 3):
    """A resource variable, its initializer and ops reading, scatter-adding and nd-scatter-subbing it."""
    g = Graph()
    handle = g.create_op("VarHandleOp", [], attrs={"dtype": F32, "shape": [rows, cols], "shared_name": "t"},
                         name="t").outputs[0]
    init = g.create_op("AssignVariableOp", [handle, const(g, np.arange(rows * cols).reshape(rows, cols))],
                       attrs={"dtype": F32}, name="init")
    read = g.create_op("ReadVariableOp", [handle], attrs={"dtype": F32}, name="read").outputs[0]
    add = g.create_op("ResourceScatterAdd", [handle, const(g, [1, 1, 4], np.int32), const(g, np.ones((3, cols)))],
                      attrs={"dtype": F32}, name="scatter_add")
    sub = g.create_op("ResourceScatterNdSub", [handle, const(g, [[0, 2]], np.int32), const(g, [10.0])],
                      name="scatter_nd_sub")
    # A read ordered before an update in the same run, and fetched together with it.
    read_first = g.create_op("ReadVariableOp", [handle], attrs={"dtype": F32}, name="read_first").outputs[0]
    add_after = g.create_op("ResourceScatterAdd", [handle, const(g, [0], np.int32), const(g, np.ones((1, cols)))],
                            attrs={"dtype": F32}, name="add_after", control_inputs=[read_first.op])
    return g, init, read, add, sub, read_first, add_after


def stored(sess: Session) -> Ref:
    return sess.state.resources[("", "t")]


def test_unshared_table_is_updated_in_place_with_the_right_values() -> None:
    g, init, read, add, sub, *_ = table()
    sess = Session(g)
    sess.run(init)
    sess.run(add)                      # the assigned value came from a constant: first a copy ...
    array = weakref.ref(stored(sess).value)         # watched without holding a reference
    sess.run(add)                      # ... then the table's own array, updated in place
    sess.run(sub)
    assert array() is stored(sess).value
    expected = np.arange(18, dtype=np.float32).reshape(6, 3)
    for _ in range(2):
        np.add.at(expected, [1, 1, 4], 1.0)
    expected[0, 2] -= 10
    np.testing.assert_array_equal(sess.run(read), expected)


def test_values_read_or_fetched_before_an_update_keep_their_contents() -> None:
    g, init, read, add, sub, read_first, add_after = table()
    sess = Session(g)
    sess.run(init)
    fetched = sess.run(read)           # the caller may hold the variable's own array
    sess.run(add)
    sess.run(sub)
    np.testing.assert_array_equal(fetched, np.arange(18, dtype=np.float32).reshape(6, 3))
    before = sess.run(read)
    value, _ = sess.run([read_first, add_after])    # read, then updated, in one run
    np.testing.assert_array_equal(value, before)
    assert sess.run(read)[0].tolist() == (before[0] + 1).tolist()


def test_views_and_foreign_arrays_are_copied_before_writing() -> None:
    ref = Ref("v")
    base = np.zeros((4, 2), np.float32)
    ref.set(base[1:])                  # a view of someone else's array
    ref.mutable()[0, 0] = 5
    assert base.sum() == 0
    ref.set(np.zeros(3, np.float32))   # a fresh array nobody else holds: used as it is
    own = ref.value
    del own
    mutable = ref.mutable()
    assert mutable is ref.value
    frozen = np.zeros(2, np.float32)
    frozen.flags.writeable = False
    ref.set(frozen)
    del frozen
    ref.mutable()[0] = 1
    assert ref.value.flags.writeable and ref.value[0] == 1


def test_resource_optimizer_updates_are_copy_on_write_too() -> None:
    g, init, read, *_ = table()
    handle = g.get_operation_by_name("t").outputs[0]
    alpha, delta = const(g, 0.5), const(g, np.ones((6, 3)))
    step = g.create_op("ResourceApplyGradientDescent", [handle, alpha, delta], name="sgd")
    read_before = g.create_op("ReadVariableOp", [handle], attrs={"dtype": F32}, name="read_before").outputs[0]
    step_after = g.create_op("ResourceApplyGradientDescent", [handle, alpha, delta], name="sgd_after",
                             control_inputs=[read_before.op])
    sess = Session(g)
    sess.run(init)
    sess.run(step)
    array = weakref.ref(stored(sess).value)
    sess.run(step)                                  # the variable's own array: in place
    assert array() is stored(sess).value
    before, _ = sess.run([read_before, step_after])
    np.testing.assert_array_equal(before, np.arange(18, dtype=np.float32).reshape(6, 3) - 1.0)
    np.testing.assert_array_equal(sess.run(read), before - 0.5)
