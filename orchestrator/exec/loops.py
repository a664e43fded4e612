"""Loop lifting: v1 ``while_loop`` frames compiled to flat schedules.

The dynamic executor of ``frames.py`` runs any v1 control flow, but pays for frames,
pending counts and dead tensors on every node. Most v1 graphs (``dynamic_rnn`` forward and
backprop loops, plain ``tf.while_loop``) have a fixed shape that needs none of that at run
time. For each frame::

    Enter(x_k) ─► Merge_k ◄─ NextIteration_k ◄─ body
                   │  └──► cond nodes ─► LoopCond ─┐
                   └──► Switch_k(·, LoopCond) ─────┘
                          ├─ :1 ─► body nodes
                          └─ :0 ─► Exit_k ─► parent frame

the loop becomes one node of its parent frame's schedule, running::

    values = enter values
    while (pre := pre_switch(values, constants))[0]:     # the cond nodes (+ anything before Switch)
        values = body(values, constants, pre)             # everything after Switch:1
    exits = values

Nested loops are lifted first and appear as single nodes in their parent's body. Graphs
whose frames do not have this shape (a ``tf.cond`` anywhere: Switch/Merge outside the loop
pattern, tensors crossing frames without Enter/Exit, fetches or feeds inside a frame) are
not lifted; ``lift`` returns None and the dynamic executor runs them.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from orchestrator.exec.compile import NodeCall, build_schedule, graph_node_call
from orchestrator.ops.control_flow_ops import is_true

Frame = tuple  # a path of frame names from the root, () for the root frame

_ENTER = frozenset({"Enter", "RefEnter"})
_EXIT = frozenset({"Exit", "RefExit"})
_MERGE = frozenset({"Merge", "RefMerge"})
_SWITCH = frozenset({"Switch", "RefSwitch"})
_NEXT = frozenset({"NextIteration", "RefNextIteration"})
_STRUCTURE = _ENTER | _EXIT | _MERGE | _SWITCH | _NEXT | {"LoopCond"}


class NotLiftable(Exception):
    """The graph's control flow is not plain while loops (the dynamic executor runs it)."""


class LoopNode:
    """What error messages and ``ctx`` see for a lifted loop: its frame name."""

    type = "WhileLoop(v1)"

    def __init__(self, frame: Frame):
        self.name = "/".join(part.decode("utf-8", "replace") for part in frame)
        self.attrs: dict = {}


def lift(ops: Sequence[Any], fed: set, fetch_tensors: Sequence[Any], target_ops: Sequence[Any],
         make_ctx: Callable[[Any], Any]) -> list[NodeCall] | None:
    """The root frame's NodeCalls in execution order, loops lifted; None when not liftable."""
    try:
        return _Lifter(ops, fed, make_ctx).root_calls(fetch_tensors, target_ops)
    except NotLiftable:
        return None


def assign_frames(ops: Sequence[Any], fed: set) -> dict[Any, Frame] | None:
    """Each op's static frame (the path of loop frame names it runs in), or None when the
    graph's edges do not give every op one frame."""
    try:
        return _Lifter(ops, fed, lambda op: None).member
    except NotLiftable:
        return None


class _Lifter:
    def __init__(self, ops: Sequence[Any], fed: set, make_ctx: Callable[[Any], Any]):
        self.ops = list(ops)
        self.fed = fed
        self.make_ctx = make_ctx
        self.position = {op: i for i, op in enumerate(self.ops)}
        self.member: dict[Any, Frame] = {}
        self._assign_frames()
        self.by_frame: dict[Frame, list[Any]] = {}
        for op in self.ops:
            self.by_frame.setdefault(self.member[op], []).append(op)

    # ------------------------------------------------------------------ frames
    def _out_frame(self, op: Any) -> Frame:
        frame = self.member[op]
        return frame[:-1] if op.type in _EXIT else frame

    def _assign_frames(self) -> None:
        """Each op's frame, from its inputs (Enter opens a child frame, Exit leaves it)."""
        pending = {op: 0 for op in self.ops}
        users: dict[Any, list[Any]] = {op: [] for op in self.ops}
        for op in self.ops:
            for producer in self._producers(op):
                pending[op] += 1
                users[producer].append(op)
        ready = [op for op in self.ops if pending[op] == 0]
        while ready:
            op = ready.pop()
            frames = {self._out_frame(p) for p in self._producers(op)}
            if len(frames) > 1:
                raise NotLiftable(f"{op.name} takes inputs from frames {frames}")
            frame = frames.pop() if frames else ()
            if op.type in _ENTER:
                frame = frame + (op.get_attr("frame_name"),)
            elif op.type in _EXIT and not frame:
                raise NotLiftable(f"Exit {op.name} in the root frame")
            self.member[op] = frame
            for user in users[op]:
                pending[user] -= 1
                if pending[user] == 0:
                    ready.append(user)
        if len(self.member) != len(self.ops):
            raise NotLiftable("cycle outside Merge/NextIteration back edges")

    def _producers(self, op: Any) -> list[Any]:
        """Producers of op's non-fed inputs and control inputs, minus loop back edges."""
        found = []
        for t in op.inputs:
            if t in self.fed or t.op not in self.position:
                continue
            if op.type in _MERGE and t.op.type in _NEXT:
                continue
            found.append(t.op)
        found.extend(c for c in op.control_inputs if c in self.position)
        return found

    # ------------------------------------------------------------------ root
    def root_calls(self, fetch_tensors: Sequence[Any], target_ops: Sequence[Any]) -> list[NodeCall]:
        for t in fetch_tensors:
            if t not in self.fed and self._out_frame(t.op) != ():
                raise NotLiftable(f"fetch {t.name} lies inside a loop frame")
        if any(self.member[op] != () for op in target_ops):
            raise NotLiftable("a fetched operation lies inside a loop frame")
        for t in self.fed:
            if t.op in self.member and self._out_frame(t.op) != ():
                raise NotLiftable(f"feed {t.name} lies inside a loop frame")
        units = self._frame_units((), {})
        return [unit.call for unit in self._order(units)]

    # ------------------------------------------------------------------ units of one frame
    def _frame_units(self, frame: Frame, alias: dict) -> list[_Unit]:
        """Regular ops of ``frame`` plus one unit per child loop, with input keys remapped."""
        units: list[_Unit] = []
        children: set[Frame] = set()
        for op in self.by_frame.get(frame, []):
            if op.type in _STRUCTURE:
                if frame == ():     # Enter/Exit belong to child frames: this is a v1 cond
                    raise NotLiftable(f"{op.type} {op.name} in the root frame (a v1 cond)")
                continue            # the frame's own loop structure: handled by _loop_call
            if op.type == "Placeholder":
                if frame != ():
                    raise NotLiftable("placeholder inside a loop")
                continue            # fed (compile checked): its feed slot is read directly
            call = graph_node_call(op, self.fed, self.make_ctx)
            if frame != () and any(t in self.fed for t in op.inputs):
                raise NotLiftable(f"{op.name} inside a loop reads a fed tensor directly")
            inputs = tuple(alias.get(k, k) for k in call.inputs)
            controls = [c for c in op.control_inputs if c in self.position]
            unit = _Unit(self.position[op], call._replace(inputs=inputs), controls)
            unit.raw_inputs = call.inputs
            units.append(unit)
        for op in self.ops:
            if op.type in _ENTER and self.member[op][:-1] == frame:
                children.add(self.member[op])
        for child in sorted(children):
            units.append(self._loop_call(child, alias))
        return units

    def _loop_call(self, frame: Frame, outer_alias: dict) -> _Unit:
        members = self.by_frame.get(frame, [])
        merges = [op for op in members if op.type in _MERGE]
        conds = [op for op in members if op.type == "LoopCond"]
        if len(conds) != 1 or not merges:
            raise NotLiftable(f"frame {frame} is not a while loop ({len(conds)} LoopCond, {len(merges)} Merge)")
        loop_cond = conds[0]
        loop_vars = []
        for merge in merges:
            if len(merge.inputs) != 2 or merge.outputs[1].consumers():
                raise NotLiftable(f"Merge {merge.name} is not a loop merge")
            enter, nxt = sorted(merge.inputs, key=lambda t: t.op.type in _NEXT)
            if enter.op.type not in _ENTER or nxt.op.type not in _NEXT:
                raise NotLiftable(f"Merge {merge.name} inputs are not Enter + NextIteration")
            switches = [c for c in merge.outputs[0].consumers() if c.type in _SWITCH]
            if len(switches) != 1 or switches[0].inputs[1].op is not loop_cond:
                raise NotLiftable(f"Merge {merge.name} has no single Switch on the LoopCond")
            loop_vars.append((merge, enter.op, nxt.op, switches[0]))
        var_enters = {v[1] for v in loop_vars}
        enters_const = []
        for op in members:
            if op.type in _ENTER and op not in var_enters:
                if not op.get_attr("is_constant"):
                    raise NotLiftable(f"non-constant Enter {op.name} does not feed a loop Merge")
                enters_const.append(op)
            elif op.type in _MERGE and op not in {v[0] for v in loop_vars}:
                raise NotLiftable(f"Merge {op.name} outside the loop pattern")
            elif op.type in _SWITCH and op not in {v[3] for v in loop_vars}:
                raise NotLiftable(f"Switch {op.name} outside the loop pattern (a cond inside a loop)")
        exits = [op for op in members if op.type in _EXIT]

        # Inside the frame both Switch outputs carry the merged value; constant Enters are inputs.
        alias = {}
        for merge, _, _, switch in loop_vars:
            alias[switch.outputs[1]] = alias[switch.outputs[0]] = merge.outputs[0]
        units = self._frame_units(frame, alias)
        phase = self._phases(units, loop_vars)
        pre = [u for u in units if phase[u] == "pre"]
        body = [u for u in units if phase[u] == "body"]
        leave = [u for u in units if phase[u] == "exit"]
        cond_key = alias.get(loop_cond.inputs[0], loop_cond.inputs[0])
        if cond_key not in {k for u in pre for k in u.call.outputs} | {v[0].outputs[0] for v in loop_vars} \
                | {e.outputs[0] for e in enters_const}:
            raise NotLiftable(f"LoopCond {loop_cond.name} depends on a branch of the loop")
        inputs = [v[0].outputs[0] for v in loop_vars] + [e.outputs[0] for e in enters_const]
        pre_out = {k for u in pre for k in u.call.outputs}
        next_keys = [alias.get(v[2].inputs[0], v[2].inputs[0]) for v in loop_vars]
        exit_keys = [alias.get(e.inputs[0], e.inputs[0]) for e in exits]
        carried = [k for k in dict.fromkeys([*(k for u in body + leave for k in u.call.inputs), *next_keys,
                                             *exit_keys]) if k in pre_out]
        pre_schedule = build_schedule([u.call for u in self._order(pre)], inputs, [cond_key, *carried],
                                      [False] * (1 + len(carried)), finalize=False)
        body_schedule = build_schedule([u.call for u in self._order(body)], inputs + carried, next_keys,
                                       [False] * len(next_keys), finalize=False)
        exit_schedule = build_schedule([u.call for u in self._order(leave)], inputs + carried, exit_keys,
                                       [False] * len(exit_keys), finalize=False)
        call = NodeCall(LoopNode(frame), _loop_runner(pre_schedule, body_schedule, exit_schedule, len(loop_vars)),
                        {}, *self._entries(loop_vars, enters_const, outer_alias),
                        tuple(e.outputs[0] for e in exits), True, False)
        controls = [c for e in [v[1] for v in loop_vars] + enters_const for c in e.control_inputs
                    if c in self.position]
        return _Unit(min(self.position[op] for op in members), call, controls, frame=frame)

    def _entries(self, loop_vars: list, enters_const: list, outer_alias: dict) -> tuple[tuple, tuple]:
        """Input keys of the loop node (the Enters' inputs in the parent frame) and deref positions."""
        entry_ops = [v[1] for v in loop_vars] + enters_const
        keys = []
        for e in entry_ops:
            t = e.inputs[0]
            keys.append(("feed", t) if t in self.fed else outer_alias.get(t, t))
        deref = tuple(i for i, e in enumerate(entry_ops) if e.type == "Enter" and e.inputs[0].is_ref)
        return tuple(keys), deref

    def _phases(self, units: list[_Unit], loop_vars: list) -> dict:
        """When each unit runs: "pre" every iteration (incl. the last), "body" while the
        predicate holds (it depends on a Switch's true output), "exit" once after the loop
        (it depends on a Switch's false output). Dependence flows through data and control."""
        true_keys = {v[3].outputs[1] for v in loop_vars}
        false_keys = {v[3].outputs[0] for v in loop_vars}
        unit_of_op = {u.call.node: u for u in units if u.frame is None}
        produced = {k: u for u in units for k in u.call.outputs}
        true_side: set = set()
        false_side: set = set()
        changed = True
        while changed:
            changed = False
            for u in units:
                parents = [produced[k] for k in u.call.inputs if k in produced]
                parents += [unit_of_op[c] for c in u.controls if c in unit_of_op]
                t = u in true_side or any(k in true_keys for k in u.raw_inputs) or any(p in true_side for p in parents)
                f = u in false_side or any(k in false_keys for k in u.raw_inputs) or any(p in false_side for p in parents)
                if t and u not in true_side:
                    true_side.add(u)
                    changed = True
                if f and u not in false_side:
                    false_side.add(u)
                    changed = True
        both = true_side & false_side
        if both:
            raise NotLiftable(f"{next(iter(both)).call.node.name} depends on both sides of a loop Switch")
        return {u: "body" if u in true_side else "exit" if u in false_side else "pre" for u in units}

    def _order(self, units: list[_Unit]) -> list[_Unit]:
        """Topological order over data keys and control inputs; ties keep graph order.

        A control input from inside a lifted child loop orders after that loop's unit;
        one from this frame's own loop structure (Merge, Switch, constant Enter) needs no
        ordering: those values are the schedule's inputs.
        """
        produced: dict[Hashable, _Unit] = {k: u for u in units for k in u.call.outputs}
        by_op = {u.call.node: u for u in units if u.frame is None}
        loops = [u for u in units if u.frame is not None]
        deps: dict[_Unit, set] = {}
        for u in units:
            d = {produced[k] for k in u.call.inputs if k in produced}
            for c in u.controls:
                if c in by_op:
                    d.add(by_op[c])
                    continue
                inner = self.member.get(c, ())
                d.update(loop for loop in loops if inner[:len(loop.frame)] == loop.frame)
            d.discard(u)
            deps[u] = d
        users: dict[_Unit, list] = {u: [] for u in units}
        for u, d in deps.items():
            for p in d:
                users[p].append(u)
        count = {u: len(d) for u, d in deps.items()}
        ready = sorted((u for u in units if count[u] == 0), key=lambda u: -u.index)
        order = []
        while ready:
            u = ready.pop()
            order.append(u)
            for v in users[u]:
                count[v] -= 1
                if count[v] == 0:
                    ready.append(v)
            ready.sort(key=lambda x: -x.index)
        if len(order) != len(units):
            raise NotLiftable("units of a frame form a cycle")
        return order


class _Unit:
    __slots__ = ("index", "call", "controls", "frame", "raw_inputs")

    def __init__(self, index: int, call: NodeCall, controls: list, frame: Frame | None = None):
        self.index = index
        self.call = call
        self.raw_inputs = call.inputs   # before Switch outputs were aliased to their Merge
        self.controls = controls     # graph ops this unit must run after
        self.frame = frame           # set for a lifted loop


def _loop_runner(pre: Any, body: Any, leave: Any, num_vars: int) -> Callable[..., list]:
    def run_loop(*args: Any) -> list:
        values = list(args[:num_vars])
        constants = list(args[num_vars:])
        while True:
            computed = pre.run(values + constants)
            carried = computed[1:]
            if not is_true(computed[0]):
                return leave.run(values + constants + carried)
            values = body.run(values + constants + carried)
    return run_loop
