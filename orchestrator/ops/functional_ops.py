"""v2 functional control flow: While/StatelessWhile, If/StatelessIf, Case/StatelessCase,
PartitionedCall/StatefulPartitionedCall.

Each calls functions of the graph's library through ``ctx.call_function(name, inputs,
attrs)`` (the session's ``FunctionRuntime``, which compiles a body once and reuses it).
A function-valued attr (``cond``, ``body``, ``f``, ``branches``) is a ``NameAttrList``:
the function's name plus the attrs of this call.

Predicates follow TF's rule for ``If``/``While`` conditions: a scalar is true when
non-zero (a string when non-empty); a tensor of any other shape is true when it has
elements.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.exec.state import KernelContext
from orchestrator.ops.registry import kernel


_BOOL = np.dtype(bool)


def truthy(value: Any) -> bool:
    """TF's conversion of a condition tensor to a bool."""
    if type(value) is np.ndarray and value.dtype is _BOOL and not value.shape:
        return bool(value)             # a loop condition's usual result, checked every iteration
    array = np.asarray(value)
    if array.ndim == 0:
        item = array.item()
        return len(item) > 0 if isinstance(item, (bytes, str)) else bool(item)
    return array.size > 0


def _call(ctx: KernelContext, fn: Any, inputs: list, what: str) -> list:
    if fn is None or not getattr(fn, "name", ""):
        raise InvalidArgumentError(f"{ctx.node.type} {ctx.op_name!r}: no function given for {what}")
    return list(ctx.call_function(fn.name, inputs, fn.attr))


def _while(inputs: tuple, ctx: KernelContext, cond: Any, body: Any) -> tuple:
    for fn, what in ((cond, "cond"), (body, "body")):
        if fn is None or not getattr(fn, "name", ""):
            raise InvalidArgumentError(f"{ctx.node.type} {ctx.op_name!r}: no function given for {what}")
    # The iterations call the runtime directly (what _call does, checked once above): a v2
    # RNN loop runs ~20 cond/body calls a step and the wrapper was a visible share of them.
    call = ctx.call_function
    cond_name, cond_attrs, body_name, body_attrs = cond.name, cond.attr, body.name, body.attr
    count = len(inputs)
    values = list(inputs)
    while True:
        (keep_going,) = call(cond_name, values, cond_attrs)
        if not (type(keep_going) is np.ndarray and keep_going.dtype is _BOOL and not keep_going.shape):
            keep_going = truthy(keep_going)
        if not keep_going:
            return tuple(values)
        values = call(body_name, values, body_attrs)
        if len(values) != count:
            raise InvalidArgumentError(f"{ctx.node.type} {ctx.op_name!r}: body {body.name!r} returned "
                                       f"{len(values)} values for {count} loop variables")


@kernel("While", multi=True, needs_ctx=True, stateful=True)
def while_(*inputs: Any, ctx: KernelContext, cond: Any = None, body: Any = None) -> tuple:
    """Loop ``body`` over the loop variables while ``cond`` holds; parallel_iterations is moot here."""
    return _while(inputs, ctx, cond, body)


@kernel("StatelessWhile", multi=True, needs_ctx=True)
def stateless_while(*inputs: Any, ctx: KernelContext, cond: Any = None, body: Any = None) -> tuple:
    return _while(inputs, ctx, cond, body)


def _if(pred: Any, inputs: tuple, ctx: KernelContext, then_branch: Any, else_branch: Any) -> tuple:
    branch = then_branch if truthy(pred) else else_branch
    return tuple(_call(ctx, branch, list(inputs), "the taken branch"))


@kernel("If", multi=True, needs_ctx=True, stateful=True)
def if_(cond: Any, *inputs: Any, ctx: KernelContext, then_branch: Any = None, else_branch: Any = None) -> tuple:
    return _if(cond, inputs, ctx, then_branch, else_branch)


@kernel("StatelessIf", multi=True, needs_ctx=True)
def stateless_if(cond: Any, *inputs: Any, ctx: KernelContext, then_branch: Any = None,
                 else_branch: Any = None) -> tuple:
    return _if(cond, inputs, ctx, then_branch, else_branch)


def _case(branch_index: Any, inputs: tuple, ctx: KernelContext, branches: list) -> tuple:
    if not branches:
        raise InvalidArgumentError(f"{ctx.node.type} {ctx.op_name!r}: no branches")
    index = int(np.asarray(branch_index).reshape(-1)[0])
    # TF: an index out of range selects the last branch (the default).
    chosen = branches[index] if 0 <= index < len(branches) else branches[-1]
    return tuple(_call(ctx, chosen, list(inputs), f"branch {index}"))


@kernel("Case", multi=True, needs_ctx=True, stateful=True)
def case(branch_index: Any, *inputs: Any, ctx: KernelContext, branches: list | None = None) -> tuple:
    return _case(branch_index, inputs, ctx, branches or [])


@kernel("StatelessCase", multi=True, needs_ctx=True)
def stateless_case(branch_index: Any, *inputs: Any, ctx: KernelContext, branches: list | None = None) -> tuple:
    return _case(branch_index, inputs, ctx, branches or [])


@kernel("PartitionedCall", multi=True, needs_ctx=True)
def partitioned_call(*args: Any, ctx: KernelContext, f: Any = None) -> tuple:
    return tuple(_call(ctx, f, list(args), "f"))


@kernel("StatefulPartitionedCall", multi=True, needs_ctx=True, stateful=True)
def stateful_partitioned_call(*args: Any, ctx: KernelContext, f: Any = None) -> tuple:
    return tuple(_call(ctx, f, list(args), "f"))
