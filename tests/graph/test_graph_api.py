"""The public API and TF1's names for it resolve to the implementations (issue 2, point 7)."""
from __future__ import annotations

import pytest

import orchestrator
import orchestrator.compat.v1 as tf
from graph_helpers import TRAIN_META

TOP_LEVEL = ["import_meta_graph", "export_meta_graph", "Graph", "get_default_graph", "reset_default_graph",
             "get_collection", "Session", "Saver", "latest_checkpoint", "get_checkpoint_state", "load_checkpoint",
             "list_variables", "DeviceSpec"]


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_orchestrator_exports(name):
    assert callable(getattr(orchestrator, name))
    assert name in orchestrator.__all__


@pytest.mark.parametrize("path", ["train.import_meta_graph", "train.export_meta_graph", "train.Saver",
                                  "train.latest_checkpoint", "train.get_checkpoint_state", "get_collection",
                                  "Session", "reset_default_graph", "get_default_graph", "DeviceSpec",
                                  "GraphKeys"])
def test_tf1_names(path):
    obj = tf
    for part in path.split("."):
        obj = getattr(obj, part)
    assert obj is getattr(orchestrator, path.rsplit(".", 1)[-1], obj)


def test_unknown_names_say_what_exists():
    with pytest.raises(AttributeError, match="orchestrator provides: .*import_meta_graph"):
        tf.train.import_meta_grap  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        orchestrator.nothing  # noqa: B018


def test_resume_script_shape():
    # The graph half of TF1's documented resume example, through TF1's names.
    tf.reset_default_graph()
    saver = tf.train.import_meta_graph(str(TRAIN_META))
    assert isinstance(saver, tf.train.Saver)
    train_op = tf.get_collection("train_op")[0]
    assert train_op.name == "Momentum" and train_op.graph is tf.get_default_graph()
    assert tf.DeviceSpec.from_string("/job:ps/task:0/cpu:0").to_string() == "/job:ps/task:0/device:CPU:0"
    tf.reset_default_graph()
