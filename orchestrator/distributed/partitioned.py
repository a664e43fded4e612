"""The train loop with the graph's device partitions on Ray actors, one actor per task.

Every task actor builds the job's graph itself (meta graph import and device map, as the
driver does) and keeps its own Session, so the variables placed on its task live, and are
updated, in that actor. A step is the blocks of exec/partition.py's plan, submitted stage
by stage to the actors of their tasks; a block's inputs are the object refs of earlier
blocks' outputs (or of the step's feeds), so values go from task to task through Ray's
object store, and a task runs one block after another in submission order.

Restore: every actor restores the variables placed on its task into its own session (the
reads are the actors' own, in parallel, each of its share); a variable is read and updated
only on its task, which the plan guarantees (resource handles and ref inputs never cross
tasks). Save: the driver
collects each variable's value from the actor of its task into its own session state, then
its Saver writes the checkpoint as usual.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from orchestrator.distributed import cluster
from orchestrator.exec.partition import PartitionPlan, plan_partitions, task_of
from orchestrator.graph.model import Operation, Tensor


class _TaskWorker:
    """One task's actor: the job's graph, a Session holding the task's variables."""

    def __init__(self, cfg: Any, task: str):
        from orchestrator.exec.session import Session
        from orchestrator.job import build_graph, job_saver

        self.task = task
        self.graph, imported = build_graph(cfg, log=lambda _: None)
        self.saver = job_saver(imported, self.graph, cfg)
        self.session = Session(graph=self.graph)

    def restore(self, prefix: str, default_task: str) -> int:
        """Restore the variables placed on this task (the others are never read here); returns how many."""
        mine = []

        def own(target: Any) -> bool:
            is_mine = task_of(self.graph.get_operation_by_name(target.op_name).device, default_task) == self.task
            if is_mine:
                mine.append(target)
            return is_mine

        self.saver.restore(self.session, prefix, only=own)
        return len(mine)

    def run(self, fetches: Sequence[str], ops: Sequence[str], input_names: Sequence[str], count: int,
            *values: Any) -> Any:
        results = self.session.run_partition(fetches, dict(zip(input_names, values)), ops)[:count]
        return results if count > 1 else (results[0] if count else None)

    def variable_values(self, targets: Sequence[Any]) -> list[np.ndarray]:
        from orchestrator.checkpoint.saver import variable_value

        return [variable_value(self.session.state, target, f"on task {self.task}") for target in targets]


class PartitionedSession:
    """``run(fetches, feed_dict)`` over task actors (fetches: a list of names, Tensors or Operations)."""

    def __init__(self, ray: Any, cfg: Any, graph: Any, default_task: str = "/job:localhost/replica:0/task:0"):
        self._ray = ray
        self.graph = graph
        self.default_task = default_task
        tasks = sorted({task_of(op.device, default_task) for op in graph.get_operations()})
        remote = ray.remote(num_cpus=0)(_TaskWorker)
        # num_cpus=0: an actor per task even on a machine with fewer CPUs than tasks;
        # they run one block at a time each.
        self.actors = {task: remote.remote(cfg, task) for task in tasks}
        self._plans: dict[tuple, PartitionPlan] = {}

    @property
    def tasks(self) -> list[str]:
        return list(self.actors)

    def restore(self, prefix: str) -> dict[str, int]:
        """Each task actor restores its own variables from ``prefix`` (in parallel); task -> count."""
        tasks = list(self.actors)
        counts = self._get([self.actors[t].restore.remote(prefix, self.default_task) for t in tasks])
        return dict(zip(tasks, counts))

    def plan(self, fetches: Sequence[Any], feed_names: Sequence[str]) -> PartitionPlan:
        key = (tuple(fetches), tuple(feed_names))
        plan = self._plans.get(key)
        if plan is None:
            elements = [self.graph.as_graph_element(f) for f in fetches]
            tensors = [e for e in elements if isinstance(e, Tensor)]
            targets = [e for e in elements if isinstance(e, Operation)]
            feeds = [self.graph.as_graph_element(n) for n in feed_names]
            # Every task of the plan has an actor: the actors were made for every task of the graph.
            plan = self._plans[key] = plan_partitions(tensors, targets, feeds, self.default_task)
        return plan

    def run(self, fetches: Sequence[Any], feed_dict: dict[str, Any] | None = None) -> list[Any]:
        """Values of ``fetches`` (None for operations) after one run of the plan's blocks."""
        feed_dict = {self._name(k): v for k, v in (feed_dict or {}).items()}
        names = [self._name(f) for f in fetches]
        plan = self.plan(names, sorted(feed_dict))
        refs: dict[str, Any] = {name: self._ray.put(np.asarray(value)) for name, value in feed_dict.items()}
        sinks = []
        for block in plan.blocks:
            count = len(block.outputs)
            call = self.actors[block.task].run.options(num_returns=max(count, 1))
            result = call.remote(list(block.outputs) + list(block.targets), list(block.ops), list(block.inputs),
                                 count, *(refs[name] for name in block.inputs))
            if count == 0:
                sinks.append(result)
            elif count == 1:
                refs[block.outputs[0]] = result
            else:
                refs.update(zip(block.outputs, result))
        wanted = [refs[name] for name in plan.fetches]
        values = self._get(wanted + sinks)[:len(wanted)]
        fetched = dict(zip(plan.fetches, values))
        return [fetched.get(name) for name in names]

    def pull_variables(self, targets: Sequence[Any], state: Any, assign: Callable[[Any, Any, Any], None]) -> None:
        """Copy each variable's value from the actor of its task into ``state`` (``assign(state, target, value)``)."""
        by_task: dict[str, list[Any]] = {}
        for target in targets:
            device = self.graph.get_operation_by_name(target.op_name).device
            by_task.setdefault(task_of(device, self.default_task), []).append(target)
        calls = {task: self.actors[task].variable_values.remote(group) for task, group in by_task.items()}
        for task, call in calls.items():
            for target, value in zip(by_task[task], self._get(call)):
                assign(state, target, np.array(value))

    def close(self) -> None:
        for actor in self.actors.values():
            self._ray.kill(actor)
        self.actors = {}

    def _name(self, key: Any) -> str:
        return key if isinstance(key, str) else key.name

    def _get(self, refs: Any) -> Any:
        return cluster.get(self._ray, refs, "task")


__all__ = ["PartitionedSession"]
