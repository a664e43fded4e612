"""Real TensorFlow reads what our Saver writes: state file, meta graph and checkpoint."""
from __future__ import annotations

import json

import numpy as np
import pytest

from orchestrator.exec.state import SessionState
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.model import Graph

TF_RESTORE = r"""
import json, sys
import tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
run_dir = sys.argv[1]
latest = tf1.train.latest_checkpoint(run_dir)
state = tf1.train.get_checkpoint_state(run_dir)
graph = tf1.Graph()
with graph.as_default():
    saver = tf1.train.import_meta_graph(latest + ".meta")
    with tf1.Session() as sess:
        saver.restore(sess, latest)
        missing = {m.decode() for m in sess.run(tf1.report_uninitialized_variables())}
        values = {v.op.name: sess.run(v) for v in tf1.global_variables() if v.op.name not in missing}
out = {k: (v.astype(bytes).astype(str).tolist() if v.dtype == object else v.tolist()) for k, v in values.items()}
print(json.dumps({"latest": latest, "all": list(state.all_model_checkpoint_paths), "values": out}))
"""


@pytest.mark.tf
@pytest.mark.parametrize("case", ["partitioned_sharded", "renamed"])
def test_tf_restores_our_checkpoint_and_reads_our_state_file(fixtures_dir, tmp_path, run_tf, case):
    graph = Graph()
    with graph.as_default():
        saver = import_meta_graph(str(fixtures_dir / "saver" / case / "model.meta"))
    state = SessionState()
    saver.restore(state, str(fixtures_dir / "saver" / case / "model.ckpt-0"))
    for ref in list(state.ref_variables.values()) + list(state.resources.values()):
        if ref.value.dtype.kind == "f":
            ref.set((ref.value * 3 + 1).astype(ref.value.dtype))
        elif ref.value.dtype.kind == "i":
            ref.set(ref.value + 5)
    saver.save(state, str(tmp_path / "model.ckpt"), global_step=1)
    saver.save(state, str(tmp_path / "model.ckpt"), global_step=2)
    result = json.loads(run_tf(TF_RESTORE, str(tmp_path)).strip().splitlines()[-1])
    assert result["latest"] == str(tmp_path / "model.ckpt-2")
    assert result["all"] == [str(tmp_path / "model.ckpt-1"), str(tmp_path / "model.ckpt-2")]
    ours = {name: ref.value for name, ref in state.ref_variables.items()}
    ours.update({shared: ref.value for (_, shared), ref in state.resources.items()})
    tf_values = result["values"]
    if case == "partitioned_sharded":       # TF lists the partitions as emb/part_k
        assert {"emb/part_0", "emb/part_1", "emb/part_2", "dense/kernel", "global_step", "names"} <= set(tf_values)
    for name, value in ours.items():
        want = [v.decode() for v in value.reshape(-1)] if value.dtype == object else value
        np.testing.assert_array_equal(np.asarray(tf_values[name]).reshape(-1) if value.dtype == object
                                      else np.asarray(tf_values[name], dtype=value.dtype), want, err_msg=name)
