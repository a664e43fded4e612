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
  (the loop ends there); a dead ``Exit`` is remembered and only delivered to the parent
  frame when everything else is done (a loop that never ran, inside an untaken branch).

Nodes are compiled once into ``_Node`` records (kernel, attrs, edge lists); a run keeps a
FIFO ready queue and a pending record per (node, frame, iteration).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.exec.compile import NodeCall
from orchestrator.exec.executor import node_error
from orchestrator.exec.state import Ref
from orchestrator.ops.control_flow_ops import DEAD

_NORMAL, _ENTER, _EXIT, _NEXT, _MERGE, _SWITCH, _TRIGGER = range(7)
_KINDS = {"Enter": _ENTER, "RefEnter": _ENTER, "Exit": _EXIT, "RefExit": _EXIT,
          "NextIteration": _NEXT, "RefNextIteration": _NEXT, "Merge": _MERGE, "RefMerge": _MERGE,
          "Switch": _SWITCH, "RefSwitch": _SWITCH, "ControlTrigger": _TRIGGER}


class _Node:
    __slots__ = ("index", "op", "kind", "fn", "kwargs", "deref", "multi", "nout", "num_inputs",
                 "feeds", "num_data", "num_control", "out_edges", "control_out", "frame_name",
                 "is_constant", "const_value", "fetch_slots", "is_target")

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
        self.control_out: list[_Node] = []
        attrs = call.node.attrs
        self.frame_name = attrs.get("frame_name", b"") if self.kind == _ENTER else b""
        self.is_constant = bool(attrs.get("is_constant", False)) if self.kind == _ENTER else False
        self.const_value: Any = None
        self.fetch_slots: list[tuple[int, int]] = []    # (output index, fetch position)
        self.is_target = False


class _Frame:
    __slots__ = ("name", "parent", "parent_iter", "depth", "constants", "max_iter", "dead_exits",
                 "live_exits", "children")

    def __init__(self, name: bytes, parent: _Frame | None, parent_iter: int):
        self.name = name
        self.parent = parent
        self.parent_iter = parent_iter
        self.depth = 0 if parent is None else parent.depth + 1
        self.constants: list[tuple[_Node, Any]] = []
        self.max_iter = 0
        self.dead_exits: set[_Node] = set()
        self.live_exits: set[_Node] = set()
        self.children: dict[tuple[int, bytes], _Frame] = {}


class _Pending:
    __slots__ = ("values", "remaining", "dead", "dead_data", "live", "fired")

    def __init__(self, node: _Node, feed_values: Sequence[Any]):
        self.values: list[Any] = [DEAD] * node.num_inputs if node.kind == _MERGE else [None] * node.num_inputs
        for position, feed_index in node.feeds:
            self.values[position] = feed_values[feed_index]
        self.remaining = node.num_control if node.kind == _MERGE else node.num_data + node.num_control
        self.dead = False
        self.dead_data = 0
        self.live = bool(node.feeds) if node.kind == _MERGE else False
        self.fired = False


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
                node.const_value = call.fn(**call.kwargs)
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
        self.sources = [n for n in self.nodes if n.num_data == 0 and n.num_control == 0]
        self.num_ops = len(self.nodes)

    # ------------------------------------------------------------------ running
    def run(self, feed_values: Sequence[Any]) -> list[Any]:
        return _Run(self, feed_values).execute()


class _Run:
    def __init__(self, schedule: DynamicSchedule, feed_values: Sequence[Any]):
        self.schedule = schedule
        self.feed_values = feed_values
        self.root = _Frame(b"", None, 0)
        self.frames = [self.root]
        self.pending: dict[tuple[int, _Frame, int], _Pending] = {}
        self.ready: deque = deque()
        self.fetched: list[Any] = [DEAD] * schedule.fetch_count
        self.have = [False] * schedule.fetch_count
        self.targets_done: set[int] = set()

    def execute(self) -> list[Any]:
        for node in self.schedule.sources:
            self.ready.append((node, self.root, 0, _Pending(node, self.feed_values)))
        while True:
            while self.ready:
                node, frame, it, record = self.ready.popleft()
                try:
                    self._fire(node, frame, it, record)
                except Exception as exc:  # noqa: BLE001 - re-raised with the node named
                    error = node_error(node.op, exc)
                    if error is exc:
                        raise
                    raise error from exc
            if not self._release_dead_exits():
                break
        return self._results()

    def _fire(self, node: _Node, frame: _Frame, it: int, record: _Pending) -> None:
        kind = node.kind
        values = record.values
        dead = record.dead and kind not in (_MERGE, _TRIGGER)
        if kind == _MERGE:
            dead = not record.live
        if dead:
            outputs: Sequence[Any] = [DEAD] * node.nout
        elif node.const_value is not None:
            outputs = (node.const_value,)
        else:
            if node.deref:
                values = list(values)
                for position in node.deref:
                    if isinstance(values[position], Ref):
                        values[position] = values[position].get()
            result = node.fn(*values, **node.kwargs)
            if node.multi:
                outputs = result
                if len(outputs) != node.nout:
                    raise InvalidArgumentError(f"kernel returned {len(outputs)} outputs, the op has {node.nout}")
            else:
                outputs = (result,) if node.nout else ()
        if frame is self.root:
            for output_index, position in node.fetch_slots:
                self.fetched[position] = outputs[output_index]
                self.have[position] = True
            if node.is_target and not dead:
                self.targets_done.add(node.index)
        if kind == _MERGE:
            record.values = None   # the record may stay (fired) until its last input arrives
        self._propagate(node, frame, it, outputs, dead)

    def _propagate(self, node: _Node, frame: _Frame, it: int, outputs: Sequence[Any], dead: bool) -> None:
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
        elif kind == _NEXT:
            if outputs[0] is DEAD:
                return    # the loop ends here: deadness does not flow into the next iteration
            next_it = it + 1
            if next_it > frame.max_iter:
                frame.max_iter = next_it
                for enter, value in frame.constants:
                    self._send(enter, frame, next_it, (value,), value is DEAD)
            self._send(node, frame, next_it, outputs, False)
        else:
            self._send(node, frame, it, outputs, dead)

    def _child_frame(self, frame: _Frame, it: int, name: bytes) -> _Frame:
        key = (it, name)
        child = frame.children.get(key)
        if child is None:
            child = frame.children[key] = _Frame(name, frame, it)
            self.frames.append(child)
        return child

    def _send(self, node: _Node, frame: _Frame, it: int, outputs: Sequence[Any], dead: bool) -> None:
        for output_index, edges in enumerate(node.out_edges):
            if not edges:
                continue
            value = outputs[output_index]
            for dst, position in edges:
                self._arrive(dst, frame, it, position, value, value is DEAD)
        for dst in node.control_out:
            self._arrive(dst, frame, it, -1, None, dead)

    def _arrive(self, dst: _Node, frame: _Frame, it: int, position: int, value: Any, dead: bool) -> None:
        key = (dst.index, frame, it)
        record = self.pending.get(key)
        if record is None:
            record = self.pending[key] = _Pending(dst, self.feed_values)
        elif record.fired:
            return    # a Merge that already fired in this iteration ignores later inputs
        if dst.kind == _MERGE:
            if position < 0:
                record.remaining -= 1
            elif dead:
                record.dead_data += 1
            else:
                if not record.live:
                    record.values[position] = value
                record.live = True
            all_dead = record.dead_data == dst.num_data and not dst.feeds
            if record.remaining == 0 and (record.live or all_dead):
                record.fired = True
                record_done = record.dead_data + (1 if record.live else 0) >= dst.num_data
                if record_done:
                    del self.pending[key]
                self.ready.append((dst, frame, it, record))
            return
        if position >= 0:
            record.values[position] = value
        if dead:
            record.dead = True
        record.remaining -= 1
        if record.remaining == 0:
            del self.pending[key]
            self.ready.append((dst, frame, it, record))

    def _release_dead_exits(self) -> bool:
        """At quiescence, deliver DEAD for exits of the deepest frame that never produced a value."""
        candidates = [f for f in self.frames if f.dead_exits - f.live_exits]
        if not candidates:
            return False
        depth = max(f.depth for f in candidates)
        for frame in candidates:
            if frame.depth != depth:
                continue
            for node in sorted(frame.dead_exits - frame.live_exits, key=lambda n: n.index):
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
