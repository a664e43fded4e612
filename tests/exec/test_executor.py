"""FlatSchedule: the first run is interpreted, later runs use the generated program; both
must compute the same values, free the same slots and name the failing node."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from orchestrator.errors import FailedPreconditionError, InvalidArgumentError
from orchestrator.exec.executor import FlatSchedule, generate_program, make_step
from orchestrator.exec.state import Ref


def node(name: str, op_type: str = "Test") -> SimpleNamespace:
    return SimpleNamespace(name=name, type=op_type)


def scale(x, *, factor):
    return x * factor


def with_odd_attr(x, **attrs):
    return x + attrs["not-an-identifier"]


def split_two(x):
    return x[:1], x[1:]


def split_wrong(x):
    return (x,)


def schedule(split=split_two) -> tuple[FlatSchedule, Ref]:
    """slots: 0 input x, 1 ref, 2 x*3, 3 (x*3)+ref, 4/5 halves, 6 odd attr of half 0, 7 sum."""
    ref = Ref("v")
    steps = [
        make_step(scale, (0,), (), {"factor": np.float32(3)}, 2, -1, (), node("times3")),
        make_step(np.add, (2, 1), (1,), {}, 3, -1, (), node("plus_v")),
        make_step(split, (3,), (), {}, 4, 2, (3,), node("halves", "Split")),
        make_step(with_odd_attr, (4,), (), {"not-an-identifier": 1.0}, 6, -1, (4,), node("odd")),
        make_step(np.add, (6, 5), (), {}, 7, -1, (5, 6), node("total")),
    ]
    template = [None, ref, None, None, None, None, None, None]
    return FlatSchedule(steps, template, [0], [7, 2], [False, False]), ref


def test_program_runs_match_the_interpreted_first_run() -> None:
    sched, ref = schedule()
    ref.set(np.array([10.0, 20.0], np.float32))
    x = np.array([1.0, 2.0], np.float32)
    first = sched.run([x])
    second = sched.run([x])
    assert sched._program is not None          # the second run used the generated program
    third = sched.run([x * 2])
    for a, b in zip(first, second):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert first[0].tolist() == [40.0] and third[0].tolist() == [49.0]   # (3x + v)[0] + 1 + (3x + v)[1]
    assert first[1].tolist() == [3.0, 6.0]


def test_program_frees_what_the_interpreter_frees() -> None:
    sched, ref = schedule()
    ref.set(np.ones(2, np.float32))
    program = generate_program(sched.steps)
    vals = sched.template.copy()
    vals[0] = np.ones(2, np.float32)
    program(vals)
    # Inputs, the ref and the outputs (slots 2 and 7) stay; the rest is freed after its last use.
    assert [v is None for v in vals] == [False, False, False, True, True, True, True, False]


@pytest.mark.parametrize("runs_before", [0, 1, 2])
def test_errors_name_the_node_on_every_run(runs_before: int) -> None:
    sched, ref = schedule()
    ref.set(np.ones(2, np.float32))
    for _ in range(runs_before):
        sched.run([np.ones(2, np.float32)])
    ref.value = None
    with pytest.raises(FailedPreconditionError, match="uninitialized value v"):
        sched.run([np.ones(2, np.float32)])
    ref.set(np.ones(3, np.float32))
    with pytest.raises(InvalidArgumentError, match="'plus_v'"):
        sched.run([np.ones(2, np.float32)])


@pytest.mark.parametrize("runs_before", [0, 2])
def test_wrong_output_count_is_an_error_naming_the_node(runs_before: int) -> None:
    sched, ref = schedule()
    ref.set(np.ones(2, np.float32))
    for _ in range(runs_before):
        sched.run([np.ones(2, np.float32)])
    sched_wrong, ref_wrong = schedule(split_wrong)
    ref_wrong.set(np.ones(2, np.float32))
    for _ in range(runs_before):
        with pytest.raises(InvalidArgumentError, match="halves.*returned 1 outputs, the op has 2"):
            sched_wrong.run([np.ones(2, np.float32)])
    with pytest.raises(InvalidArgumentError, match="halves.*returned 1 outputs, the op has 2"):
        sched_wrong.run([np.ones(2, np.float32)])


def test_swapped_steps_run_interpreted() -> None:
    """The profiler swaps in wrapped kernels; those must be the ones called."""
    sched, ref = schedule()
    ref.set(np.ones(2, np.float32))
    sched.run([np.ones(2, np.float32)])
    sched.run([np.ones(2, np.float32)])
    called = []

    def spy(fn):
        def wrapped(*args, **kwargs):
            called.append(fn)
            return fn(*args, **kwargs)
        return wrapped

    saved = sched.steps
    sched.steps = tuple(step._replace(fn=spy(step.fn)) for step in saved)
    try:
        sched.run([np.ones(2, np.float32)])
    finally:
        sched.steps = saved
    assert len(called) == len(saved)
    assert sched._program_steps is saved         # the program of the real steps is kept


def test_inner_schedule_program_returns_its_outputs_unfinalized() -> None:
    """finalize=False (loop and function bodies): a Ref output stays the Ref, on every run."""
    sched, ref = schedule()
    inner = FlatSchedule(sched.steps, sched.template, [0], [7, 1], [False, False], finalize=False)
    ref.set(np.array([10.0, 20.0], np.float32))
    runs = [inner.run([np.array([1.0, 2.0], np.float32)]) for _ in range(3)]
    assert inner._program is not None
    for total, handle in runs:
        assert total.tolist() == [40.0] and handle is ref


def test_inputs_outside_the_first_slots() -> None:
    steps = [make_step(np.subtract, (0, 1), (), {}, 2, -1, (), node("sub"))]
    sched = FlatSchedule(steps, [None, None, None], [1, 0], [2], [False])
    for _ in range(3):                               # interpreted, then generated
        (diff,) = sched.run([np.float32(1.0), np.float32(5.0)])
        assert diff == 4.0                           # slot 0 holds the second input
