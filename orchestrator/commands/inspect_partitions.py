"""``orchestrator inspect META --partitions``: how a partitioned job (``cluster.partition_by_device``)
would split a training step over task actors, without running anything.

The step is the graph's first ``train_op`` collection entry, every placeholder fed (as a job
feeds them); devices are the graph's own, or those a ``--device-map`` would give. The report
lists the tasks (one Ray actor each) and the blocks stage by stage: the task, how many ops,
how many values come in from other tasks or feeds, and how many go out. An edge the plan
refuses (a resource handle or ref input across tasks, v1 control flow spanning tasks) is
reported as the problem a job would stop with.
"""
from __future__ import annotations

from typing import Any

from orchestrator.errors import OrchestratorError


def partitions_section(graph: Any, default_task: str = "/job:localhost/replica:0/task:0") -> dict[str, Any]:
    from orchestrator.exec.partition import plan_partitions

    train_ops = graph.get_collection("train_op")
    if not train_ops:
        return {"ok": False, "problem": "the graph's 'train_op' collection is empty: no step to partition"}
    train_op = train_ops[0]
    feeds = [op.outputs[0] for op in graph.get_operations() if op.type == "Placeholder"]
    try:
        plan = plan_partitions([], [train_op], feeds, default_task)
    except OrchestratorError as exc:
        return {"ok": False, "train_op": train_op.name, "problem": str(exc)}
    blocks = [{"stage": b.stage, "task": b.task, "ops": len(b.ops), "inputs": len(b.inputs),
               "outputs": len(b.outputs), "example": b.ops[-1] if b.ops else ""} for b in plan.blocks]
    return {"ok": True, "train_op": train_op.name, "tasks": list(plan.tasks), "blocks": blocks}


def render_partitions(section: dict[str, Any], table: Any) -> list[str]:
    """Text lines for the section; ``table(headers, rows)`` is inspect's table renderer."""
    if not section["ok"]:
        return ["", f"device partitions: {section['problem']}"]
    rows = [[b["stage"], b["task"], b["ops"], b["inputs"], b["outputs"], b["example"]] for b in section["blocks"]]
    return ["", f"device partitions of train op {section['train_op']!r}: {len(section['tasks'])} task actor(s), "
                f"{len(section['blocks'])} block(s) a step:",
            table(["stage", "task", "ops", "values in", "values out", "for example"], rows)]
