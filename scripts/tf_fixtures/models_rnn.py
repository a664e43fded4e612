"""Recurrent and loop model fixtures, in both of TF's control-flow encodings.

v1 (control flow v2 disabled while building): Enter/Exit/Switch/Merge/NextIteration/LoopCond
frames, TensorArrayV3 for the sequence, stack-based backprop. v2 (TF2's default): a functional
While/StatelessWhile whose cond/body (and gradient bodies) live in the function library, with
TensorList accumulators.
"""
from __future__ import annotations

import pathlib
from typing import Callable

import numpy as np

from common import ModelSpec, control_flow, global_step, make_model, mlp, tf1

BATCH, TIME, FEATURES, UNITS, CLASSES = 4, 5, 3, 5, 3


def _seq(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((BATCH, TIME, FEATURES)).astype(np.float32)


def _labels(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, CLASSES, BATCH).astype(np.int32)


def _x(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((BATCH, UNITS)).astype(np.float32)


def _y(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((BATCH, UNITS)).astype(np.float32)


def _rnn_model(cell_kind: str, flow: str, resource: bool, optimizer, description: str) -> ModelSpec:
    """dynamic_rnn over [B, T, F] → last output → dense → sparse softmax CE."""
    t = tf1()
    with control_flow(flow):
        x = t.placeholder(t.float32, [BATCH, TIME, FEATURES], name="seq")
        y = t.placeholder(t.int32, [BATCH], name="labels")
        init = t.glorot_uniform_initializer()
        with t.variable_scope("rnn_model", use_resource=resource, initializer=init):
            cell = (t.nn.rnn_cell.LSTMCell(UNITS) if cell_kind == "lstm"
                    else t.nn.rnn_cell.GRUCell(UNITS, kernel_initializer=init))
            outputs, _ = t.nn.dynamic_rnn(cell, x, dtype=t.float32)
        logits = mlp(t, outputs[:, -1, :], [CLASSES], resource, name="head")
        ce = t.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        loss = t.reduce_mean(ce, name="loss")
        step = global_step(t, resource)
        train_op = optimizer(t).minimize(loss, global_step=step)
    return ModelSpec(description, loss, train_op, {x: _seq, y: _labels},
                     variable_kind="resource" if resource else "ref", control_flow=flow,
                     warmup=2, tolerance={"rtol": 1e-4, "atol": 1e-5})


def while_v1() -> ModelSpec:
    """A plain tf.while_loop in the loss: h ← tanh(h·W + b) four times, then MSE."""
    t = tf1()
    with control_flow("v1"):
        x = t.placeholder(t.float32, [BATCH, UNITS], name="x")
        y = t.placeholder(t.float32, [BATCH, UNITS], name="y")
        with t.variable_scope("loop", use_resource=False):
            w = t.get_variable("w", [UNITS, UNITS], initializer=t.glorot_uniform_initializer())
            b = t.get_variable("b", [UNITS], initializer=t.constant_initializer(0.1))

        def body(i, h):
            return i + 1, t.tanh(t.matmul(h, w) + b)

        _, h = t.while_loop(lambda i, h: i < 4, body, (t.constant(0), x), name="recur")
        loss = t.reduce_mean(t.square(h - y), name="loss")
        step = global_step(t, False)
        train_op = t.train.GradientDescentOptimizer(0.2).minimize(loss, global_step=step)
    return ModelSpec("tf.while_loop (v1 frames) applying a shared tanh layer 4 times, MSE, "
                     "GradientDescent, ref variables", loss, train_op, {x: _x, y: _y},
                     control_flow="v1", tolerance={"rtol": 1e-4, "atol": 1e-6})


MODELS: dict[str, Callable[[], ModelSpec]] = {
    "lstm_v1": lambda: _rnn_model(
        "lstm", "v1", False, lambda t: t.train.AdamOptimizer(0.02),
        "LSTMCell dynamic_rnn with v1 control flow (TensorArrays, stack backprop), Adam, ref variables"),
    "gru_v1": lambda: _rnn_model(
        "gru", "v1", True, lambda t: t.train.GradientDescentOptimizer(0.2),
        "GRUCell dynamic_rnn with v1 control flow, GradientDescent, resource variables"),
    "lstm_v2": lambda: _rnn_model(
        "lstm", "v2", True, lambda t: t.train.AdamOptimizer(0.02),
        "LSTMCell dynamic_rnn with control flow v2 (While + TensorList, bodies in the function "
        "library), Adam, resource variables"),
    "while_v1": while_v1,
}


def build(out_dir: pathlib.Path, only: set[str] | None = None) -> None:
    for name, builder in MODELS.items():
        if only is None or name in only:
            make_model(out_dir, name, builder)
