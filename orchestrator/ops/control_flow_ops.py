"""v1 control-flow kernels: Enter/Exit/NextIteration/LoopCond/Switch/Merge, plus NoOp and
ControlTrigger (Assert lives with the array kernels).

These compute the *values*; the frame bookkeeping (which frame and iteration a value
belongs to, deadness flowing through untaken branches) is the dynamic executor's job
(``orchestrator/exec/frames.py``). A value on an untaken branch is the ``DEAD`` marker:
``Switch`` puts it on the output it does not take, ``Merge`` forwards the first input that
is not dead. The ``Ref*`` variants pass a ref variable through untouched (``ref_inputs``),
so an ``Apply*`` op inside a loop still updates the variable in place.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.registry import kernel


class _Dead:
    """The value of a tensor on a branch that was not taken."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<dead>"

    def __reduce__(self) -> str:
        return "DEAD"


DEAD = _Dead()


def is_true(pred: Any) -> bool:
    """A scalar predicate's value (Switch, LoopCond); anything but one element is an error."""
    if pred.__class__ is np.bool_:     # the common case, once per loop iteration and Switch
        return bool(pred)
    if pred.__class__ is np.ndarray and not pred.shape:   # a comparison kernel's 0-d result
        return bool(pred)
    array = np.asarray(pred)
    if array.size != 1:
        raise InvalidArgumentError(f"a control-flow predicate must be a scalar, found shape {list(array.shape)}")
    return bool(array.reshape(-1)[0])


@kernel("Enter")
def enter(data: Any, *, frame_name: bytes = b"", is_constant: bool = False,
          parallel_iterations: int = 10) -> Any:
    """Moves ``data`` into the child frame ``frame_name`` (the executor does the moving)."""
    return data


@kernel("RefEnter", ref_inputs=(0,))
def ref_enter(data: Any, *, frame_name: bytes = b"", is_constant: bool = False,
              parallel_iterations: int = 10) -> Any:
    return data


@kernel("Exit")
def exit_(data: Any) -> Any:
    """Moves ``data`` to the parent frame."""
    return data


@kernel("RefExit", ref_inputs=(0,))
def ref_exit(data: Any) -> Any:
    return data


@kernel("NextIteration")
def next_iteration(data: Any) -> Any:
    """Moves ``data`` to the next iteration of its frame."""
    return data


@kernel("RefNextIteration", ref_inputs=(0,))
def ref_next_iteration(data: Any) -> Any:
    return data


@kernel("LoopCond")
def loop_cond(pred: Any) -> Any:
    """The loop's continuation predicate (a scalar bool), forwarded to its Switches."""
    is_true(pred)
    return pred


@kernel("Switch", multi=True)
def switch(data: Any, pred: Any) -> tuple[Any, Any]:
    """(output_false, output_true): ``data`` on the side ``pred`` selects, DEAD on the other."""
    if np.ndim(pred) != 0:   # TF's Switch takes only a 0-d predicate (LoopCond passes anything)
        raise InvalidArgumentError(f"Switch: The second input must be a scalar, but it has shape "
                                   f"[{','.join(map(str, np.shape(pred)))}]")
    return (DEAD, data) if is_true(pred) else (data, DEAD)


@kernel("RefSwitch", multi=True, ref_inputs=(0,))
def ref_switch(data: Any, pred: Any) -> tuple[Any, Any]:
    return switch(data, pred)


@kernel("Merge", multi=True)
def merge(*inputs: Any) -> tuple[Any, Any]:
    """(output, value_index): the first input that is not DEAD; both DEAD when all are."""
    for index, value in enumerate(inputs):
        if value is not DEAD:
            return value, np.int32(index)
    return DEAD, DEAD


@kernel("RefMerge", multi=True, ref_inputs=(0, 1))
def ref_merge(*inputs: Any) -> tuple[Any, Any]:
    return merge(*inputs)


@kernel("NoOp")
def no_op() -> None:
    """Only its control dependencies matter."""
    return None


@kernel("ControlTrigger")
def control_trigger() -> None:
    """A NoOp that runs even when its inputs are dead (the executor treats it so)."""
    return None
