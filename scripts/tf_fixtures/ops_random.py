"""Op table for the Philox-exact random kernels (orchestrator/ops/random_ops.py), from real TF.

Run with the TensorFlow venv:
    TF_ENABLE_ONEDNN_OPTS=0 /work/tfvenv/bin/python scripts/tf_fixtures/ops_random.py

Writes tests/fixtures/ops/random.{json,npz}. Stateful cases (``runs`` field) build the op
once in a TF1 graph and run it ``runs`` times in one session: output k is the k-th run,
so the per-run counter advance is checked too. Every value must match exactly.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "ops"
RUNS = 3


def _stateful(table, case_id: str, op: str, shape: list, attrs: dict, extra: list | None = None) -> None:
    import tensorflow as tf
    graph = tf.Graph()
    with graph.as_default():
        shape_t = tf.constant(np.array(shape, np.int32))
        extra_t = dict(zip(("minval", "maxval"), (tf.constant(x) for x in (extra or []))))
        out = getattr(tf.raw_ops, op)(shape=shape_t, **extra_t, **attrs)
        with tf.compat.v1.Session(graph=graph) as sess:
            results = [sess.run(out) for _ in range(RUNS)]
    if extra:   # TF infers Tout from minval; the node carries it
        attrs = {**attrs, "Tout": tf.as_dtype(extra[0].dtype)}
    table.add(case_id, op, attrs, [np.array(shape, np.int32), *(extra or [])], results,
              rtol=0.0, atol=0.0, runs=RUNS)


def _stateless(table, case_id: str, op: str, shape: list, key: int, counter: list, attrs: dict,
               extra: list | None = None) -> None:
    import tensorflow as tf
    args = [np.array(shape, np.int32), np.array([key], np.uint64), np.array(counter, np.uint64),
            np.int32(1), *(extra or [])]
    names = ("shape", "key", "counter", "alg", "minval", "maxval")
    inferred = op.endswith("IntV2")   # TF infers `dtype` from minval there; the node still has it
    out = getattr(tf.raw_ops, op)(**{n: tf.constant(a) for n, a in zip(names, args)},
                                  **({} if inferred else attrs))
    table.add(case_id, op, attrs, args, [out.numpy()], rtol=0.0, atol=0.0)


def build(out_dir: Path = OUT, only: set[str] | None = None) -> None:
    import tensorflow as tf
    from ops_state import OpTable   # noqa: PLC0415 (sibling script)
    t = OpTable("random", only)
    seeds = [(1, 2), (87654321, 0), (0, 5), (2 ** 40 + 3, 2 ** 35 + 11), (-7, 123)]
    shapes = [[3, 5], [1031], [2, 2, 2]]
    dtypes = [tf.float32, tf.float64, tf.float16, tf.bfloat16]
    for op in ("RandomUniform", "RandomStandardNormal", "TruncatedNormal"):
        if not t.wants(op):
            continue
        for i, (seed, seed2) in enumerate(seeds):
            for j, dtype in enumerate(dtypes):
                shape = shapes[(i + j) % len(shapes)]
                _stateful(t, f"{op}_s{i}_{dtype.name}", op, shape,
                          {"dtype": dtype, "seed": seed, "seed2": seed2})
        _stateful(t, f"{op}_empty", op, [0, 4], {"dtype": tf.float32, "seed": 3, "seed2": 4})
        _stateful(t, f"{op}_scalar", op, [], {"dtype": tf.float32, "seed": 3, "seed2": 4})
    _stateful(t, "TruncatedNormal_large", "TruncatedNormal", [4099],
              {"dtype": tf.float32, "seed": 99, "seed2": 1})
    if t.wants("RandomUniformInt"):
        bounds = [(np.int32(-5), np.int32(7)), (np.int32(-2 ** 31), np.int32(2 ** 31 - 1)),
                  (np.int64(-10), np.int64(2 ** 40)), (np.int64(-2 ** 63), np.int64(2 ** 63 - 1))]
        for i, (lo, hi) in enumerate(bounds):
            seed, seed2 = seeds[i]
            _stateful(t, f"RandomUniformInt_{i}_{lo.dtype}", "RandomUniformInt", shapes[i % 3],
                      {"seed": seed, "seed2": seed2}, [lo, hi])
    if t.wants("RandomShuffle"):
        graph = tf.Graph()
        with graph.as_default():
            for k, (value, (seed, seed2)) in enumerate([(np.arange(10, dtype=np.int32), (4, 9)),
                                                        (np.arange(26, dtype=np.float32).reshape(13, 2), (5, 0)),
                                                        (np.array([b"a", b"b", b"c"]), (1, 1))]):
                out = tf.raw_ops.RandomShuffle(value=tf.constant(value), seed=seed, seed2=seed2)
                with tf.compat.v1.Session(graph=graph) as sess:
                    results = [sess.run(out) for _ in range(RUNS)]
                t.add(f"RandomShuffle_{k}", "RandomShuffle", {"seed": seed, "seed2": seed2}, [value], results,
                      rtol=0.0, atol=0.0, runs=RUNS)
    stateless = [("StatelessRandomUniformV2", tf.float32), ("StatelessRandomUniformV2", tf.float64),
                 ("StatelessRandomNormalV2", tf.float32), ("StatelessRandomNormalV2", tf.float64),
                 ("StatelessTruncatedNormalV2", tf.float32), ("StatelessTruncatedNormalV2", tf.float16)]
    counters = [[0, 0], [2 ** 64 - 2, 7]]    # the second carries into the high half
    for op, dtype in stateless:
        if not t.wants(op):
            continue
        for k, counter in enumerate(counters):
            _stateless(t, f"{op}_{dtype.name}_c{k}", op, [5, 3], 0x1234567890AB, counter,
                       {"dtype": dtype})
    if t.wants("StatelessRandomUniformIntV2"):
        _stateless(t, "StatelessRandomUniformIntV2_i32", "StatelessRandomUniformIntV2", [7], 42, [3, 1],
                   {"dtype": tf.int32}, [np.int32(-3), np.int32(100)])
        _stateless(t, "StatelessRandomUniformIntV2_i64", "StatelessRandomUniformIntV2", [7], 42, [3, 1],
                   {"dtype": tf.int64}, [np.int64(-3), np.int64(2 ** 50)])
    t.write(out_dir)


if __name__ == "__main__":
    build(OUT, set(sys.argv[1:]) or None)
