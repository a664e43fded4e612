"""DeviceMap: rule parsing, first-match/merge semantics, validation, colocation, function bodies,
and the TF-made replica_device_setter graph remapped onto one local CPU and exported."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.errors import InvalidArgumentError
from orchestrator.graph.device_map import DeviceMap
from orchestrator.graph.devices import DeviceSpec, devices_used
from orchestrator.graph.export import export_meta_graph
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.meta_io import read_meta_graph
from orchestrator.graph.model import Graph
from orchestrator.protos import function_pb2

PS_WORKER = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "ps_worker"
LOCAL_CPU = "/job:localhost/replica:0/task:0/device:CPU:0"
# The remap the job and TF tests use: ps tasks onto the local CPU, the worker onto the local task,
# and the sharded saver's task-less "/device:CPU:*" kept explicitly.
PS_WORKER_RULES = [{"from": "/job:ps", "to": LOCAL_CPU},
                   {"from": "/job:worker", "to": "/job:localhost/replica:0/task:0"},
                   {"from": "/device:CPU:*", "to": "/device:CPU:*"}]


def _const(graph: Graph, name: str, device: str, colocate_with: list[str] = ()):
    attrs = {"value": np.float32(1), "dtype": "float32"}
    if colocate_with:
        attrs["_class"] = [b"loc:@" + t.encode() for t in colocate_with]
    return graph.create_op("Const", [], attrs, name=name, device=device)


def small_graph() -> Graph:
    """Two ps tasks (a variable-like node plus a colocated reader each), a worker op, an unplaced op."""
    g = Graph()
    _const(g, "w", "/job:ps/task:0")
    _const(g, "w/read", "/job:ps/task:0", ["w"])
    _const(g, "b", "/job:ps/task:1/device:CPU:0")
    _const(g, "b/read", "/job:ps/task:1/device:CPU:0", ["b"])
    _const(g, "loss", "/job:worker/task:0/device:GPU:1")
    _const(g, "free", "")
    return g


def devices(graph: Graph) -> dict[str, str]:
    return {op.name: op.device for op in graph.get_operations()}


# ------------------------------------------------------------------ rule semantics

@pytest.mark.parametrize("rule_from, device, matches", [
    ("/job:ps", "/job:ps/task:3/device:CPU:0", True),
    ("/job:ps/task:1", "/job:ps/task:0", False),
    ("/job:ps/replica:0", "/job:ps/task:0", False),          # a field the node leaves unset does not match
    ("/device:CPU:*", "/job:ps/task:0/device:CPU:7", True),  # "*" index: any
    ("/cpu:0", "/job:ps/task:0/device:CPU:0", True),         # legacy spelling, canonical comparison
    ("/device:GPU:0", "/job:ps/task:0/device:CPU:0", False),
    ("/device:CPU:*", "/job:ps/task:0", False),
    ("", "/job:worker/task:9", True),                         # catch-all
])
def test_matching(rule_from, device, matches):
    dm = DeviceMap.from_rules([{"from": rule_from, "to": "/job:x"}], allow_unused_rules=True)
    assert (dm.match(device) is not None) is matches


@pytest.mark.parametrize("device, to, new", [
    ("/job:ps/task:1/device:CPU:0", "/job:localhost/task:0", "/job:localhost/task:0/device:CPU:0"),
    ("/job:ps/task:1", LOCAL_CPU, LOCAL_CPU),
    ("/job:worker/task:0/device:GPU:1", "/device:CPU:*", "/job:worker/task:0/device:CPU:1"),  # TF merge
    ("/job:ps/task:1", "", ""),                                # clears the device
    ("/job:ps/task:1", "/gpu:0", "/job:ps/task:1/device:GPU:0"),
])
def test_rewrite_is_tf_merge(device, to, new):
    dm = DeviceMap.from_rules([{"from": "", "to": to}])
    assert dm.map_device(device) == new
    if to:   # the same answer as DeviceSpec's merge, which is checked against TF in test_graph_devices
        assert new == DeviceSpec.from_string(device).make_merged_spec(to).to_string()


def test_first_matching_rule_wins():
    dm = DeviceMap.from_rules([{"from": "/job:ps/task:1", "to": "/job:a"}, {"from": "/job:ps", "to": "/job:b"}])
    assert dm.map_device("/job:ps/task:1") == "/job:a/task:1"
    assert dm.map_device("/job:ps/task:0") == "/job:b/task:0"
    assert dm.map_device("") == ""
    assert dm.map_device("/job:worker") == "/job:worker"      # unmatched: returned as given


# ------------------------------------------------------------------ parsing errors

@pytest.mark.parametrize("rules, message", [
    ([{"from": "/job:ps", "to": "/task:x"}], r"device_map rule 0 'to': invalid device spec '/task:x'"),
    ([{"from": "/job:ps", "to": ""}, {"from": "/localhost", "to": ""}],
     r"device_map rule 1 'from': invalid device spec '/localhost'"),
    ([{"from": "/job:ps"}], r"rule 0 .*missing key\(s\) 'to'"),
    ([{"from": "/job:ps", "to": "", "too": 1}], r"rule 0 .*unknown key\(s\) 'too'"),
    ([{"from": None, "to": ""}], r"rule 0: 'from' must be a device string .* found NoneType"),
    (["/job:ps -> /job:x"], r"rule 0 must be a mapping"),
    ({"from": "/job:ps", "to": ""}, r"must be a list of"),
])
def test_bad_rules_name_index_and_text(rules, message):
    with pytest.raises(InvalidArgumentError, match=message):
        DeviceMap.from_rules(rules, source="job.yaml")


def test_bad_policies():
    with pytest.raises(InvalidArgumentError, match=r"must be one of error, keep; found 'ignore'"):
        DeviceMap.from_rules([], unmapped="ignore")
    with pytest.raises(InvalidArgumentError, match=r"allow_unused_rules must be true or false"):
        DeviceMap.from_rules([], allow_unused_rules="yes")


# ------------------------------------------------------------------ planning and validation

def test_apply_rewrites_and_reports():
    g = small_graph()
    version = g.version
    dm = DeviceMap.from_rules([{"from": "/job:ps", "to": LOCAL_CPU},
                               {"from": "/job:worker", "to": "/job:localhost/replica:0/task:0"}])
    plan = dm.apply(g)
    assert devices(g) == {"w": LOCAL_CPU, "w/read": LOCAL_CPU, "b": LOCAL_CPU, "b/read": LOCAL_CPU,
                          "loss": "/job:localhost/replica:0/task:0/device:GPU:1", "free": ""}
    assert g.version > version
    rows = {(m.old, m.new, m.nodes, m.rule) for m in plan.mappings}
    assert rows == {("/job:ps/task:0", LOCAL_CPU, 2, 0), ("/job:ps/task:1/device:CPU:0", LOCAL_CPU, 2, 0),
                    ("/job:worker/task:0/device:GPU:1", "/job:localhost/replica:0/task:0/device:GPU:1", 1, 1)}
    assert plan.unplaced_nodes == 1 and plan.ok
    lines = plan.lines()
    assert f"device /job:ps/task:0 -> {LOCAL_CPU}  (2 nodes, rule 0; e.g. w)" in lines
    assert lines[-1].startswith("1 node(s) without a device left unplaced")
    # Exported node defs carry the new strings.
    exported = {n.name: n.device for n in export_meta_graph(graph=g).graph_def.node}
    assert exported == devices(g)


def test_unmapped_devices_error_lists_each_with_count_and_example():
    g = small_graph()
    before = devices(g)
    dm = DeviceMap.from_rules([{"from": "/job:ps/task:0", "to": LOCAL_CPU}], source="job.yaml")
    with pytest.raises(InvalidArgumentError) as info:
        dm.apply(g)
    text = str(info.value)
    assert text.startswith("job.yaml: device_map cannot be applied (1 problem(s))")
    assert "2 device(s) match no rule" in text
    assert "/job:ps/task:1/device:CPU:0 (2 nodes, e.g. 'b')" in text
    assert "/job:worker/task:0/device:GPU:1 (1 node, e.g. 'loss')" in text
    assert devices(g) == before                     # nothing changed


def test_unmapped_keep_leaves_devices():
    g = small_graph()
    plan = DeviceMap.from_rules([{"from": "/job:ps/task:0", "to": LOCAL_CPU}], unmapped="keep").apply(g)
    assert devices(g)["b"] == "/job:ps/task:1/device:CPU:0" and devices(g)["w"] == LOCAL_CPU
    kept = [m for m in plan.mappings if m.rule is None]
    assert {m.old for m in kept} == {"/job:ps/task:1/device:CPU:0", "/job:worker/task:0/device:GPU:1"}
    assert all(m.old == m.new and "no rule matched, kept" in m.line() for m in kept)


def test_task_less_device_error_suggests_identity_rule():
    g = Graph()
    _const(g, "a", "/device:CPU:*")
    with pytest.raises(InvalidArgumentError, match=r"e\.g\. \{from: '/device:CPU:\*', to: '/device:CPU:\*'\}"):
        DeviceMap.from_rules([{"from": "/job:ps", "to": ""}], allow_unused_rules=True).apply(g)


def test_unused_rules_are_errors_unless_allowed():
    rules = [{"from": "/job:ps", "to": LOCAL_CPU}, {"from": "/job:ps/task:1", "to": ""},
             {"from": "/job:wroker", "to": ""}, {"from": "", "to": ""}]
    plan = DeviceMap.from_rules(rules).plan(small_graph())
    assert len(plan.problems) == 2
    assert "rule 1 (from '/job:ps/task:1' to '') rewrites no node: every device it matches is taken by " \
           "earlier rule(s) 0" in plan.problems[0]
    assert "rule 2 (from '/job:wroker' to '') rewrites no node: it matches no device of the graph " \
           "(devices: /job:ps/task:0, /job:ps/task:1/device:CPU:0, /job:worker/task:0/device:GPU:1)" \
           in plan.problems[1]
    g = small_graph()
    DeviceMap.from_rules(rules, allow_unused_rules=True).apply(g)
    assert devices(g)["loss"] == "" and devices(g)["w"] == LOCAL_CPU


def test_colocation_group_split_is_an_error():
    g = small_graph()
    _const(g, "w/slot", "/job:ps/task:1", ["w"])   # colocated with w but (oddly) placed by task only
    dm = DeviceMap.from_rules([{"from": "/job:ps/task:0", "to": LOCAL_CPU},
                               {"from": "/job:ps/task:1", "to": "/job:ps/task:1"},
                               {"from": "", "to": ""}])
    plan = dm.plan(g)
    assert len(plan.problems) == 1
    problem = plan.problems[0]
    assert problem.startswith("colocation group 'loc:@w' would be split across devices: ")
    assert f"{LOCAL_CPU} ('w', 'w/read')" in problem and "/job:ps/task:1 ('w/slot')" in problem
    assert "already conflicted before the rewrite" in problem


def test_colocation_split_made_by_the_rewrite():
    g = small_graph()
    _const(g, "w/slot", "/job:ps/task:0/device:CPU:0", ["w"])   # compatible with /job:ps/task:0 before
    dm = DeviceMap.from_rules([{"from": "/job:ps/task:0/device:CPU:0", "to": "/job:ps/task:5"},
                               {"from": "/job:ps/task:0", "to": "/job:ps/task:0"}, {"from": "", "to": ""}])
    problem, = dm.plan(g).problems
    assert "colocation group 'loc:@w'" in problem and "already" not in problem
    # Merge-compatible results are fine: a device type added to a task-only spec.
    ok = DeviceMap.from_rules([{"from": "/job:ps/task:0/device:CPU:0", "to": LOCAL_CPU},
                               {"from": "/job:ps/task:0", "to": "/job:localhost/replica:0/task:0"},
                               {"from": "", "to": ""}]).plan(g)
    assert ok.ok and ok.graph_devices["w/slot"] == LOCAL_CPU
    assert ok.graph_devices["w"] == "/job:localhost/replica:0/task:0"


def test_function_bodies_are_rewritten_in_a_copy():
    g = small_graph()
    fdef = function_pb2.FunctionDef()
    fdef.signature.name = "body"
    fdef.node_def.add(name="n0", op="Identity", device="/job:ps/task:1")
    fdef.node_def.add(name="n1", op="Identity", device="")
    g.function_library["body"] = fdef
    dm = DeviceMap.from_rules([{"from": "/job:ps", "to": LOCAL_CPU}, {"from": "", "to": ""}])
    plan = dm.apply(g)
    assert [n.device for n in g.function_library["body"].node_def] == [LOCAL_CPU, ""]
    assert fdef.node_def[0].device == "/job:ps/task:1"              # the original proto is untouched
    assert any(m.old == "/job:ps/task:1" and m.example == "body/n0" for m in plan.mappings)
    assert plan.unplaced_nodes == 2


def test_plan_does_not_change_the_graph():
    g = small_graph()
    before, version = devices(g), g.version
    plan = DeviceMap.from_rules([{"from": "", "to": ""}]).plan(g)
    assert devices(g) == before and g.version == version
    assert plan.graph_devices == {"w": "", "w/read": "", "b": "", "b/read": "", "loss": ""}


# ------------------------------------------------------------------ the TF-made ps/worker graph

def _import_ps_worker() -> tuple[Graph, object]:
    graph = Graph()
    with graph.as_default():
        saver = import_meta_graph(str(PS_WORKER / "model.meta"))
    return graph, saver


def test_ps_worker_onto_one_local_cpu(tmp_path):
    graph, saver = _import_ps_worker()
    old = devices_used(graph)
    plan = DeviceMap.from_rules(PS_WORKER_RULES).apply(graph)
    assert sum(m.nodes for m in plan.mappings) + plan.unplaced_nodes == len(graph.get_operations())
    assert devices_used(graph) == {"/job:localhost/replica:0/task:0": old["/job:worker/task:0"],
                                   LOCAL_CPU: sum(n for d, n in old.items() if d.startswith("/job:ps")),
                                   "": old[""], "/device:CPU:*": old["/device:CPU:*"]}
    path = tmp_path / "remapped.meta"
    export_meta_graph(str(path), graph=graph, saver_def=saver.saver_def)
    exported = {n.device for n in read_meta_graph(str(path)).graph_def.node}
    assert exported == {"", "/device:CPU:*", LOCAL_CPU, "/job:localhost/replica:0/task:0"}


# ------------------------------------------------------------------ properties

_specs = st.builds(
    DeviceSpec, job=st.sampled_from([None, "ps", "worker"]), replica=st.sampled_from([None, 0, 1]),
    task=st.sampled_from([None, 0, 1]), device_type=st.sampled_from([None, "CPU", "GPU"]),
    device_index=st.sampled_from([None, 0, 1])).filter(
    lambda spec: spec.device_type is not None or spec.device_index is None)   # strings cannot say index-only


@settings(max_examples=300, deadline=None)
@given(node=_specs, source=_specs, target=_specs)
def test_match_and_rewrite_agree_with_merge(node, source, target):
    """A rule matches exactly when merging its ``from`` into the node changes nothing, and the
    rewrite is the node merged with ``to`` (or cleared when ``to`` sets nothing)."""
    dm = DeviceMap.from_rules([{"from": source.to_string(), "to": target.to_string()}])
    matches = dm.match(node) is not None
    assert matches == (node.make_merged_spec(source) == node)
    if node.to_string() and matches:
        expected = node.make_merged_spec(target).to_string() if target.to_string() else ""
        assert dm.map_device(node.to_string()) == expected
