"""Device partitions of a run: which task runs which operations, in which order.

Pure (no Ray, no values): from a graph, a run signature (fetches, targets, feeds) and each
operation's device, the blocks that task actors execute. distributed/partitioned.py runs them.

* An operation's *task* is its device's ``/job:J/replica:R/task:T`` (the device type is
  moot: every task computes on its CPU); an unplaced operation, or one whose device names
  no job, runs on ``default_task``.
* Stages: an operation's stage is the largest, over its inputs (data and control), of the
  producer's stage, plus one where the producer is on another task. A *block* is the
  operations of one task in one stage. Every edge between blocks then goes from a lower
  stage to a higher one, so running the blocks stage after stage (blocks of one stage on
  different tasks at once) honours every edge, and each block runs as one compiled
  ``Session`` run on its task.
* What crosses tasks is a value: a ref-typed input that needs the variable itself (Assign,
  Apply*) and a resource handle must stay on their variable's task; TF places them so
  (colocation), and a plan where they cross is refused naming the edge, never run wrong.
* Constants, and variable handles on their own task, are evaluated by every block that
  uses them rather than sent: a later block of a variable's task (an Apply* after the
  gradients came back) gets the variable itself, not a copy of an earlier value.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.exec import compile as compiler
from orchestrator.graph.devices import DeviceSpec
from orchestrator.ops.registry import get_kernel


@dataclasses.dataclass(frozen=True)
class Block:
    """Operations of one task in one stage, run as one Session run on that task.

    ``inputs``: tensors it reads that earlier blocks produce or the caller feeds;
    ``outputs``: tensors of it that later blocks read or the caller fetches;
    ``targets``: its operations nothing else in it consumes (run for their effect), so
    that a run of ``outputs`` + ``targets`` executes exactly ``ops``.
    """

    index: int
    stage: int
    task: str
    ops: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    targets: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class PartitionPlan:
    blocks: tuple[Block, ...]            # stage by stage; within a stage, by task
    tasks: tuple[str, ...]               # every task that has a block, sorted
    producer: dict[str, int]             # tensor name -> index of the block producing it
    fetches: tuple[str, ...]             # the run's fetched tensor names, in order


def task_of(device: str, default_task: str) -> str:
    """``/job:J/replica:R/task:T`` of ``device`` (replica and task default to 0), or ``default_task``."""
    if not device:
        return default_task
    spec = DeviceSpec.from_string(device)
    if spec.job is None:
        return default_task
    return f"/job:{spec.job}/replica:{spec.replica or 0}/task:{spec.task or 0}"


def plan_partitions(fetches: Sequence[Any], targets: Sequence[Any], feeds: Iterable[Any],
                    default_task: str) -> PartitionPlan:
    """Blocks for fetching ``fetches`` (Tensors) and running ``targets`` (Operations), feeding ``feeds``."""
    fed = set(feeds)
    ops = compiler.prune(fetches, targets, fed)
    tasks = {op: task_of(op.device, default_task) for op in ops}
    v1 = next((op for op in ops if op.type in compiler.V1_CONTROL_FLOW), None)
    if v1 is not None:
        if len(set(tasks.values())) > 1:
            raise UnimplementedError(f"device partitions: v1 control flow ({v1.type} {v1.name!r}) in a run that "
                                     f"spans several tasks is not supported; map its devices onto one task")
        # One task: one block of everything (its loops are cyclic, so no topological order;
        # the task's Session runs them as usual).
        return _blocks(ops, dict.fromkeys(ops, 0), tasks, fetches, targets, fed)
    order = compiler.toposort(ops, fed) if ops else []
    stage: dict[Any, int] = {}
    for op in order:
        level = 0
        for position, tensor in enumerate(op.inputs):
            if tensor in fed:
                continue
            producer = tensor.op
            crossing = tasks[producer] != tasks[op]
            if crossing:
                _check_crossing(op, position, tensor, tasks)
            if producer.type in _CONSTANT_OPS and not producer.control_inputs:
                continue                              # evaluated where it is used
            level = max(level, stage[producer] + crossing)
        for control in op.control_inputs:
            if control in stage:
                level = max(level, stage[control] + (tasks[control] != tasks[op]))
        stage[op] = level
    return _blocks(order, stage, tasks, fetches, targets, fed)


def _check_crossing(op: Any, position: int, tensor: Any, tasks: dict) -> None:
    edge = f"{tensor.name!r} ({tasks[tensor.op]}) -> {op.name!r} input {position} ({tasks[op]})"
    if tensor.dtype == DType.RESOURCE:
        raise InvalidArgumentError(f"device partitions: a resource handle cannot cross tasks: {edge}; the "
                                   f"variable's readers and updates must be placed on its task")
    if tensor.is_ref and position in get_kernel(op.type).ref_inputs:
        raise InvalidArgumentError(f"device partitions: {op.type} needs the variable itself, not a copy, but "
                                   f"it is on another task: {edge}")


# Ops every consuming block can evaluate itself instead of receiving their value: constants
# (anywhere), and variable handles on their own task (a ref consumer needs the handle's Ref,
# not a copy, and re-evaluating a handle reads no state).
_CONSTANT_OPS = frozenset({"Const"})
_HANDLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp"})


def _replicated(producer: Any, consumer: Any, tasks: dict) -> bool:
    if producer.control_inputs:       # e.g. a Const made under control_dependencies: it orders things
        return False
    return producer.type in _CONSTANT_OPS or (producer.type in _HANDLE_OPS and tasks[producer] == tasks[consumer])


def _blocks(order: Sequence[Any], stage: dict, tasks: dict, fetches: Sequence[Any], targets: Sequence[Any],
            fed: set) -> PartitionPlan:
    requested = set(targets)
    fetched = {t for t in fetches if t not in fed}
    # Which producers must run in a block of their own: all but the replicable ones, and
    # those too when a value of theirs is fetched or crosses to a consumer that cannot
    # evaluate them itself.
    placed = {op for op in order
              if op.type not in _CONSTANT_OPS | _HANDLE_OPS or op.control_inputs or op in requested}
    placed.update(t.op for t in fetched)
    for op in order:
        for tensor in op.inputs:
            if tensor not in fed and not _replicated(tensor.op, op, tasks):
                placed.add(tensor.op)
    keys = sorted({(stage[op], tasks[op]) for op in order if op in placed})
    index = {key: i for i, key in enumerate(keys)}
    block_of = {op: index[(stage[op], tasks[op])] for op in order if op in placed}
    members: list[list[Any]] = [[] for _ in keys]
    for op in order:
        if op in placed:
            members[block_of[op]].append(op)
    wanted_outside: set[Any] = set(fetched)
    used_inside: set[Any] = set()
    inputs: list[list[str]] = [[] for _ in keys]
    copies: list[list[Any]] = [[] for _ in keys]          # replicated producers evaluated in the block
    for op in order:
        if op not in placed:
            continue
        b = block_of[op]
        for tensor in op.inputs:
            if tensor in fed:
                if tensor.name not in inputs[b]:
                    inputs[b].append(tensor.name)
            elif _replicated(tensor.op, op, tasks) and block_of.get(tensor.op) != b:
                if tensor.op not in copies[b]:
                    copies[b].append(tensor.op)
            elif block_of[tensor.op] != b:
                wanted_outside.add(tensor)
                if tensor.name not in inputs[b]:
                    inputs[b].append(tensor.name)
            else:
                used_inside.add(tensor.op)
        used_inside.update(c for c in op.control_inputs if block_of.get(c) == b)
    blocks = []
    for b, (level, task) in enumerate(keys):
        outputs = [t.name for op in members[b] for t in op.outputs if t in wanted_outside]
        produced = {t.op for op in members[b] for t in op.outputs if t in wanted_outside}
        sinks = [op.name for op in members[b] if op in requested or (op not in used_inside and op not in produced)]
        ops = tuple(op.name for op in copies[b]) + tuple(op.name for op in members[b])
        blocks.append(Block(b, level, task, ops, tuple(inputs[b]), tuple(outputs), tuple(sinks)))
    producer = {t.name: block_of[t.op] for t in wanted_outside}
    return PartitionPlan(tuple(blocks), tuple(sorted({k[1] for k in keys})), producer,
                         tuple(t.name for t in fetches))


__all__ = ["Block", "PartitionPlan", "plan_partitions", "task_of"]
