"""Embedding model fixtures: embedding_lookup gives IndexedSlices gradients, so the optimizers
take their sparse paths (ScatterSub / SparseApplyAdagrad / Adam's scatter updates), with
duplicate ids in every batch; one model holds a partitioned variable (uneven 4/3/3 rows)."""
from __future__ import annotations

import pathlib
from typing import Callable

import numpy as np

from common import ModelSpec, global_step, make_model, mlp, tf1

BATCH, IDS, VOCAB, DIM, CLASSES = 8, 3, 10, 4, 3


def _ids(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, VOCAB, (BATCH, IDS)).astype(np.int64)


def _labels(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, CLASSES, BATCH).astype(np.int32)


def _embedding_model(optimizer, resource: bool, partitions: int, description: str) -> ModelSpec:
    """ids → mean of embedding rows → dense → sparse softmax CE."""
    t = tf1()
    ids = t.placeholder(t.int64, [BATCH, IDS], name="ids")
    y = t.placeholder(t.int32, [BATCH], name="labels")
    partitioner = t.fixed_size_partitioner(partitions) if partitions > 1 else None
    with t.variable_scope("embed", use_resource=resource, partitioner=partitioner):
        table = t.get_variable("table", [VOCAB, DIM],
                               initializer=t.random_normal_initializer(stddev=0.5))
    strategy = {"partition_strategy": "div"} if partitions > 1 else {}
    rows = t.nn.embedding_lookup(table, ids, **strategy)
    logits = mlp(t, t.reduce_mean(rows, axis=1), [CLASSES], resource, name="head")
    ce = t.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = t.reduce_mean(ce, name="loss")
    step = global_step(t, resource)
    train_op = optimizer(t).minimize(loss, global_step=step)
    return ModelSpec(description, loss, train_op, {ids: _ids, y: _labels},
                     variable_kind="resource" if resource else "ref", warmup=2,
                     tolerance={"rtol": 1e-4, "atol": 1e-6})


MODELS: dict[str, Callable[[], ModelSpec]] = {
    "embedding_sgd": lambda: _embedding_model(
        lambda t: t.train.GradientDescentOptimizer(0.5), False, 1,
        "embedding_lookup (duplicate ids) + dense, GradientDescent: sparse update by ScatterSub, "
        "ref variables"),
    "embedding_sgd_resource": lambda: _embedding_model(
        lambda t: t.train.GradientDescentOptimizer(0.5), True, 1,
        "embedding_lookup + dense, GradientDescent: ResourceGather / ResourceScatterAdd, "
        "resource variables"),
    "embedding_adagrad": lambda: _embedding_model(
        lambda t: t.train.AdagradOptimizer(0.3), True, 1,
        "embedding_lookup + dense, Adagrad: ResourceSparseApplyAdagrad (after Unique + UnsortedSegmentSum), resource variables"),
    "embedding_adam": lambda: _embedding_model(
        lambda t: t.train.AdamOptimizer(0.05), False, 1,
        "embedding_lookup + dense, Adam's sparse path (Unique/UnsortedSegmentSum, scatter_add "
        "into m and v), ref variables"),
    "embedding_partitioned": lambda: _embedding_model(
        lambda t: t.train.AdagradOptimizer(0.3), False, 3,
        "embedding table in 3 uneven partitions (fixed_size_partitioner: rows 4/3/3, "
        "partition_strategy div), Adagrad SparseApplyAdagrad per partition, ref variables"),
}


def build(out_dir: pathlib.Path, only: set[str] | None = None) -> None:
    for name, builder in MODELS.items():
        if only is None or name in only:
            make_model(out_dir, name, builder)
