"""Device partition plans (exec/partition.py, pure): tasks, stages and blocks of a run, on the
TF-made parameter-server graph and on small graphs for the edges that must not cross tasks.
The plans are also run (Session.run_partition, block by block in one process) and must give
what a plain Session run gives."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from orchestrator.dtypes import as_dtype
from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.exec.partition import plan_partitions, task_of
from orchestrator.exec.session import Session
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.model import Graph

MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "ps_worker"
LOCAL = "/job:localhost/replica:0/task:0"
F32 = as_dtype(np.float32)


def ps_worker():
    graph = Graph()
    with graph.as_default():
        saver = import_meta_graph(str(MODEL / "model.meta"))
    manifest = json.loads((MODEL / "manifest.json").read_text())
    feeds = [graph.get_tensor_by_name(n) for n in manifest["feeds"]]
    return graph, saver, graph.get_collection("train_op")[0], graph.get_tensor_by_name(manifest["loss"]), feeds


@pytest.mark.parametrize("device,task", [
    ("", LOCAL), ("/device:CPU:0", LOCAL), ("/job:ps", "/job:ps/replica:0/task:0"),
    ("/job:ps/task:1/device:CPU:0", "/job:ps/replica:0/task:1"), ("/job:w/replica:2/task:3/gpu:0", "/job:w/replica:2/task:3"),
])
def test_task_of_a_device(device, task):
    assert task_of(device, LOCAL) == task


def test_ps_worker_plan_honours_every_edge():
    graph, _, train_op, loss, feeds = ps_worker()
    plan = plan_partitions([loss], [train_op], feeds, LOCAL)
    assert set(plan.tasks) == {"/job:ps/replica:0/task:0", "/job:ps/replica:0/task:1", "/job:worker/replica:0/task:0"}
    stage_of = {}
    for block in plan.blocks:
        for name in block.ops:
            stage_of.setdefault(name, []).append(block)
    fed = {t.name for t in feeds}
    for block in plan.blocks:
        available = set(block.inputs) | fed
        for name in block.ops:
            op = graph.get_operation_by_name(name)
            for tensor in op.inputs:
                if tensor.name in available or tensor.op.name in block.ops:
                    continue
                pytest.fail(f"{name} in block {block.index} reads {tensor.name}, neither in the block nor an input")
        for name in block.inputs:
            if name not in fed:
                assert plan.blocks[plan.producer[name]].stage < block.stage, name
    # The global-step increment runs after every variable update (its control input).
    (increment,) = [b for b in plan.blocks if "Adagrad" in b.ops]
    updates = [b for b in plan.blocks if "Adagrad/update" in b.ops]
    assert increment.stage > max(b.stage for b in updates)
    # Variables are updated where they live: Apply* and their variables share a block.
    for block in plan.blocks:
        for name in block.ops:
            op = graph.get_operation_by_name(name)
            if op.type == "ApplyAdagrad":
                assert op.inputs[0].op.name in block.ops and block.task.startswith("/job:ps")


def test_running_the_blocks_in_order_equals_a_plain_run():
    graph, saver, train_op, loss, feeds = ps_worker()
    reference = np.load(MODEL / "reference.npz")
    feed = {t.name: reference[f"feed/0/{t.name}"] for t in feeds}
    whole, parts = Session(graph=graph), Session(graph=graph)
    prefix = str(MODEL / "ckpt" / "model.ckpt-0")
    saver.restore(whole, prefix)
    saver.restore(parts, prefix)
    plan = plan_partitions([loss], [train_op], feeds, LOCAL)
    for _ in range(3):
        expected = whole.run([loss, train_op], feed_dict=feed)[0]
        values = dict(feed)
        for block in plan.blocks:
            out = parts.run_partition(list(block.outputs) + list(block.targets),
                                      {n: values[n] for n in block.inputs}, block.ops)
            values.update(zip(block.outputs, out))
        assert values[loss.name] == expected
    for var in ("dense_0/kernel", "dense_1/bias", "global_step"):
        np.testing.assert_array_equal(parts.run(f"{var}:0"), whole.run(f"{var}:0"))


def small_graph():
    g = Graph()
    const = g.create_op("Const", [], attrs={"value": np.ones(2, np.float32), "dtype": F32}, name="c",
                        device="/job:worker/task:0").outputs[0]
    return g, const


def test_resource_handle_crossing_tasks_is_refused():
    g, _ = small_graph()
    handle = g.create_op("VarHandleOp", [], attrs={"dtype": F32, "shape": [2], "shared_name": "v"}, name="v",
                         device="/job:ps/task:0").outputs[0]
    read = g.create_op("ReadVariableOp", [handle], attrs={"dtype": F32}, name="read",
                       device="/job:worker/task:0").outputs[0]
    with pytest.raises(InvalidArgumentError, match=r"resource handle cannot cross tasks: 'v:0' \(/job:ps.*'read'"):
        plan_partitions([read], [], [], LOCAL)


def test_ref_input_needing_the_variable_on_another_task_is_refused_but_its_value_may_cross():
    g, const = small_graph()
    var = g.create_op("VariableV2", [], attrs={"dtype": F32, "shape": [2]}, name="w", device="/job:ps/task:0").outputs[0]
    assign = g.create_op("Assign", [var, const], name="w/Assign", device="/job:worker/task:0")
    with pytest.raises(InvalidArgumentError, match=r"Assign needs the variable itself.*'w:0'"):
        plan_partitions([], [assign], [], LOCAL)
    read = g.create_op("Identity", [var], name="w/read", device="/job:worker/task:0").outputs[0]
    plan = plan_partitions([read], [], [], LOCAL)
    (ps_block,) = [b for b in plan.blocks if b.task.startswith("/job:ps")]
    assert ps_block.outputs == ("w:0",)


def test_v1_control_flow_spanning_tasks_is_refused():
    g, const = small_graph()
    enter = g.create_op("Enter", [const], attrs={"frame_name": "loop"}, name="enter", device="/job:ps/task:0").outputs[0]
    out = g.create_op("Identity", [enter], name="out", device="/job:worker/task:0").outputs[0]
    with pytest.raises(UnimplementedError, match="v1 control flow .*Enter 'enter'"):
        plan_partitions([out], [], [], LOCAL)


def test_v1_loops_on_one_task_are_one_block():
    folder = MODEL.parent / "while_v1"
    graph = Graph()
    with graph.as_default():
        import_meta_graph(str(folder / "model.meta"))
    manifest = json.loads((folder / "manifest.json").read_text())
    feeds = [graph.get_tensor_by_name(n) for n in manifest["feeds"]]
    loss = graph.get_tensor_by_name(manifest["loss"])
    plan = plan_partitions([loss], [graph.get_collection("train_op")[0]], feeds, LOCAL)
    (block,) = plan.blocks
    assert block.task == LOCAL and "recur/Merge" in block.ops and block.outputs == (loss.name,)
