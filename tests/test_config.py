import pytest

from orchestrator.config import load_config, parse_config
from orchestrator.errors import InvalidArgumentError


def test_defaults_and_relative_paths(tmp_path):
    cfg_file = tmp_path / "job.yaml"
    cfg_file.write_text(
        "name: demo\n"
        "model: {meta_graph: m/model.meta, clear_devices: true}\n"
        "checkpoint: {restore_from: m/ckpt, save_dir: out, save_every_steps: 5}\n"
        "train: {steps: 7, fetches: loss:0, feeds: {file: m/reference.npz}}\n")
    job = load_config(str(cfg_file))
    assert job.name == "demo"
    assert job.model.meta_graph == str(tmp_path / "m" / "model.meta")
    assert job.model.clear_devices is True
    assert job.checkpoint.save_dir == str(tmp_path / "out")
    assert job.checkpoint.max_to_keep == 5
    assert job.train.steps == 7 and job.train.fetches == ("loss:0",)
    assert job.train.feeds.file == str(tmp_path / "m" / "reference.npz")


def test_cluster_defaults_to_in_process_reads():
    job = parse_config({"model": {"meta_graph": "m"}})
    assert (job.cluster.address, job.cluster.restore_actors, job.cluster.restore_threads) == (None, 0, 4)
    assert (job.cluster.partition_by_device, job.cluster.default_task) == (False, "/job:localhost/replica:0/task:0")
    job = parse_config({"model": {"meta_graph": "m"}, "cluster": {"address": "auto", "restore_actors": 3}})
    assert (job.cluster.address, job.cluster.restore_actors) == ("auto", 3)


def test_urls_are_left_alone():
    job = parse_config({"model": {"meta_graph": "s3://b/m.meta"}}, base_dir="/x")
    assert job.model.meta_graph == "s3://b/m.meta"


@pytest.mark.parametrize("raw,message", [
    ({"modle": {}}, "unknown key 'modle'.*Did you mean 'model'"),
    ({"model": {}}, "missing required key.*meta_graph"),
    ({"model": {"meta_graph": "m", "clear_device": True}}, "model.clear_device.*clear_devices"),
    ({"model": {"meta_graph": "m"}, "train": {"steps": "ten"}}, "train.steps expected int, found 'ten'"),
    ({"model": {"meta_graph": "m"}, "train": {"steps": -1}}, "train.steps must be >= 0"),
    ({"model": {"meta_graph": "m"}, "checkpoint": []}, "section 'checkpoint' must be a mapping"),
    ({"model": {"meta_graph": "m"}, "cluster": {"restore_actors": -2}}, "cluster.restore_actors must be >= 0"),
    ({"model": {"meta_graph": "m"}, "cluster": {"restore_threads": 0}}, "cluster.restore_threads must be >= 1"),
    ({"model": {"meta_graph": "m"}, "cluster": {"adress": "auto"}}, "cluster.adress.*Did you mean 'address'"),
    ({"model": {"meta_graph": "m"}, "cluster": {"default_task": "/cpu:0"}}, "cluster.default_task must name a task"),
    ({"model": {"meta_graph": "m"}, "cluster": {"partition_by_device": True, "restore_actors": 2}},
     "restore_actors does not apply with cluster.partition_by_device"),
    ([1, 2], "expected a mapping"),
])
def test_bad_configs_name_the_key(raw, message):
    with pytest.raises(InvalidArgumentError, match=message):
        parse_config(raw, source="job.yaml")


def test_bad_yaml_names_file(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("model: [unclosed\n")
    with pytest.raises(InvalidArgumentError, match="bad.yaml: not valid YAML"):
        load_config(str(f))
