"""Control-flow kernels on their own (the executor tests in tests/exec run them in graphs):
v1 Switch/Merge/Enter/Exit/NextIteration/LoopCond values and predicate checks, and the v2
functional ops' use of ``ctx.call_function`` with TF's condition and branch rules.

Expected behaviours were observed with TF 2.21: v1 ops in a graph session with inputs of
unknown static shape (so the runtime check, not shape inference, answers), v2 ops as eager
``tf.raw_ops.StatelessIf``/``StatelessCase`` calls with concrete functions.
"""
from __future__ import annotations

import types

import numpy as np
import pytest

from orchestrator.errors import InvalidArgumentError
from orchestrator.exec.state import KernelContext, Ref, SessionState
from orchestrator.ops.control_flow_ops import DEAD
from orchestrator.ops.registry import get_kernel


def fn(op: str):
    return get_kernel(op).fn


# ------------------------------------------------------------------------- v1

@pytest.mark.parametrize("pred, taken", [(np.array(True), 1), (np.array(False), 0)])
def test_switch_puts_data_on_the_taken_side_and_dead_on_the_other(pred, taken):
    data = np.float32([1, 2])
    out = fn("Switch")(data, pred)
    assert out[taken] is data and out[1 - taken] is DEAD


def test_switch_needs_a_scalar_predicate():
    # TF: "The second input must be a scalar, but it has shape [1]"
    with pytest.raises(InvalidArgumentError, match=r"Switch: The second input must be a scalar, but it has "
                                                   r"shape \[1\]"):
        fn("Switch")(np.float32(1), np.array([True]))


def test_ref_switch_passes_the_ref_itself():
    ref = Ref("v")
    assert fn("RefSwitch")(ref, np.array(False)) == (ref, DEAD)


def test_merge_forwards_the_first_live_input_and_its_index():
    a, b = np.float32(1), np.float32(2)
    value, index = fn("Merge")(DEAD, b, a)
    assert value is b and index == 1 and np.asarray(index).dtype == np.int32
    value, index = fn("Merge")(a, b)          # TF's graph run of Merge(1., 2.) gives (1., 0)
    assert value is a and index == 0
    assert fn("Merge")(DEAD, DEAD) == (DEAD, DEAD)


@pytest.mark.parametrize("op", ["Enter", "Exit", "NextIteration"])
def test_frame_moves_pass_the_value_through(op):
    value = np.arange(3)
    assert fn(op)(value) is value
    ref = Ref("v")
    assert fn("Ref" + op)(ref) is ref


def test_loop_cond_forwards_its_predicate():
    pred = np.array(True)
    assert fn("LoopCond")(pred) is pred


# ------------------------------------------------------------------------- v2

def fake_ctx(op_type: str, functions: dict) -> tuple[KernelContext, list]:
    """A context whose call_function runs python stand-ins for library functions."""
    calls: list = []

    def call_function(name, inputs, attrs):
        calls.append(name)
        return functions[name](*inputs)

    node = types.SimpleNamespace(name="n", type=op_type)
    return KernelContext(node=node, state=SessionState(), call_function=call_function), calls


def func(name: str):
    return types.SimpleNamespace(name=name, attr={})


# (cond, branch TF took): strings by emptiness, other scalars by != 0, non-scalars by size.
IF_CASES = [(np.array(b""), "else"), (np.array(b"a"), "then"), (np.float32([0.0]), "then"),
            (np.zeros(0, np.float32), "else"), (np.float32(0.5), "then"), (np.int32(0), "else"),
            (np.int64(-3), "then"), (np.array([False]), "then")]


@pytest.mark.parametrize("op", ["If", "StatelessIf"])
@pytest.mark.parametrize("cond, taken", IF_CASES, ids=[f"{c!r}" for c, _ in IF_CASES])
def test_if_takes_the_branch_tf_takes(op, cond, taken):
    ctx, calls = fake_ctx(op, {"then": lambda x: [x + 1], "else": lambda x: [x - 1]})
    (out,) = fn(op)(cond, np.float32(10), ctx=ctx, then_branch=func("then"), else_branch=func("else"))
    assert calls == [taken] and out == (11 if taken == "then" else 9)


@pytest.mark.parametrize("op", ["Case", "StatelessCase"])
@pytest.mark.parametrize("index, taken", [(0, "b0"), (1, "b1"), (2, "b2"), (3, "b2"), (-1, "b2"), (7, "b2")])
def test_case_out_of_range_runs_the_last_branch(op, index, taken):
    ctx, calls = fake_ctx(op, {f"b{k}": (lambda k: lambda x: [x * k])(k) for k in range(3)})
    (out,) = fn(op)(np.int32(index), np.float32(10), ctx=ctx, branches=[func("b0"), func("b1"), func("b2")])
    assert calls == [taken] and out == 10 * int(taken[1])


@pytest.mark.parametrize("op", ["While", "StatelessWhile"])
def test_while_runs_body_until_cond_is_false(op):
    ctx, calls = fake_ctx(op, {"cond": lambda i, acc: [i < 4], "body": lambda i, acc: [i + 1, acc * 2]})
    i, acc = fn(op)(np.int32(0), np.float32(1), ctx=ctx, cond=func("cond"), body=func("body"))
    assert (i, acc) == (4, 16) and calls.count("body") == 4 and calls.count("cond") == 5


def test_while_body_must_keep_the_number_of_loop_variables():
    ctx, _ = fake_ctx("StatelessWhile", {"cond": lambda i: [True], "body": lambda i: [i, i]})
    with pytest.raises(InvalidArgumentError, match="body 'body' returned 2 values for 1 loop variables"):
        fn("StatelessWhile")(np.int32(0), ctx=ctx, cond=func("cond"), body=func("body"))


@pytest.mark.parametrize("op", ["PartitionedCall", "StatefulPartitionedCall"])
def test_partitioned_call_returns_the_function_outputs(op):
    ctx, calls = fake_ctx(op, {"f": lambda a, b: [a + b, a * b]})
    assert fn(op)(np.int32(2), np.int32(5), ctx=ctx, f=func("f")) == (7, 10) and calls == ["f"]


def test_a_call_without_its_function_names_the_node():
    ctx, _ = fake_ctx("PartitionedCall", {})
    with pytest.raises(InvalidArgumentError, match="PartitionedCall 'n': no function given for f"):
        fn("PartitionedCall")(np.int32(1), ctx=ctx, f=None)
