"""Model fixtures: small TF1 training graphs, one per optimizer, loss and variable kind.

Each builder runs inside a fresh default graph (with a graph-level seed already set) and
returns a :class:`common.ModelSpec`. ``build`` makes ``<out>/models/<name>/`` for each selected
model; the larger families (CNN, embeddings, RNNs, distributed) live in ``models_*.py``.
"""
from __future__ import annotations

import pathlib
from typing import Callable

import numpy as np

from common import ModelSpec, global_step, make_model, mlp, tf1

BATCH, FEATURES, CLASSES = 8, 6, 4


def _x(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((BATCH, FEATURES)).astype(np.float32)


def _onehot(rng: np.random.Generator) -> np.ndarray:
    return np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, BATCH)]


def _labels(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, CLASSES, BATCH).astype(np.int64)


def _targets(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((BATCH, 2)).astype(np.float32)


def _bits(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 2, (BATCH, 3)).astype(np.float32)


def _classifier(optimizer, resource: bool, description: str, warmup: int = 3,
                tolerance: dict | None = None) -> ModelSpec:
    """MLP 6-10-4, softmax cross entropy on one-hot labels, the given optimizer."""
    t = tf1()
    x = t.placeholder(t.float32, [BATCH, FEATURES], name="x")
    y = t.placeholder(t.float32, [BATCH, CLASSES], name="y")
    logits = mlp(t, x, [10, CLASSES], resource)
    ce = t.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits)
    loss = t.reduce_mean(ce, name="loss")
    step = global_step(t, resource)
    train_op = optimizer(t).minimize(loss, global_step=step)
    spec = ModelSpec(description, loss, train_op, {x: _x, y: _onehot},
                     variable_kind="resource" if resource else "ref", warmup=warmup)
    if tolerance:
        spec.tolerance = tolerance
    return spec


def mlp_sgd() -> ModelSpec:
    spec = _classifier(lambda t: t.train.GradientDescentOptimizer(0.1), False,
                       "dense+relu MLP, softmax CE, GradientDescent, ref variables", warmup=0)
    return spec


def _optimizer_models() -> dict[str, Callable[[], ModelSpec]]:
    """One MLP per optimizer; ref and resource variables alternate."""
    table = {
        "sgd_resource": (lambda t: t.train.GradientDescentOptimizer(0.1), True),
        "momentum": (lambda t: t.train.MomentumOptimizer(0.05, 0.9), False),
        "momentum_resource": (lambda t: t.train.MomentumOptimizer(0.05, 0.9), True),
        "momentum_nesterov": (lambda t: t.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True), True),
        "adam": (lambda t: t.train.AdamOptimizer(0.01), False),
        "adam_resource": (lambda t: t.train.AdamOptimizer(0.01), True),
        "adagrad": (lambda t: t.train.AdagradOptimizer(0.1), True),
        "rmsprop": (lambda t: t.train.RMSPropOptimizer(0.01, momentum=0.5), False),
        "rmsprop_centered": (lambda t: t.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True), True),
        "adadelta": (lambda t: t.train.AdadeltaOptimizer(1.0, rho=0.9, epsilon=1e-6), False),
        "ftrl": (lambda t: t.train.FtrlOptimizer(0.1, l1_regularization_strength=0.01,
                                                 l2_regularization_strength=0.01), True),
        "proximal_gd": (lambda t: t.train.ProximalGradientDescentOptimizer(
            0.1, l1_regularization_strength=0.001, l2_regularization_strength=0.01), False),
        "proximal_adagrad": (lambda t: t.train.ProximalAdagradOptimizer(
            0.1, l1_regularization_strength=0.001, l2_regularization_strength=0.01), True),
    }
    models = {}
    for name, (opt, resource) in table.items():
        kind = "resource" if resource else "ref"
        desc = f"dense+relu MLP, softmax CE, {name} optimizer, {kind} variables, 3 warm-up steps"
        models[name] = (lambda opt=opt, resource=resource, desc=desc:
                        _classifier(opt, resource, desc))
    return models


def mse_adam() -> ModelSpec:
    t = tf1()
    x = t.placeholder(t.float32, [BATCH, FEATURES], name="x")
    y = t.placeholder(t.float32, [BATCH, 2], name="y")
    pred = mlp(t, x, [8, 2], resource=False, name="reg")
    loss = t.identity(t.losses.mean_squared_error(y, pred), name="loss")
    step = global_step(t, False)
    train_op = t.train.AdamOptimizer(0.01).minimize(loss, global_step=step)
    return ModelSpec("regression MLP, tf.losses.mean_squared_error, Adam, ref variables", loss,
                     train_op, {x: _x, y: _targets}, warmup=2)


def sigmoid_ce_momentum() -> ModelSpec:
    t = tf1()
    x = t.placeholder(t.float32, [BATCH, FEATURES], name="x")
    y = t.placeholder(t.float32, [BATCH, 3], name="y")
    logits = mlp(t, x, [8, 3], resource=True, activation=None, name="multi")
    ce = t.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits)
    loss = t.reduce_mean(ce, name="loss")
    step = global_step(t, True)
    train_op = t.train.MomentumOptimizer(0.1, 0.9).minimize(loss, global_step=step)
    return ModelSpec("multi-label MLP, sigmoid CE, Momentum, resource variables", loss, train_op,
                     {x: _x, y: _bits}, variable_kind="resource", warmup=2)


def sparse_ce_l2() -> ModelSpec:
    """Sparse softmax CE + L2 regularisation; resource variables, because with ref variables
    ``L2Loss`` may read a kernel after its in-place update (a TF scheduling race)."""
    t = tf1()
    x = t.placeholder(t.float32, [BATCH, FEATURES], name="x")
    y = t.placeholder(t.int64, [BATCH], name="y")
    logits = mlp(t, x, [10, CLASSES], resource=True, name="clf")
    ce = t.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    kernels = [v for v in t.trainable_variables() if v.op.name.endswith("kernel")]
    l2 = t.add_n([t.nn.l2_loss(k) for k in kernels])
    loss = t.add(t.reduce_mean(ce), 1e-3 * l2, name="loss")
    step = global_step(t, True)
    train_op = t.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    return ModelSpec("MLP, sparse softmax CE + tf.nn.l2_loss regularisation, GradientDescent, "
                     "resource variables", loss, train_op, {x: _x, y: _labels},
                     variable_kind="resource")


MODELS: dict[str, Callable[[], ModelSpec]] = {
    "mlp_sgd": mlp_sgd,
    **_optimizer_models(),
    "mse_adam": mse_adam,
    "sigmoid_ce_momentum": sigmoid_ce_momentum,
    "sparse_ce_l2": sparse_ce_l2,
}


def build(out_dir: pathlib.Path, only: set[str] | None = None) -> None:
    for name, builder in MODELS.items():
        if only is None or name in only:
            make_model(out_dir, name, builder)
