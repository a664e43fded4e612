"""TF1's variable helpers on an imported graph: collections read back, and an init op that
starts a run from scratch (instead of restoring) and trains."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import orchestrator.compat.v1 as tf
from orchestrator.errors import FailedPreconditionError

MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "mlp_sgd"


def test_initializer_starts_a_run_from_scratch():
    ref = np.load(MODEL / "reference.npz")
    with tf.Graph().as_default() as graph:
        tf.train.import_meta_graph(str(MODEL / "model.meta"))
        names = {v.op.name for v in tf.global_variables()}
        assert {v.op.name for v in tf.trainable_variables()} <= names
        assert "global_step" in names
        train_op = tf.get_collection("train_op")[0]
        feed = {k.split("/", 2)[2]: ref[k] for k in ref.files if k.startswith("feed/0/")}
        with tf.Session() as sess:
            with pytest.raises(FailedPreconditionError, match="uninitialized|not initialized"):
                sess.run(train_op, feed_dict=feed)
            init = tf.global_variables_initializer()
            assert init.type == "NoOp" and init.graph is graph
            assert {op.name for op in init.control_inputs} == {v.initializer.name for v in tf.global_variables()}
            sess.run(init)
            loss = sess.run(["loss:0", train_op], feed_dict=feed)[0]
            assert np.isfinite(loss)
            assert sess.run("global_step:0") == 1


def test_empty_initializer_is_a_plain_noop():
    with tf.Graph().as_default():
        op = tf.variables_initializer([], name="nothing")
        assert (op.type, op.name, list(op.control_inputs)) == ("NoOp", "nothing", [])
        with tf.Session() as sess:
            assert sess.run(op) is None
