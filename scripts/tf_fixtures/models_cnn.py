"""Convolutional model fixtures: conv/pool/batch-norm/dropout graphs as tf.compat.v1.layers builds them."""
from __future__ import annotations

import pathlib
from typing import Callable

import numpy as np

from common import ModelSpec, global_step, make_model, tf1

BATCH, SIZE, CHANNELS, CLASSES = 4, 8, 3, 5


def _images(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((BATCH, SIZE, SIZE, CHANNELS)).astype(np.float32)


def _labels(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, CLASSES, BATCH).astype(np.int32)


def _convnet(fused: bool, resource: bool, description: str) -> ModelSpec:
    """conv SAME s1 → BN(train) → relu → max pool → conv VALID s2 → avg pool → dropout → dense.

    The batch-norm moving averages are updated through UPDATE_OPS, grouped into the train op as
    TF1 scripts do; dropout has an op seed, so TF's Philox stream is part of the reference.
    """
    t = tf1()
    x = t.placeholder(t.float32, [BATCH, SIZE, SIZE, CHANNELS], name="images")
    y = t.placeholder(t.int32, [BATCH], name="labels")
    # Keras' default initializers draw their seeds per process; the v1 one takes the graph seed.
    init = {"kernel_initializer": t.glorot_uniform_initializer()}
    with t.variable_scope("net", use_resource=resource):
        h = t.layers.conv2d(x, 6, 3, padding="same", name="conv1", **init)
        h = t.layers.batch_normalization(h, training=True, fused=fused, name="bn1")
        h = t.nn.relu(h)
        h = t.layers.max_pooling2d(h, 2, 2, padding="same", name="pool1")
        h = t.layers.conv2d(h, 8, 2, strides=2, padding="valid", activation=t.nn.relu,
                            name="conv2", **init)
        h = t.layers.average_pooling2d(h, 2, 1, padding="valid", name="pool2")
        h = t.layers.flatten(h)
        h = t.nn.dropout(h, rate=0.25, seed=5)
        logits = t.layers.dense(h, CLASSES, name="logits", **init)
    loss = t.identity(t.losses.sparse_softmax_cross_entropy(y, logits), name="loss")
    step = global_step(t, resource)
    minimize = t.train.MomentumOptimizer(0.05, 0.9).minimize(loss, global_step=step)
    with t.control_dependencies([minimize]):
        train_op = t.group(*t.get_collection(t.GraphKeys.UPDATE_OPS), name="train")
    # minimize() registered its own op; the grouped one (with the BN updates) must come first
    t.get_collection_ref(t.GraphKeys.TRAIN_OP)[:] = [train_op]
    return ModelSpec(description, loss, train_op, {x: _images, y: _labels},
                     variable_kind="resource" if resource else "ref", warmup=2,
                     tolerance={"rtol": 1e-4, "atol": 1e-5})


def cnn() -> ModelSpec:
    return _convnet(True, False, "CNN: conv2d SAME s1 + VALID s2, max/avg pool, bias add, fused batch "
                    "norm (training), seeded dropout, dense, sparse softmax CE, Momentum, ref variables")


def bn_unfused() -> ModelSpec:
    return _convnet(False, True, "the CNN with batch_normalization(fused=False) (moments/rsqrt "
                    "graph), resource variables")


MODELS: dict[str, Callable[[], ModelSpec]] = {"cnn": cnn, "bn_unfused": bn_unfused}


def build(out_dir: pathlib.Path, only: set[str] | None = None) -> None:
    for name, builder in MODELS.items():
        if only is None or name in only:
            make_model(out_dir, name, builder)
