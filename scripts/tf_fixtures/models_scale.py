"""Models at the sizes users resume, for ``scripts/bench_scale.py`` (never committed).

Same layout as the model fixtures (``common.make_model``: manifest.json, model.meta, ckpt/,
reference.npz with the 20 recorded feeds and TF's losses), but sized like real runs:

- ``embedding_large`` / ``embedding_large_sgd``: a 1,000,000 x 64 float32 resource table
  (256 MB), 512 examples x 8 ids drawn from a power law (a hot head of rows, so every batch
  has duplicate ids), mean-pooled, a dense head, sparse softmax CE; Adagrad
  (Unique + UnsortedSegmentSum + ResourceSparseApplyAdagrad) and GradientDescent
  (ResourceScatterAdd).
- ``mlp_wide``: 3 dense relu layers of 2048 units on 1024 features, batch 256, Adam,
  resource variables.
- ``cnn_real``: three conv 3x3 + fused batch norm (training) + relu blocks with max pooling
  on 64x64x3 images, global average pooling, dense; batch 32, Momentum, ref variables.

Run with the TF venv; every size is a flag so that a quick run is possible::

    TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=3 /work/tfvenv/bin/python \\
        scripts/tf_fixtures/models_scale.py --out /tmp/scale [--quick] [--only mlp_wide] [--vocab N ...]

This module imports TF only inside the builders (``common.tf1``), so the size flags can be
shared with the benchmark, which runs without TF.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import pathlib
import sys
import tempfile
from typing import Callable

import numpy as np

from common import ModelSpec, global_step, make_model, mlp, tf1


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Every size the models depend on; the defaults are the realistic ones."""

    vocab: int = 1_000_000
    dim: int = 64
    embed_batch: int = 512
    ids: int = 8
    embed_hidden: int = 256
    classes: int = 10
    mlp_batch: int = 256
    mlp_features: int = 1024
    mlp_units: int = 2048
    mlp_layers: int = 3
    cnn_batch: int = 32
    image_size: int = 64
    cnn_filters: int = 32


# Small enough that generating and timing all four models takes about a minute.
QUICK = Sizes(vocab=20_000, dim=16, embed_batch=64, ids=4, embed_hidden=32, mlp_batch=32,
              mlp_features=64, mlp_units=128, cnn_batch=4, image_size=16, cnn_filters=8)


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per ``Sizes`` field (default: the realistic size) plus ``--quick``."""
    parser.add_argument("--quick", action="store_true",
                        help="start from the quick sizes instead of the realistic ones")
    for field in dataclasses.fields(Sizes):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=int, default=None,
                            metavar="N", help=f"(default {field.default:,}; quick {getattr(QUICK, field.name):,})")


def sizes_from_args(args: argparse.Namespace) -> Sizes:
    base = QUICK if args.quick else Sizes()
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Sizes) if getattr(args, f.name) is not None}
    bad = {name: value for name, value in given.items() if value < 1}
    if bad:
        raise SystemExit(f"sizes must be positive integers; got {bad}")
    return dataclasses.replace(base, **given)


def size_flags(sizes: Sizes) -> list[str]:
    """The command-line flags that reproduce ``sizes`` exactly."""
    return [arg for f in dataclasses.fields(Sizes)
            for arg in (f"--{f.name.replace('_', '-')}", str(getattr(sizes, f.name)))]


def _power_law_ids(sizes: Sizes) -> Callable[[np.random.Generator], np.ndarray]:
    """Ids with a hot head, as real vocabularies have: id = vocab * u**4 puts ~18 % of the ids of a
    1M vocabulary in its first 1000 rows, so every batch repeats some rows (Unique matters)."""
    def make(rng: np.random.Generator) -> np.ndarray:
        u = rng.random((sizes.embed_batch, sizes.ids))
        return np.minimum((sizes.vocab * u ** 4).astype(np.int64), sizes.vocab - 1)
    return make


def _class_labels(batch: int, classes: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.integers(0, classes, batch).astype(np.int32)


def _embedding_large(sizes: Sizes, optimizer, description: str) -> ModelSpec:
    """ids → mean of the looked-up rows → dense relu → logits → sparse softmax CE."""
    t = tf1()
    ids = t.placeholder(t.int64, [sizes.embed_batch, sizes.ids], name="ids")
    y = t.placeholder(t.int32, [sizes.embed_batch], name="labels")
    with t.variable_scope("embed", use_resource=True):
        table = t.get_variable("table", [sizes.vocab, sizes.dim],
                               initializer=t.random_normal_initializer(stddev=0.1))
    pooled = t.reduce_mean(t.nn.embedding_lookup(table, ids), axis=1)
    logits = mlp(t, pooled, [sizes.embed_hidden, sizes.classes], True, name="head")
    ce = t.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = t.reduce_mean(ce, name="loss")
    train_op = optimizer(t).minimize(loss, global_step=global_step(t, True))
    feeds = {ids: _power_law_ids(sizes), y: _class_labels(sizes.embed_batch, sizes.classes)}
    return ModelSpec(description, loss, train_op, feeds, variable_kind="resource", warmup=1,
                     extra={"sizes": dataclasses.asdict(sizes)})


def _mlp_wide(sizes: Sizes) -> ModelSpec:
    t = tf1()
    x = t.placeholder(t.float32, [sizes.mlp_batch, sizes.mlp_features], name="x")
    y = t.placeholder(t.int32, [sizes.mlp_batch], name="labels")
    hidden = [sizes.mlp_units] * sizes.mlp_layers
    logits = mlp(t, x, hidden + [sizes.classes], True)
    ce = t.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = t.reduce_mean(ce, name="loss")
    train_op = t.train.AdamOptimizer(1e-3).minimize(loss, global_step=global_step(t, True))

    def features(rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal((sizes.mlp_batch, sizes.mlp_features), dtype=np.float32)

    return ModelSpec(f"{sizes.mlp_layers} dense relu layers of {sizes.mlp_units} units on "
                     f"{sizes.mlp_features} features, batch {sizes.mlp_batch}, sparse softmax CE, Adam, "
                     "resource variables", loss, train_op,
                     {x: features, y: _class_labels(sizes.mlp_batch, sizes.classes)},
                     variable_kind="resource", warmup=1, extra={"sizes": dataclasses.asdict(sizes)})


def _cnn_real(sizes: Sizes) -> ModelSpec:
    """3 x (conv 3x3 SAME → fused BN (training) → relu), max pool 2x2 after the first two,
    global average pool, dense; BN moving averages updated through UPDATE_OPS as TF1 scripts do."""
    t = tf1()
    shape = [sizes.cnn_batch, sizes.image_size, sizes.image_size, 3]
    x = t.placeholder(t.float32, shape, name="images")
    y = t.placeholder(t.int32, [sizes.cnn_batch], name="labels")
    init = {"kernel_initializer": t.glorot_uniform_initializer()}   # graph-seeded, unlike Keras'
    h = x
    with t.variable_scope("net", use_resource=False):   # TF2's get_variable default is resource
        for block in range(3):
            h = t.layers.conv2d(h, sizes.cnn_filters * 2 ** block, 3, padding="same", use_bias=False,
                                name=f"conv{block}", **init)
            h = t.nn.relu(t.layers.batch_normalization(h, training=True, fused=True, name=f"bn{block}"))
            if block < 2:
                h = t.layers.max_pooling2d(h, 2, 2, padding="same", name=f"pool{block}")
        h = t.reduce_mean(h, axis=[1, 2])
        logits = t.layers.dense(h, sizes.classes, name="logits", **init)
    loss = t.identity(t.losses.sparse_softmax_cross_entropy(y, logits), name="loss")
    minimize = t.train.MomentumOptimizer(0.05, 0.9).minimize(loss, global_step=global_step(t, False))
    with t.control_dependencies([minimize]):
        train_op = t.group(*t.get_collection(t.GraphKeys.UPDATE_OPS), name="train")
    t.get_collection_ref(t.GraphKeys.TRAIN_OP)[:] = [train_op]

    def images(rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    return ModelSpec(f"3 x (conv 3x3 + fused batch norm + relu), max pools, global average pool, dense on "
                     f"{sizes.image_size}x{sizes.image_size}x3 images, batch {sizes.cnn_batch}, Momentum, "
                     "ref variables", loss, train_op,
                     {x: images, y: _class_labels(sizes.cnn_batch, sizes.classes)},
                     warmup=1, tolerance={"rtol": 1e-4, "atol": 1e-5},
                     extra={"sizes": dataclasses.asdict(sizes)})


def builders(sizes: Sizes) -> dict[str, Callable[[], ModelSpec]]:
    table = (f"{sizes.vocab:,} x {sizes.dim} float32 resource table, "
             f"{sizes.embed_batch} x {sizes.ids} power-law ids")
    return {
        "embedding_large": lambda: _embedding_large(
            sizes, lambda t: t.train.AdagradOptimizer(0.1),
            f"{table}, mean-pooled, dense head, Adagrad: Unique + UnsortedSegmentSum + "
            "ResourceSparseApplyAdagrad"),
        "embedding_large_sgd": lambda: _embedding_large(
            sizes, lambda t: t.train.GradientDescentOptimizer(0.5),
            f"{table}, mean-pooled, dense head, GradientDescent: ResourceScatterAdd"),
        "mlp_wide": lambda: _mlp_wide(sizes),
        "cnn_real": lambda: _cnn_real(sizes),
    }


MODEL_NAMES = tuple(builders(Sizes()))
DETERMINISTIC_REFERENCE = {"embedding_large_sgd"}   # see _deterministic_after_build


def _deterministic_after_build(builder: Callable[[], ModelSpec]) -> Callable[[], ModelSpec]:
    """Build the graph with op determinism off, then run make_model's sessions with it on.

    Observed with TF 2.21: ResourceScatterAdd on CPU with a large update batch that repeats ids
    (4096 power-law ids into a 1M x 64 table) gives different sums from run to run, as if the
    batch were applied in parallel pieces (a 256-id batch into 20k rows does not), so two
    replays of ``embedding_large_sgd`` differ. With op determinism on, runs agree. It must not
    be on while the graph is built, though: it changes what some Python
    functions emit (sparse_softmax_cross_entropy_with_logits becomes a LogSoftmax + gather
    graph), and users' graphs are built without it. The benchmark times TF with its defaults.
    """
    def build_then_deterministic() -> ModelSpec:
        from tensorflow.python.framework import config   # the only switch that also turns it off
        spec = builder()
        config.enable_op_determinism()
        return spec
    return build_then_deterministic


def build(out_dir: pathlib.Path, only: set[str] | None = None, sizes: Sizes = Sizes()) -> None:
    """Make ``out_dir/models/<name>/`` for each selected model (make_fixtures' signature)."""
    from tensorflow.python.framework import config
    for name, builder in builders(sizes).items():
        if only is None or name in only:
            config.disable_op_determinism()
            if name in DETERMINISTIC_REFERENCE:
                builder = _deterministic_after_build(builder)
            make_model(out_dir, name, builder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="root directory; models go to OUT/models/NAME (default: a new temp dir)")
    parser.add_argument("--only", nargs="+", choices=MODEL_NAMES, metavar="NAME",
                        help=f"make only these models ({', '.join(MODEL_NAMES)})")
    add_size_arguments(parser)
    args = parser.parse_args(argv)
    sizes = sizes_from_args(args)
    out = pathlib.Path(args.out) if args.out else pathlib.Path(tempfile.mkdtemp(prefix="orch-scale-"))
    # Before TF is imported (the builders import it): plain float kernels for the reference
    # losses, Keras 2 for tf.compat.v1.layers, quiet logs, no GPU.
    for key, value in {"TF_USE_LEGACY_KERAS": "1", "TF_ENABLE_ONEDNN_OPTS": "0",
                       "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}.items():
        os.environ.setdefault(key, value)
    print(f"models under {out / 'models'}: {sizes}", flush=True)
    build(out.resolve(), set(args.only) if args.only else None, sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
