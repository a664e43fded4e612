"""DeviceSpec against real TF's tf.DeviceSpec table, and the graph-level device helpers."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_helpers import FIXTURES, TRAIN_META, tf_views
from orchestrator.errors import InvalidArgumentError
from orchestrator.graph.devices import DeviceSpec, canonical_device, colocation_groups, devices_used
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.meta_io import read_meta_graph
from orchestrator.graph.model import Graph

TABLE = json.loads((FIXTURES / "devices.json").read_text())
SMALL = FIXTURES / "small"


def _fields(spec: DeviceSpec) -> list:
    return [spec.job, spec.replica, spec.task, spec.device_type, spec.device_index]


@pytest.mark.parametrize("row", [r for r in TABLE["parse"] if r["ok"]], ids=lambda r: repr(r["spec"]))
def test_parses_what_tf_parses(row):
    spec = DeviceSpec.from_string(row["spec"])
    assert _fields(spec) == row["components"]
    assert spec.to_string() == row["string"]
    # The canonical form is a fixed point.
    assert DeviceSpec.from_string(spec.to_string()) == spec


@pytest.mark.parametrize("row", [r for r in TABLE["parse"] if not r["ok"]], ids=lambda r: repr(r["spec"]))
def test_rejects_what_tf_rejects(row):
    with pytest.raises(InvalidArgumentError) as info:
        DeviceSpec.from_string(row["spec"])
    assert f"invalid device spec {row['spec']!r}" in str(info.value)


def test_error_says_what_is_wrong():
    with pytest.raises(InvalidArgumentError, match=r"'/task:x': task 'x' is not an integer"):
        DeviceSpec.from_string("/task:x")
    with pytest.raises(InvalidArgumentError, match=r"'/gpu:0/cpu:0': it names more than one device"):
        DeviceSpec.from_string("/gpu:0/cpu:0")
    with pytest.raises(InvalidArgumentError, match=r"unknown part 'localhost'"):
        DeviceSpec.from_string("/localhost")
    with pytest.raises(InvalidArgumentError, match="must be a string, found int"):
        DeviceSpec.from_string(3)


@pytest.mark.parametrize("row", TABLE["merge"], ids=lambda r: f"{r['a']}+{r['b']}")
def test_merge_precedence_matches_tf(row):
    a, b = DeviceSpec.from_string(row["a"]), DeviceSpec.from_string(row["b"])
    assert a.make_merged_spec(b).to_string() == row["merged"]
    assert a == DeviceSpec.from_string(row["a"])   # make_merged_spec leaves the operands alone
    a.merge_from(row["b"])                         # TF1's merge_from updates in place
    assert a.to_string() == row["merged"]
    assert b == DeviceSpec.from_string(row["b"])


@pytest.mark.parametrize("row", TABLE["replace"], ids=lambda r: f"{r['spec']}:{sorted(r['kwargs'])}")
def test_replace_matches_tf(row):
    assert DeviceSpec.from_string(row["spec"]).replace(**row["kwargs"]).to_string() == row["result"]


def test_constructor_and_equality():
    spec = DeviceSpec(job="ps", task="1", device_type="gpu", device_index=0)
    assert spec.to_string() == "/job:ps/task:1/device:GPU:0"
    assert spec == DeviceSpec.from_string("/job:ps/task:1/gpu:0")
    assert len({spec, DeviceSpec.from_string("/job:ps/task:1/device:GPU:0")}) == 1
    assert DeviceSpec(device_type="tpu").to_string() == "/device:tpu:*"   # TF upper-cases only cpu/gpu
    assert DeviceSpec.from_string(None).to_string() == ""
    with pytest.raises(InvalidArgumentError, match="replica must be an integer, found 'x'"):
        DeviceSpec(replica="x")
    with pytest.raises(InvalidArgumentError, match=r"unknown field\(s\) \['index'\]"):
        spec.replace(index=1)
    # Assignments are normalised like TF's setters, and parsed specs are not shared.
    spec.device_type, spec.task = "cpu", "3"
    assert spec.to_string() == "/job:ps/task:3/device:CPU:0"
    with pytest.raises(InvalidArgumentError, match="no field 'index'"):
        spec.index = 1
    first = DeviceSpec.from_string("/job:ps")
    first.job = "worker"
    assert DeviceSpec.from_string("/job:ps").job == "ps"
    assert DeviceSpec.parse_from_string("/gpu:0").to_string() == "/device:GPU:0"


def test_canonical_device_names_the_node():
    assert canonical_device("/gpu:0") == "/device:GPU:0"
    assert canonical_device("") == ""
    with pytest.raises(InvalidArgumentError, match=r"^node 'n': invalid device spec '/foo:1'"):
        canonical_device("/foo:1", "node 'n'")


def _import(path, **kwargs) -> Graph:
    graph = Graph()
    with graph.as_default():
        import_meta_graph(str(path), **kwargs)
    return graph


def test_import_canonicalizes_devices_and_colocates_like_tf():
    graph = _import(SMALL / "devices.meta")
    assert {op.name: op.device for op in graph.get_operations()} == TABLE["import"]["graph_def"]
    assert {n.name: n.device for n in graph.as_graph_def().node} == TABLE["import"]["graph_def"]
    assert {op.name: [g.decode() for g in op.colocation_groups] for op in graph.get_operations()} == \
        TABLE["import"]["colocation_groups"]


def test_import_rejects_a_malformed_device_and_imports_nothing():
    meta = read_meta_graph(str(SMALL / "devices.meta"))
    meta.graph_def.node[1].device = "/job:ps/extra:1"
    graph = Graph()
    with graph.as_default(), pytest.raises(InvalidArgumentError,
                                           match=r"node 'b': invalid device spec '/job:ps/extra:1'"):
        import_meta_graph(meta)
    assert graph.get_operations() == []


def test_devices_used_counts_nodes_per_canonical_device():
    graph = _import(SMALL / "devices.meta")
    assert devices_used(graph) == {"/device:GPU:0": 3, "/job:ps/task:0/device:CPU:0": 2,
                                   "/job:ps/task:1/device:CPU:*": 1}
    train = _import(TRAIN_META)
    used = devices_used(train)
    assert sum(used.values()) == len(train.get_operations())
    # TF's own import of the same file places the nodes the same way.
    tf_nodes = tf_views()["plain"]["nodes"]
    assert used == dict(Counter(n["device"] for n in tf_nodes))
    assert used["/job:ps/task:0"] > 0 and used["/device:CPU:0"] > 0
    assert list(used.values()) == sorted(used.values(), reverse=True)
    assert devices_used(_import(TRAIN_META, clear_devices=True)) == {"": len(train.get_operations())}


def test_colocation_groups_join_linked_targets():
    graph = _import(SMALL / "devices.meta")
    # f is colocated with a and b, which ties their groups together.
    assert colocation_groups(graph) == {"a": ["a", "b", "c", "d", "f"]}
    train = _import(TRAIN_META, import_scope="t")
    groups = colocation_groups(train)
    assert {"t/w", "t/w/Assign", "t/y"} <= set(groups["t/w"])
    members = [name for group in groups.values() for name in group]
    assert len(members) == len(set(members))
    for key, group in groups.items():
        for name in group:
            op = train.get_operation_by_name(name)
            assert name == key or any(c.decode()[5:] in group for c in op.colocation_groups)


def test_colocation_group_with_a_missing_target_keeps_its_key():
    meta = read_meta_graph(str(SMALL / "devices.meta"))
    meta.graph_def.node[2].attr["_class"].list.s[:] = [b"loc:@gone"]   # c
    del meta.graph_def.node[5].attr["_class"]                          # f
    graph = Graph()
    with graph.as_default():
        import_meta_graph(meta)
    assert colocation_groups(graph) == {"gone": ["c"], "b": ["b", "d"]}


@settings(max_examples=200, deadline=None)
@given(job=st.none() | st.text(st.sampled_from("abcxyz_-0123456789"), min_size=1, max_size=8),
       replica=st.none() | st.integers(0, 10**6), task=st.none() | st.integers(0, 10**6),
       device_type=st.none() | st.sampled_from(["CPU", "GPU", "TPU", "XLA_CPU", "tpu", "MY_DEVICE"]),
       device_index=st.none() | st.integers(0, 64))
def test_canonical_string_round_trips(job, replica, task, device_type, device_index):
    if device_type is None:
        device_index = None   # an index needs a type to be printed
    spec = DeviceSpec(job, replica, task, device_type, device_index)
    again = DeviceSpec.from_string(spec.to_string())
    assert again == spec and hash(again) == hash(spec)
    # Merging with an empty spec, or into one, changes nothing.
    assert spec.make_merged_spec(DeviceSpec()) == spec == DeviceSpec().make_merged_spec(spec)


@pytest.mark.parametrize("model", ["ps_worker", "sharded_saver"])
def test_model_devices_and_colocation_match_tf(model):
    # A replica_device_setter graph (ps tasks + worker) and a two-CPU sharded saver, as TF placed them.
    tf_view = TABLE["models"][model]
    graph = _import(FIXTURES.parent / "models" / model / "model.meta")
    assert devices_used(graph) == tf_view["device_counts"]
    ours = {op.name: [c.decode() for c in op.colocation_groups] for op in graph.get_operations()
            if op.colocation_groups != [b"loc:@" + op.name.encode()]}
    assert ours == tf_view["colocation_groups"]
    groups = colocation_groups(graph)
    for op_name, targets in tf_view["colocation_groups"].items():
        (key,) = {k for k, members in groups.items() if op_name in members}
        assert all(t[5:] in groups[key] for t in targets if t[5:] in graph)
    # Every member of a group sits on one device (import propagated the target's).
    for members in groups.values():
        assert len({graph.get_operation_by_name(m).device for m in members}) == 1
