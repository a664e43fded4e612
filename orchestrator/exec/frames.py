"""The dynamic dataflow executor, for subgraphs with v1 control flow.

``tf.while_loop``/``tf.cond`` with control flow v1 (and ``dynamic_rnn`` built on them)
produce cyclic graphs that only make sense with *frames* and *dead* tensors:

* a value lives in a frame (the root, or one loop's frame inside a given iteration of
  its parent) and an iteration of that frame; a node runs once per (frame, iteration)
  in which all its inputs arrived;
* ``Enter`` moves a value into the child frame named by its ``frame_name`` (iteration
  0; with ``is_constant`` into every iteration), ``NextIteration`` into the next
  iteration, ``Exit`` back to the parent frame;
* ``Switch`` sends its data to one output and a DEAD marker to the other; a node with a
  dead input does not run and its outputs are dead; ``Merge`` fires on its first live
  input (dead only when all inputs are dead). A dead ``NextIteration`` output is dropped
  (the loop ends there); an ``Exit`` that never delivered a value is released as dead to
  the parent frame only when nothing else can run (a loop that never ran, inside an
  untaken branch) — TF's frame completion.

Nodes are compiled once into ``_Node`` records (kernel, attrs, edge lists); a run keeps a
FIFO ready queue and a pending record per (node, frame, iteration). Graphs whose v1
control flow is only plain while loops do not come here: ``exec/loops.py`` compiles
those loops into flat schedules.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.exec.compile import NodeCall
from orchestrator.exec.executor import node_error
from orchestrator.exec.loops import assign_frames
from orchestrator.exec.state import Ref
from orchestrator.ops.control_flow_ops import DEAD

_NORMAL, _ENTER, _EXIT, _NEXT, _MERGE, _SWITCH, _TRIGGER = range(7)
_KINDS = {"Enter": _ENTER, "RefEnter": _ENTER, "Exit": _EXIT, "RefExit": _EXIT,
          "NextIteration": _NEXT, "RefNextIteration": _NEXT, "Merge": _MERGE, "RefMerge": _MERGE,
          "Switch": _SWITCH, "RefSwitch": _SWITCH, "ControlTrigger": _TRIGGER}


class _Node:
    __slots__ = ("index", "op", "kind", "fn", "kwargs", "deref", "multi", "nout", "num_inputs",
                 "feeds", "num_data", "num_control", "out_edges", "edges", "control_out", "frame_name",
                 "is_constant", "const_outputs", "dead_outputs", "fetch_slots", "is_target", "simple", "waits",
                 "template", "elided")

    def __init__(self, index: int, call: NodeCall):
        self.index = index
        self.op = call.node
        self.kind = _KINDS.get(call.node.type, _NORMAL)
        self.fn = call.fn
        self.kwargs = call.kwargs
        self.deref = call.deref
        self.multi = call.multi
        self.nout = len(call.outputs)
        self.num_inputs = len(call.inputs)
        self.feeds: list[tuple[int, int]] = []          # (input position, feed index)
        self.num_data = 0                               # inputs that arrive through edges
        self.num_control = 0
        self.out_edges: list[list[tuple[_Node, int]]] = [[] for _ in call.outputs]
        self.edges: tuple = ()                          # (output index, edges) of used outputs
        self.control_out: list[_Node] = []
        attrs = call.node.attrs
        self.frame_name = attrs.get("frame_name", b"") if self.kind == _ENTER else b""
        self.is_constant = bool(attrs.get("is_constant", False)) if self.kind == _ENTER else False
        self.const_outputs: tuple | None = None
        self.dead_outputs = (DEAD,) * self.nout
        self.fetch_slots: list[tuple[int, int]] = []    # (output index, fetch position)
        self.is_target = False
        self.simple = False     # fires on its one and only input: no pending record needed
        self.waits = 0          # inputs and control inputs that arrive through edges
        self.elided = False     # a constant baked into its consumers (never fires)
        self.template: list = []

    def finish(self) -> None:
        self.edges = tuple((i, tuple(e)) for i, e in enumerate(self.out_edges) if e)
        # (a baked constant input also disqualifies: the simple path builds values from scratch)
        self.simple = (self.kind != _MERGE and not self.feeds and self.num_data + self.num_control == 1
                       and self.num_inputs == self.num_data)
        self.waits = self.num_data + self.num_control
        self.template = [DEAD if self.kind == _MERGE else None] * self.num_inputs


class _Frame:
    __slots__ = ("name", "parent", "parent_iter", "depth", "constants", "max_iter", "dead_exits",
                 "live_exits", "children", "pending", "path")

    def __init__(self, name: bytes, parent: _Frame | None, parent_iter: int):
        self.name = name
        self.parent = parent
        self.parent_iter = parent_iter
        self.depth = 0 if parent is None else parent.depth + 1
        self.path: tuple = () if parent is None else parent.path + (name,)
        self.constants: list[tuple[_Node, Any]] = []
        self.max_iter = 0
        self.dead_exits: set[_Node] = set()
        self.live_exits: set[_Node] = set()
        self.children: dict[tuple[int, bytes], _Frame] = {}
        self.pending: dict[int, list] = {}     # iteration * node count + node index -> record


def _initial_values(node: _Node, feed_values: Sequence[Any]) -> list:
    values = node.template[:]
    for position, feed_index in node.feeds:
        values[position] = feed_values[feed_index]
    return values


class DynamicSchedule:
    """A compiled v1-control-flow subgraph; ``run(feed_values)`` returns the fetched values."""

    def __init__(self, ops: Sequence[Any], calls: Sequence[NodeCall], fetch_tensors: Sequence[Any],
                 target_ops: Sequence[Any], feed_tensors: Sequence[Any], copy_fetches: Sequence[bool]):
        self.nodes = [_Node(i, call) for i, call in enumerate(calls)]
        by_op = {op: node for op, node in zip(ops, self.nodes)}
        feed_index = {t: i for i, t in enumerate(feed_tensors)}
        for op, node, call in zip(ops, self.nodes, calls):
            for position, key in enumerate(call.inputs):
                if isinstance(key, tuple) and key[:1] == ("feed",):
                    node.feeds.append((position, feed_index[key[1]]))
                else:
                    producer = by_op[key.op]
                    producer.out_edges[key.value_index].append((node, position))
                    node.num_data += 1
            for control in op.control_inputs:
                by_op[control].control_out.append(node)
                node.num_control += 1
            if call.fold:
                node.const_outputs = (call.fn(**call.kwargs),)
        self.fetch_count = len(fetch_tensors)
        self.copy_fetches = tuple(copy_fetches)
        self.fetch_from_feed: list[tuple[int, int]] = []
        for position, tensor in enumerate(fetch_tensors):
            if tensor in feed_index:
                self.fetch_from_feed.append((position, feed_index[tensor]))
            else:
                by_op[tensor.op].fetch_slots.append((tensor.value_index, position))
        for op in target_ops:
            by_op[op].is_target = True
        self.targets = [by_op[op] for op in target_ops]
        constant_inputs = self._elide_constants(ops, by_op)
        for node in self.nodes:
            node.finish()
            for position, value in constant_inputs.get(node.index, ()):
                node.template[position] = value
        self.sources = [n for n in self.nodes if n.num_data == 0 and n.num_control == 0 and not n.elided]
        # Exit nodes of each static frame (path of frame names), to release as dead when a
        # frame instance never delivers them (e.g. a loop whose Enter inputs were dead).
        self.exits_by_frame: dict[tuple, list[_Node]] | None = None
        member = assign_frames(ops, set(feed_tensors))
        if member is not None:
            self.exits_by_frame = {}
            for op, node in by_op.items():
                if node.kind == _EXIT:
                    self.exits_by_frame.setdefault(member[op], []).append(node)
        self.num_ops = len(self.nodes)

    def _elide_constants(self, ops: Sequence[Any], by_op: dict) -> dict[int, list[tuple[int, Any]]]:
        """Constants baked into their consumers' input templates instead of firing.

        A folded Const inside a loop body still fires once per iteration (it hangs off
        the loop's pivot by a control edge). When each consumer is an ordinary node that
        also has an input from a non-constant producer, that input already carries the
        frame, iteration and deadness, so the Const need not run: its value is placed in
        the consumer's input template and the consumer waits for one input fewer.
        """
        def from_live_producer(op: Any) -> bool:
            return any(not t.op.type == "Const" and t.op in by_op and by_op[t.op].const_outputs is None
                       for t in op.inputs)
        baked: dict[int, list[tuple[int, Any]]] = {}
        for op, node in zip(ops, self.nodes):
            if (node.const_outputs is None or node.control_out or node.fetch_slots or node.is_target
                    or node.feeds):
                continue
            consumers = node.out_edges[0]
            if not all(dst.kind == _NORMAL and from_live_producer(dst.op) for dst, _ in consumers):
                continue
            for dst, position in consumers:
                baked.setdefault(dst.index, []).append((position, node.const_outputs[0]))
                dst.num_data -= 1
            node.out_edges[0] = []
            node.elided = True
            for control in op.control_inputs:
                producer = by_op[control]
                producer.control_out.remove(node)
        return baked

    # ------------------------------------------------------------------ running
    def run(self, feed_values: Sequence[Any]) -> list[Any]:
        return _Run(self, feed_values).execute()


class _Run:
    """One execution. Pending records are lists: ``[remaining, values, dead]`` for a node,
    ``[remaining_controls, values, dead_data_inputs, live, fired]`` for a Merge."""

    def __init__(self, schedule: DynamicSchedule, feed_values: Sequence[Any]):
        self.schedule = schedule
        self.feed_values = feed_values
        self.root = _Frame(b"", None, 0)
        self.frames = [self.root]
        self.stride = len(schedule.nodes)
        self.ready: deque = deque()
        self.fetched: list[Any] = [DEAD] * schedule.fetch_count
        self.have = [False] * schedule.fetch_count
        self.targets_done: set[int] = set()

    def execute(self) -> list[Any]:
        ready = self.ready
        popleft, append = ready.popleft, ready.append
        root, arrive, stride = self.root, self._arrive, self.stride
        for node in self.schedule.sources:
            append((node, root, 0, _initial_values(node, self.feed_values), False))
        while True:
            while ready:
                node, frame, it, values, dead = popleft()
                if dead:
                    if node.kind == _TRIGGER:
                        dead = False    # ControlTrigger fires even on dead inputs
                    outputs = node.dead_outputs
                elif node.const_outputs is not None:
                    outputs = node.const_outputs
                else:
                    try:
                        if node.deref:
                            for position in node.deref:
                                if isinstance(values[position], Ref):
                                    values[position] = values[position].get()
                        result = node.fn(*values, **node.kwargs)
                        if node.multi:
                            outputs = result
                            if len(outputs) != node.nout:
                                raise InvalidArgumentError(f"kernel returned {len(outputs)} outputs, "
                                                           f"the op has {node.nout}")
                        else:
                            outputs = (result,) if node.nout else ()
                    except Exception as exc:  # noqa: BLE001 - re-raised with the node named
                        error = node_error(node.op, exc)
                        if error is exc:
                            raise
                        raise error from exc
                if frame is root and (node.fetch_slots or node.is_target):
                    self._record(node, outputs, dead)
                if node.kind >= _ENTER and node.kind <= _NEXT:
                    self._move(node, frame, it, outputs, dead)
                    continue
                base = it * stride
                pending = frame.pending
                for output_index, edges in node.edges:
                    value = outputs[output_index]
                    value_dead = value is DEAD
                    for dst, position in edges:
                        if dst.simple:
                            append((dst, frame, it, [value], value_dead))
                        elif dst.kind == _MERGE or dst.feeds:
                            arrive(dst, frame, it, position, value, value_dead)
                        else:    # inlined _arrive for the common case
                            key = base + dst.index
                            record = pending.get(key)
                            if record is None:
                                record = pending[key] = [dst.waits, dst.template[:], False]
                            record[1][position] = value
                            if value_dead:
                                record[2] = True
                            record[0] -= 1
                            if not record[0]:
                                del pending[key]
                                append((dst, frame, it, record[1], record[2]))
                for dst in node.control_out:
                    if dst.simple:
                        append((dst, frame, it, [], dead))
                    else:
                        arrive(dst, frame, it, -1, None, dead)
            if not self._release_dead_exits():
                break
        return self._results()

    def _record(self, node: _Node, outputs: Sequence[Any], dead: bool) -> None:
        for output_index, position in node.fetch_slots:
            self.fetched[position] = outputs[output_index]
            self.have[position] = True
        if node.is_target and not dead:
            self.targets_done.add(node.index)

    def _move(self, node: _Node, frame: _Frame, it: int, outputs: Sequence[Any], dead: bool) -> None:
        """Enter/Exit/NextIteration: deliver into the child frame, the parent, the next iteration."""
        kind = node.kind
        if kind == _ENTER:
            child = self._child_frame(frame, it, node.frame_name)
            if node.is_constant:
                child.constants.append((node, outputs[0]))
                for child_it in range(child.max_iter + 1):
                    self._send(node, child, child_it, outputs, dead)
            else:
                self._send(node, child, 0, outputs, dead)
        elif kind == _EXIT:
            if outputs[0] is DEAD:
                frame.dead_exits.add(node)
            else:
                frame.live_exits.add(node)
                self._send(node, frame.parent, frame.parent_iter, outputs, False)
        else:
            if outputs[0] is DEAD:
                return    # the loop ends here: deadness does not flow into the next iteration
            next_it = it + 1
            if next_it > frame.max_iter:
                frame.max_iter = next_it
                for enter, value in frame.constants:
                    self._send(enter, frame, next_it, (value,), value is DEAD)
            self._send(node, frame, next_it, outputs, False)

    def _child_frame(self, frame: _Frame, it: int, name: bytes) -> _Frame:
        key = (it, name)
        child = frame.children.get(key)
        if child is None:
            child = frame.children[key] = _Frame(name, frame, it)
            self.frames.append(child)
        return child

    def _send(self, node: _Node, frame: _Frame, it: int, outputs: Sequence[Any], dead: bool) -> None:
        append, arrive = self.ready.append, self._arrive
        for output_index, edges in node.edges:
            value = outputs[output_index]
            value_dead = value is DEAD
            for dst, position in edges:
                if dst.simple:
                    append((dst, frame, it, [value], value_dead))
                else:
                    arrive(dst, frame, it, position, value, value_dead)
        for dst in node.control_out:
            if dst.simple:
                append((dst, frame, it, [], dead))
            else:
                arrive(dst, frame, it, -1, None, dead)

    def _arrive(self, dst: _Node, frame: _Frame, it: int, position: int, value: Any, dead: bool) -> None:
        key = it * self.stride + dst.index
        pending = frame.pending
        record = pending.get(key)
        if dst.kind == _MERGE:
            if record is None:
                record = pending[key] = [dst.num_control, _initial_values(dst, self.feed_values), 0,
                                              bool(dst.feeds), False]
            elif record[4]:
                return    # a Merge that already fired in this iteration ignores later inputs
            if position < 0:
                record[0] -= 1
            elif dead:
                record[2] += 1
            else:
                if not record[3]:
                    record[1][position] = value
                record[3] = True
            live = record[3]
            if record[0] == 0 and (live or (record[2] == dst.num_data and not dst.feeds)):
                record[4] = True
                if record[2] + live >= dst.num_data:
                    del pending[key]
                self.ready.append((dst, frame, it, record[1], not live))
                record[1] = None
            return
        if record is None:
            record = pending[key] = [dst.waits, _initial_values(dst, self.feed_values), False]
        if position >= 0:
            record[1][position] = value
        if dead:
            record[2] = True
        record[0] -= 1
        if record[0] == 0:
            del pending[key]
            self.ready.append((dst, frame, it, record[1], record[2]))

    def _release_dead_exits(self) -> bool:
        """At quiescence, deliver DEAD from the deepest frames' exits that never produced a value.

        That is TF's frame completion: an Exit that was dead in every iteration (or never
        ran because the whole loop was dead) hands a dead value to the parent frame, so
        what depends on the loop in an untaken branch is dead rather than left waiting.
        """
        static = self.schedule.exits_by_frame

        def undelivered(frame: _Frame) -> set:
            exits = set(static.get(frame.path, ())) if static is not None else set(frame.dead_exits)
            return exits - frame.live_exits

        candidates = [f for f in self.frames if f.parent is not None and undelivered(f)]
        if not candidates:
            return False
        depth = max(f.depth for f in candidates)
        for frame in candidates:
            if frame.depth != depth:
                continue
            for node in sorted(undelivered(frame), key=lambda n: n.index):
                frame.live_exits.add(node)   # delivered once
                self._send(node, frame.parent, frame.parent_iter, (DEAD,), True)
            frame.dead_exits.clear()
        return True

    def _results(self) -> list[Any]:
        schedule = self.schedule
        for position, feed_index in schedule.fetch_from_feed:
            self.fetched[position] = self.feed_values[feed_index]
            self.have[position] = True
        for node in schedule.nodes:
            for _, position in node.fetch_slots:
                if not self.have[position]:
                    raise InvalidArgumentError(f"the run ended without computing a fetched output of "
                                               f"{node.op.type} node {node.op.name!r} (its inputs never arrived)")
                if self.fetched[position] is DEAD:
                    raise InvalidArgumentError(f"fetched output of {node.op.type} node {node.op.name!r} is dead: "
                                               f"it lies on a branch of a cond that was not taken")
        for node in schedule.targets:
            if node.index not in self.targets_done:
                raise InvalidArgumentError(f"target {node.op.type} node {node.op.name!r} did not run: its inputs "
                                           f"never arrived or lie on an untaken branch")
        out = []
        for value, copy in zip(self.fetched, schedule.copy_fetches):
            if isinstance(value, Ref):
                value = value.get().copy()
            elif isinstance(value, np.ndarray) and (copy or not value.flags.writeable):
                value = value.copy()
            out.append(value)
        return out
