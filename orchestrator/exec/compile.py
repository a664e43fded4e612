"""From a graph and a run signature to something executable.

``Session.run`` calls these in order, once per (graph version, fetches, feeds) signature:

1. ``prune``: the operations the fetches need, following data and control edges
   backwards; a fed tensor cuts the walk (its producer need not run).
2. ``check_runnable``: refuse before anything runs — op types without a kernel (also
   inside the function bodies the subgraph calls), placeholders nobody feeds.
3. ``toposort`` + ``build_schedule`` (acyclic subgraphs without v1 control flow): a
   ``FlatSchedule`` of resolved kernels and integer slots, constants folded at compile
   time. With v1 control flow (Enter/Exit/Switch/Merge/NextIteration): plain while loops
   are lifted into loop nodes of a flat schedule (``exec/loops.py``); anything else (v1
   conds: dead tensors) runs on the frame executor (``exec/frames.py``). All three are
   compiled from the same per-node ``NodeCall`` records.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.exec.executor import FlatSchedule, make_step
from orchestrator.ops.registry import get_kernel

# Op types that need the dynamic (frame-aware) executor.
V1_CONTROL_FLOW = frozenset({
    "Enter", "RefEnter", "Exit", "RefExit", "Switch", "RefSwitch", "Merge", "RefMerge",
    "NextIteration", "RefNextIteration", "LoopCond"})

# Ops whose output is fixed for a session, so they run once when a schedule is compiled:
# constants, and variable handles (a ref variable's Ref holder is created once per session
# and keeps its identity; a resource handle is a pure function of the attrs). Their
# consumers still read the variable's *current* value at run time.
COMPILE_TIME_OPS = frozenset({"Const", "VariableV2", "Variable", "VarHandleOp"})
_HANDLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp"})
_ORDER_ONLY_OPS = frozenset({"NoOp", "ControlTrigger"})
FOLD_LIMIT_BYTES = 10 << 20   # largest value a folded pure op may leave in a schedule

# Ops the executor itself provides: a Placeholder only ever yields its feed.
EXECUTOR_OPS = frozenset({"Placeholder"})

# Ops whose output may be (a view of) their first input: a fetched value reached from a
# ref variable through these is copied, so a later in-place update cannot change it.
_ALIASING_OPS = frozenset({"Identity", "RefIdentity", "IdentityN", "Snapshot", "StopGradient",
                           "Reshape", "ExpandDims", "Squeeze", "PlaceholderWithDefault",
                           "Enter", "RefEnter", "Exit", "RefExit", "Switch", "RefSwitch",
                           "Merge", "RefMerge", "NextIteration", "RefNextIteration"})

class NodeCall(NamedTuple):
    """One node, resolved: what to call and where its values come from and go."""

    node: Any                      # Operation or function-body node (name, type for messages; ctx)
    fn: Callable | None
    kwargs: dict
    inputs: tuple[Hashable, ...]   # value keys, one per input (("feed", Tensor) for a fed value)
    deref: tuple[int, ...]         # input positions to dereference (ref output -> value input)
    outputs: tuple[Hashable, ...]  # value keys, one per output
    multi: bool
    fold: bool                     # evaluated once at compile time (Const, variable handles)
    pure: bool = False             # stateless, no ctx: folded when all its inputs are constants


def prune(fetch_tensors: Iterable[Any], target_ops: Iterable[Any], fed: set,
          within: set | None = None) -> list[Any]:
    """Operations needed for the fetches and targets, in graph insertion order.

    ``within`` (a device partition's block): only these operations may run; control
    inputs from outside it ran before (in an earlier block) and are not followed, and a
    data input from outside it must be fed.
    """
    needed: set = set()
    stack = [t.op for t in fetch_tensors if t not in fed]
    stack.extend(target_ops)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        if within is not None and op not in within:
            raise InvalidArgumentError(f"{op.name!r} is needed by this partition but runs on another task "
                                       f"and is not fed (a bug in the partition plan)")
        needed.add(op)
        stack.extend(t.op for t in op.inputs if t not in fed)
        stack.extend(op.control_inputs if within is None else (c for c in op.control_inputs if c in within))
    if not needed:
        return []
    graph = next(iter(needed)).graph
    return [op for op in graph.get_operations() if op in needed]


def check_runnable(ops: Sequence[Any], fed: set, library: dict) -> None:
    """Raise before running anything: missing kernels (incl. called functions), unfed placeholders."""
    from orchestrator.exec.functions import missing_kernels   # functions imports this module

    missing = missing_kernels(ops, library)
    if missing:
        listing = "; ".join(f"{op_type} (used by {', '.join(repr(n) for n in nodes[:5])}"
                            f"{' and %d more' % (len(nodes) - 5) if len(nodes) > 5 else ''})"
                            for op_type, nodes in sorted(missing.items()))
        raise UnimplementedError(f"the subgraph needed for this run uses op types without a kernel, "
                                 f"nothing was run: {listing}")
    for op in ops:
        if op.type == "Placeholder" and op.outputs[0] not in fed:
            raise InvalidArgumentError(
                f"You must feed a value for placeholder tensor {op.outputs[0].name!r} with dtype "
                f"{_dtype_name(op.outputs[0])} and shape {_shape_text(op.outputs[0].shape)}")


def toposort(ops: Sequence[Any], fed: set) -> list[Any]:
    """Kahn's order over data (non-fed) and control edges.

    Depth-first among ready nodes (a node's consumers soon follow it, so values die
    early), lowest graph index first among siblings: the same graph gives the same order.
    """
    index = {op: i for i, op in enumerate(ops)}
    pending = [0] * len(ops)
    users: list[list[int]] = [[] for _ in ops]
    for i, op in enumerate(ops):
        deps = {index[t.op] for t in op.inputs if t not in fed and t.op in index}
        deps.update(index[c] for c in op.control_inputs if c in index)
        pending[i] = len(deps)
        for d in deps:
            users[d].append(i)
    ready = [i for i, count in enumerate(pending) if count == 0]
    ready.reverse()
    order: list[Any] = []
    while ready:
        i = ready.pop()
        order.append(ops[i])
        unlocked = []
        for u in users[i]:
            pending[u] -= 1
            if pending[u] == 0:
                unlocked.append(u)
        ready.extend(sorted(unlocked, reverse=True))
    if len(order) != len(ops):
        stuck = [op.name for op, count in zip(ops, pending) if count > 0][:5]
        raise InvalidArgumentError(f"the graph has a cycle that is not a v1 while loop (nodes {stuck}); "
                                   f"only Enter/Merge/NextIteration loops may be cyclic")
    return order


def graph_node_call(op: Any, fed: set, make_ctx: Callable[[Any], Any]) -> NodeCall:
    """The NodeCall of a graph Operation; fed inputs read their feed slot."""
    kdef = get_kernel(op.type)
    attrs = op.attrs
    kwargs = dict(attrs) if kdef.accepts_all_attrs else {k: v for k, v in attrs.items() if k in kdef.attr_names}
    if kdef.needs_ctx:
        kwargs["ctx"] = make_ctx(op)
    inputs = tuple(("feed", t) if t in fed else t for t in op.inputs)
    deref = tuple(i for i, t in enumerate(op.inputs) if t.is_ref and i not in kdef.ref_inputs)
    return NodeCall(op, kdef.fn, kwargs, inputs, deref, tuple(op.outputs), kdef.multi,
                    op.type in COMPILE_TIME_OPS, not kdef.stateful and not kdef.needs_ctx)


def build_schedule(calls: Sequence[NodeCall], input_keys: Sequence[Hashable],
                   output_keys: Sequence[Hashable], copy_outputs: Sequence[bool],
                   finalize: bool = True) -> FlatSchedule:
    """Assign integer slots, fold constants, compute last uses, emit Steps.

    ``finalize=False`` for inner schedules (function bodies, loop bodies): their outputs are
    handed on as they are (a Ref stays a Ref) instead of being made into fetch results.
    """
    calls, output_keys = forward_identities(calls, output_keys)
    slot: dict[Hashable, int] = {}
    for key in input_keys:
        slot.setdefault(key, len(slot))
    for call in calls:
        for key in call.outputs:
            slot[key] = len(slot)
    template: list = [None] * len(slot)
    missing = [k for c in calls for k in c.inputs if k not in slot] + [k for k in output_keys if k not in slot]
    if missing:
        raise InvalidArgumentError(f"internal: value(s) {missing[:3]} are used but never produced")

    folded = fold_constants(calls, slot, template)
    pinned = {slot[k] for k in output_keys} | {slot[k] for k in input_keys}
    last_use: dict[int, int] = {}
    live_calls = [c for c in calls if id(c) not in folded]
    for position, call in enumerate(live_calls):
        for key in call.inputs:
            last_use[slot[key]] = position
    frees: list[list[int]] = [[] for _ in live_calls]
    for position, call in enumerate(live_calls):
        for key in call.outputs:
            s = slot[key]
            if s not in pinned:
                frees[last_use.get(s, position)].append(s)

    steps: list = []
    for position, call in enumerate(live_calls):
        nout = len(call.outputs) if call.multi else (-1 if call.outputs else 0)
        out = slot[call.outputs[0]] if call.outputs else -1
        frees_here = tuple(s for s in frees[position] if template[s] is None)
        steps.append(make_step(call.fn, tuple(slot[k] for k in call.inputs), call.deref, call.kwargs,
                               out, nout, frees_here, call.node))
    output_slots = [slot[k] for k in output_keys]
    # Two fetches of one value (e.g. "x" and "Identity(x)") must not share an array.
    copy_outputs = [copy or output_slots.index(s) < i for i, (s, copy) in enumerate(zip(output_slots, copy_outputs))]
    return FlatSchedule(steps, template, [slot[k] for k in input_keys], output_slots, copy_outputs, finalize)


def forward_identities(calls: Sequence[NodeCall], output_keys: Sequence[Hashable]
                       ) -> tuple[list[NodeCall], list[Hashable]]:
    """Drop calls that only order or forward: NoOp/ControlTrigger (the order of ``calls``
    already honours their control edges) and Identity of a non-ref value (its consumers
    read the input's slot). An Identity reading a ref variable stays: it takes the
    variable's value at its own point in the schedule."""
    forwarded: dict[Hashable, Hashable] = {}

    def resolve(key: Hashable) -> Hashable:
        while key in forwarded:
            key = forwarded[key]
        return key

    kept = []
    for call in calls:
        kind = call.node.type
        if kind in _ORDER_ONLY_OPS and not call.outputs:
            continue
        if kind == "Identity" and len(call.inputs) == 1 and len(call.outputs) == 1 and not call.deref:
            forwarded[call.outputs[0]] = resolve(call.inputs[0])
            continue
        kept.append(call._replace(inputs=tuple(resolve(k) for k in call.inputs)) if forwarded else call)
    return kept, [resolve(k) for k in output_keys]


def fold_constants(calls: Sequence[NodeCall], slot: dict, template: list) -> set:
    """Evaluate at compile time what needs no run: COMPILE_TIME_OPS, then every pure call whose
    inputs are all constants (e.g. shape arithmetic on constants in gradient graphs).

    Values go into ``template`` (arrays made read-only: kernels must not write into inputs);
    returns the ids of the folded calls. A variable's Ref is never a constant *input*: a pure op reading
    a variable still runs every step.
    """
    from orchestrator.exec.executor import node_error

    folded: set = set()
    constant_slots: set[int] = set()
    for call in calls:
        if not (call.fold or (call.pure and call.inputs and all(slot[k] in constant_slots for k in call.inputs))):
            continue
        try:
            result = call.fn(*[template[slot[k]] for k in call.inputs], **call.kwargs)
        except Exception as exc:  # noqa: BLE001 - named like a run-time failure
            error = node_error(call.node, exc)
            if error is exc:
                raise
            raise error from exc
        values = tuple(result) if call.multi else (result,) if call.outputs else ()
        if len(values) != len(call.outputs):
            continue     # let the run report the kernel's mistake with the usual message
        if not call.fold and sum(getattr(v, "nbytes", 0) for v in values) > FOLD_LIMIT_BYTES:
            continue     # e.g. a large Fill: computing it per step beats holding it forever
        for key, value in zip(call.outputs, values):
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            template[slot[key]] = value
            if call.node.type not in _HANDLE_OPS:
                constant_slots.add(slot[key])
        folded.add(id(call))
    return folded


def aliasing_tensors(ops: Sequence[Any]) -> set:
    """Tensors (of ``ops``, in topological order) that may share memory with a ref variable."""
    alias: set = set()
    for op in ops:
        flows = op.type in _ALIASING_OPS and any(t.is_ref or t in alias for t in op.inputs)
        for t in op.outputs:
            if t.is_ref or flows:
                alias.add(t)
    return alias


def _dtype_name(tensor: Any) -> str:
    return getattr(tensor.dtype, "tf_name", str(tensor.dtype))


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"
