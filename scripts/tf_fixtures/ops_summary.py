"""Op table for the summary kernels (orchestrator/ops/summary_ops.py), made with real TF.

Run with the TensorFlow venv:
    TF_ENABLE_ONEDNN_OPTS=0 /work/tfvenv/bin/python scripts/tf_fixtures/ops_summary.py

Writes tests/fixtures/ops/summary.{json,npz}. Serialized protos may end in NUL bytes,
which numpy's fixed-width bytes would strip, so every serialized ``Summary`` (each
output, and the inputs listed in a case's ``serialized_inputs``) is stored as a uint8
array of its bytes and stands for a 0-d string tensor. Outputs must match byte for byte.
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


def _blob(value) -> np.ndarray:
    return np.frombuffer(bytes(value.numpy()), dtype=np.uint8)


def build(out_dir: Path = OUT, only: set[str] | None = None) -> None:
    import tensorflow as tf
    from ops_state import OpTable   # noqa: PLC0415 (sibling script)
    rng = np.random.default_rng(5)
    t = OpTable("summary", only)

    scalars = {
        "scalar_f32": (np.array(b"loss"), np.float32(0.25)),
        "scalar_vector_f64": (np.array([b"a/b", b"c"]), np.array([1e-3, -7.5])),
        "scalar_matrix_i32": (np.array([[b"x", b"y"], [b"z", b"w"]]), np.array([[1, -2], [3, 4]], np.int32)),
        "scalar_f16": (np.array(b"lr"), np.float16(0.1)),
        "scalar_zero": (np.array(b"zero"), np.float32(0.0)),
    }
    for case_id, (tags, values) in scalars.items():
        out = tf.raw_ops.ScalarSummary(tags=tags, values=values)
        t.add(case_id, "ScalarSummary", {"T": tf.as_dtype(values.dtype)}, [tags, values], [_blob(out)])

    histograms = {
        "hist_normal_f32": rng.standard_normal((40, 25)).astype(np.float32),
        "hist_edges_f64": np.array([0.0, -0.0, 1e-12, -1e-12, 1e-13, 2.5e-12, 1e19, 3e20, -1e300, 5.0]),
        "hist_empty": np.zeros((0, 3), np.float32),
        "hist_ints": rng.integers(-1000, 1000, 300).astype(np.int64),
        "hist_constant": np.full(17, 0.5, np.float32),
        "hist_f16": rng.standard_normal(64).astype(np.float16),
    }
    for case_id, values in histograms.items():
        out = tf.raw_ops.HistogramSummary(tag=case_id, values=values)
        t.add(case_id, "HistogramSummary", {"T": tf.as_dtype(values.dtype)},
              [np.array(case_id.encode()), values], [_blob(out)])

    parts = [tf.raw_ops.ScalarSummary(tags=["s1", "s2"], values=np.float32([1, 2])),
             tf.raw_ops.HistogramSummary(tag="h", values=np.arange(5, dtype=np.float32)),
             tf.raw_ops.ScalarSummary(tags="s3", values=np.float64(-1))]
    merged = tf.raw_ops.MergeSummary(inputs=parts)
    t.add("merge_three", "MergeSummary", {"N": len(parts)}, [_blob(p) for p in parts], [_blob(merged)],
          serialized_inputs=list(range(len(parts))))
    merged = tf.raw_ops.MergeSummary(inputs=parts[2:])
    t.add("merge_one", "MergeSummary", {"N": 1}, [_blob(parts[2])], [_blob(merged)], serialized_inputs=[0])
    t.write(out_dir)


if __name__ == "__main__":
    build(OUT, set(sys.argv[1:]) or None)
