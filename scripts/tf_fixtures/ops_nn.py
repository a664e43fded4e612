"""Op table for the nn kernels (orchestrator/ops/{nn,conv,pool,norm}_ops.py), made with real TF.

Run with the TensorFlow venv:
    TF_ENABLE_ONEDNN_OPTS=0 /work/tfvenv/bin/python scripts/tf_fixtures/ops_nn.py

Writes tests/fixtures/ops/nn.{json,npz}. Every case calls ``tf.raw_ops.<Op>`` eagerly on
CPU with the recorded inputs (in the op's input order) and attrs; ``outputs`` are TF's
outputs in order. A case TF rejects records no outputs and ``error`` = TF's exception class
name (``message`` keeps TF's text for reference): our kernel must reject it too.
``unspecified_outputs`` lists output slots TF leaves uninitialised (FusedBatchNorm's
reserve spaces in inference mode): their shape and dtype are checked, not their values.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ops_state import OpTable  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "ops"
FLOATS = (np.float32, np.float64, np.float16)
# Filter gradients sum one product per output position (hundreds per element here); Eigen's
# and BLAS's float32 accumulation orders differ by ~1e-6 absolute on results of size ~10.
FILTER_GRAD_ATOL = 2e-5


class Cases:
    """Runs raw ops in TF and records them into an OpTable."""

    def __init__(self, table: OpTable, seed: int = 11):
        self.table = table
        self.rng = np.random.default_rng(seed)
        self.described: set[str] = set()

    def describe(self, op: str) -> dict:
        """TF's op def of ``op`` on its first case: input names and attr defaults, so that
        tests can hold our kernel signatures to them."""
        if op in self.described:
            return {}
        self.described.add(op)
        from tensorflow.python.framework import op_def_registry
        op_def = op_def_registry.get(op)
        attrs = {}
        for attr in op_def.attr:
            attrs[attr.name] = _attr_default(attr.default_value) if attr.HasField("default_value") \
                else None
        return {"op_def": {"inputs": [a.name for a in op_def.input_arg], "attrs": attrs}}

    def normal(self, shape: tuple, dtype: Any = np.float32, scale: float = 1.0) -> np.ndarray:
        return (self.rng.standard_normal(shape) * scale).astype(dtype)

    def run(self, case_id: str, op: str, inputs: dict[str, Any], attrs: dict | None = None,
            rtol: float | None = None, atol: float | None = None, **extra: Any) -> list:
        import tensorflow as tf
        attrs = attrs or {}
        if not self.table.wants(op) and case_id not in (self.table.only or ()):
            return []
        extra = {**self.describe(op), **extra}
        inputs = {k: np.asarray(v) for k, v in inputs.items()}
        if "BackpropFilter" in op and atol is None and next(iter(inputs.values())).dtype == np.float32:
            atol = FILTER_GRAD_ATOL
        try:
            # Explicit constants: eager raw ops may otherwise convert a float64 numpy array
            # to float32 (observed for LeakyRelu once its kernel cache holds a float32 call).
            tensors = {k: tf.constant(v, dtype=tf.as_dtype(v.dtype)) for k, v in inputs.items()}
            result = getattr(tf.raw_ops, op)(**tensors, **attrs)
        except (tf.errors.OpError, ValueError) as err:
            message = getattr(err, "message", str(err))
            self.table.add(case_id, op, attrs, list(inputs.values()), [],
                           error=type(err).__name__, message=message[:400], **extra)
            return []
        outs = [o.numpy() for o in result] if isinstance(result, (list, tuple)) else [result.numpy()]
        for slot in extra.get("unspecified_outputs", ()):
            outs[slot] = np.zeros_like(outs[slot])   # uninitialised memory: keep the file stable
        self.table.add(case_id, op, attrs, list(inputs.values()), outs, rtol=rtol, atol=atol, **extra)
        return outs


def _attr_default(value: Any) -> Any:
    """An AttrValue default as JSON: type attrs by dtype name, lists as lists."""
    import tensorflow as tf
    kind = value.WhichOneof("value")
    if kind == "list":
        lst = value.list
        for field in ("s", "i", "f", "b", "type"):
            items = list(getattr(lst, field))
            if items:
                return [x.decode() if isinstance(x, bytes) else
                        tf.dtypes.as_dtype(x).name if field == "type" else x for x in items]
        return []
    if kind == "type":
        return tf.dtypes.as_dtype(value.type).name
    if kind == "s":
        return value.s.decode()
    return getattr(value, kind) if kind else None


def _tol(dtype: Any) -> dict:
    """Per-dtype tolerance: float16 results are rounded once more than ours may be."""
    return {"rtol": 2e-3, "atol": 2e-3} if np.dtype(dtype) == np.float16 else {}


# ----------------------------------------------------------------------- activations

def activations(c: Cases) -> None:
    base = np.array([-100, -20, -14.5, -3, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 3, 5.999, 6, 6.5,
                     14.5, 20, 100], np.float64)
    for dt in FLOATS:
        name = np.dtype(dt).name
        x = np.concatenate([base, c.normal((14,), np.float64, 3)]).astype(dt)
        g = c.normal(x.shape, dt)
        for op in ("Relu", "Relu6", "Elu", "Selu", "Softplus", "Softsign"):
            c.run(f"{op.lower()}_{name}", op, {"features": x}, **_tol(dt))
        c.run(f"leaky_relu_{name}", "LeakyRelu", {"features": x}, {"alpha": 0.1}, **_tol(dt))
        for op in ("ReluGrad", "Relu6Grad", "SoftplusGrad", "SoftsignGrad"):
            c.run(f"{op.lower()}_{name}", op, {"gradients": g, "features": x}, **_tol(dt))
        c.run(f"leaky_relu_grad_{name}", "LeakyReluGrad", {"gradients": g, "features": x},
              {"alpha": 0.3}, **_tol(dt))
        for fwd, grad in (("Elu", "EluGrad"), ("Selu", "SeluGrad")):
            outputs = c.run(f"{fwd.lower()}_for_grad_{name}", fwd, {"features": x}, **_tol(dt))
            if outputs:
                c.run(f"{grad.lower()}_{name}", grad, {"gradients": g, "outputs": outputs[0]},
                      **_tol(dt))
    nan = np.array([np.nan, -np.inf, np.inf, -1, 2, 7], np.float32)
    for op in ("Relu", "Relu6", "Elu", "Selu", "Softplus", "Softsign", "LeakyRelu"):
        c.run(f"{op.lower()}_nonfinite", op, {"features": nan})
    c.run("relu_leaky_alpha_above_one", "LeakyRelu", {"features": nan[3:]}, {"alpha": 2.0})
    c.run("relu_2d", "Relu", {"features": c.normal((3, 4))})
    c.run("relu_empty", "Relu", {"features": np.zeros((0, 3), np.float32)})
    c.run("relu_int32", "Relu", {"features": np.array([-3, 0, 4], np.int32)})
    c.run("relu_grad_shape_mismatch", "ReluGrad",
          {"gradients": np.ones(3, np.float32), "features": np.ones(4, np.float32)})


# ----------------------------------------------------------------------------- bias

def bias(c: Cases) -> None:
    for dt in FLOATS:
        name = np.dtype(dt).name
        c.run(f"bias_add_nhwc_{name}", "BiasAdd", {"value": c.normal((2, 3, 3, 4), dt),
                                                   "bias": c.normal((4,), dt)}, **_tol(dt))
        c.run(f"bias_add_grad_nhwc_{name}", "BiasAddGrad",
              {"out_backprop": c.normal((2, 5, 3, 4), dt)}, **_tol(dt))
    c.run("bias_add_nchw", "BiasAdd", {"value": c.normal((2, 4, 3, 3)), "bias": c.normal((4,))},
          {"data_format": "NCHW"})
    c.run("bias_add_nchw_3d", "BiasAdd", {"value": c.normal((2, 4, 3)), "bias": c.normal((4,))},
          {"data_format": "NCHW"})
    c.run("bias_add_nchw_5d", "BiasAdd", {"value": c.normal((2, 3, 2, 2, 2)), "bias": c.normal((3,))},
          {"data_format": "NCHW"})
    c.run("bias_add_nchw_2d", "BiasAdd", {"value": c.normal((2, 4)), "bias": c.normal((4,))},
          {"data_format": "NCHW"})
    c.run("bias_add_2d", "BiasAdd", {"value": c.normal((5, 3)), "bias": c.normal((3,))})
    c.run("bias_add_int32", "BiasAdd", {"value": np.arange(6, dtype=np.int32).reshape(2, 3),
                                        "bias": np.array([1, -2, 3], np.int32)})
    c.run("bias_add_v1", "BiasAddV1", {"value": c.normal((3, 2, 5)), "bias": c.normal((5,))})
    c.run("bias_add_wrong_bias", "BiasAdd", {"value": c.normal((2, 4)), "bias": c.normal((3,))})
    c.run("bias_add_rank1", "BiasAdd", {"value": c.normal((4,)), "bias": c.normal((4,))})
    c.run("bias_add_grad_nchw", "BiasAddGrad", {"out_backprop": c.normal((2, 4, 3, 3))},
          {"data_format": "NCHW"})
    c.run("bias_add_grad_nchw_3d", "BiasAddGrad", {"out_backprop": c.normal((2, 4, 3))},
          {"data_format": "NCHW"})
    c.run("bias_add_grad_2d", "BiasAddGrad", {"out_backprop": c.normal((7, 3))})
    c.run("bias_add_grad_big_f16", "BiasAddGrad",
          {"out_backprop": c.normal((64, 32, 3), np.float16)}, rtol=2e-3, atol=2e-2)
    c.run("bias_add_grad_empty", "BiasAddGrad", {"out_backprop": np.zeros((0, 3), np.float32)})


# ------------------------------------------------------------------- softmax, losses

def softmax_and_losses(c: Cases) -> None:
    for dt in FLOATS:
        name = np.dtype(dt).name
        logits = c.normal((4, 6), dt, 3)
        for op in ("Softmax", "LogSoftmax"):
            c.run(f"{op.lower()}_{name}", op, {"logits": logits}, **_tol(dt))
        labels = np.abs(c.normal((4, 6), dt))
        labels = (labels / labels.sum(-1, keepdims=True)).astype(dt)
        c.run(f"softmax_xent_{name}", "SoftmaxCrossEntropyWithLogits",
              {"features": logits, "labels": labels}, **_tol(dt))
        for ldt in (np.int32, np.int64):
            c.run(f"sparse_xent_{name}_{np.dtype(ldt).name}", "SparseSoftmaxCrossEntropyWithLogits",
                  {"features": logits, "labels": np.array([0, 5, 2, 2], ldt)}, **_tol(dt))
        c.run(f"l2_loss_{name}", "L2Loss", {"t": c.normal((40, 25), dt)},
              **({"rtol": 2e-3} if dt == np.float16 else {}))
    big = np.array([[1000, 999, -1000, 0], [-np.inf, 1, 2, 3], [5, 5, 5, 5]], np.float32)
    for op in ("Softmax", "LogSoftmax"):
        c.run(f"{op.lower()}_large_and_neg_inf", op, {"logits": big})
        c.run(f"{op.lower()}_3d", op, {"logits": c.normal((2, 3, 5), np.float32, 2)})
        c.run(f"{op.lower()}_1d", op, {"logits": c.normal((5,), np.float32, 2)})
        c.run(f"{op.lower()}_empty_batch", op, {"logits": np.zeros((0, 3), np.float32)})
        c.run(f"{op.lower()}_scalar", op, {"logits": np.float32(1)})
    logits = c.normal((4, 5), np.float32, 2)
    onehot = np.eye(5, dtype=np.float32)[[1, 0, 4, 2]]
    c.run("softmax_xent_onehot_large", "SoftmaxCrossEntropyWithLogits",
          {"features": big, "labels": np.eye(4, dtype=np.float32)[[0, 1, 3]]})
    c.run("softmax_xent_broadcast_labels", "SoftmaxCrossEntropyWithLogits",
          {"features": logits, "labels": onehot[:1]})
    c.run("softmax_xent_broadcast_features", "SoftmaxCrossEntropyWithLogits",
          {"features": logits[:1], "labels": onehot})
    c.run("softmax_xent_shape_mismatch", "SoftmaxCrossEntropyWithLogits",
          {"features": logits, "labels": onehot[:, :4]})
    c.run("softmax_xent_rank1", "SoftmaxCrossEntropyWithLogits",
          {"features": logits[0], "labels": onehot[0]})
    c.run("sparse_xent_label_too_big", "SparseSoftmaxCrossEntropyWithLogits",
          {"features": logits, "labels": np.array([0, 5, 1, 1], np.int32)})
    c.run("sparse_xent_label_negative", "SparseSoftmaxCrossEntropyWithLogits",
          {"features": logits, "labels": np.array([0, -1, 1, 1], np.int64)})
    c.run("sparse_xent_labels_wrong_shape", "SparseSoftmaxCrossEntropyWithLogits",
          {"features": logits, "labels": np.array([0, 1], np.int64)})
    c.run("sparse_xent_no_classes", "SparseSoftmaxCrossEntropyWithLogits",
          {"features": np.zeros((2, 0), np.float32), "labels": np.array([0, 0], np.int32)})
    c.run("sparse_xent_large_logits", "SparseSoftmaxCrossEntropyWithLogits",
          {"features": big, "labels": np.array([2, 0, 3], np.int32)})
    c.run("l2_loss_scalar", "L2Loss", {"t": np.float32(3)})
    c.run("l2_loss_empty", "L2Loss", {"t": np.zeros((0, 4), np.float32)})
    c.run("l2_loss_large_sum", "L2Loss", {"t": c.normal((300, 200), np.float32, 10) + 3})


# ------------------------------------------------------------------------- top k

def top_k(c: Cases) -> None:
    ties = np.array([[3, 1, 3, 2, 3, 0], [5, 5, 5, 5, 5, 5], [0, -1, 7, -1, 7, 2]], np.float32)
    c.run("top_k_ties", "TopKV2", {"input": ties, "k": np.int32(4)})
    c.run("top_k_1d", "TopKV2", {"input": c.normal((9,)), "k": np.int32(3)})
    c.run("top_k_3d_full", "TopKV2", {"input": c.normal((2, 3, 5)), "k": np.int32(5)})
    c.run("top_k_zero", "TopKV2", {"input": c.normal((3, 4)), "k": np.int32(0)})
    c.run("top_k_int32", "TopKV2", {"input": np.array([[4, -2, 9, 9, 0]], np.int32),
                                    "k": np.int32(3)})
    c.run("top_k_f64_index64", "TopKV2", {"input": c.normal((2, 6), np.float64), "k": np.int32(2)},
          {"index_type": "int64"})
    c.run("top_k_f16", "TopKV2", {"input": c.normal((2, 6), np.float16), "k": np.int64(3)})
    c.run("top_k_inf", "TopKV2", {"input": np.array([1, -np.inf, np.inf, 0], np.float32),
                                  "k": np.int32(4)})
    many_ties = c.rng.integers(0, 5, (3, 4, 50)).astype(np.float32)
    c.run("top_k_long_rows_ties", "TopKV2", {"input": many_ties, "k": np.int32(7)})
    c.run("top_k_long_rows_uint8", "TopKV2", {"input": many_ties[0].astype(np.uint8),
                                              "k": np.int32(3)})
    for reverse in (False, True):
        c.run(f"nth_element_reverse_{reverse}", "NthElement",
              {"input": many_ties[:, :, :9], "n": np.int32(4)}, {"reverse": reverse})
    c.run("nth_element_int32", "NthElement", {"input": np.array([[5, -1, 3]], np.int32),
                                              "n": np.int32(0)})
    c.run("nth_element_n_too_big", "NthElement", {"input": ties, "n": np.int32(6)})
    # sorted=False: TF picks other tied elements, in another order; only the values' multiset
    # and "each index points at its value" are a contract.
    c.run("top_k_unsorted", "TopKV2", {"input": many_ties[0], "k": np.int32(5)}, {"sorted": False},
          unordered=True)
    c.run("top_k_k_too_big", "TopKV2", {"input": c.normal((2, 3)), "k": np.int32(4)})
    c.run("top_k_k_negative", "TopKV2", {"input": c.normal((2, 3)), "k": np.int32(-1)})
    c.run("top_k_scalar", "TopKV2", {"input": np.float32(1), "k": np.int32(1)})

    preds = np.array([[0.1, 0.5, 0.5, 0.2], [1, 2, 3, 4], [4, 3, 2, 1], [1, np.nan, 3, 2],
                      [1, 2, np.inf, 0]], np.float32)
    targets = np.array([2, 0, 0, 1, 2], np.int32)
    for k in (0, 1, 2, 4):
        c.run(f"in_top_k_k{k}", "InTopKV2", {"predictions": preds, "targets": targets,
                                             "k": np.int32(k)})
    c.run("in_top_k_v1", "InTopK", {"predictions": preds, "targets": targets}, {"k": 2})
    c.run("in_top_k_int64", "InTopKV2", {"predictions": preds,
                                         "targets": np.array([1, 3, 0, 0, 1], np.int64),
                                         "k": np.int64(2)})
    c.run("in_top_k_target_out_of_range", "InTopKV2",
          {"predictions": preds, "targets": np.array([4, -1, 0, 0, 1], np.int32), "k": np.int32(2)})
    c.run("in_top_k_wrong_targets", "InTopKV2",
          {"predictions": preds, "targets": np.array([1, 2], np.int32), "k": np.int32(2)})


def bfloat16_cases(c: Cases) -> None:
    """bfloat16 through the ops a mixed-precision CPU graph uses (TF runs each natively)."""
    import ml_dtypes
    bf = ml_dtypes.bfloat16
    tol = {"rtol": 1.6e-2, "atol": 1e-2}     # 8-bit mantissa: TF rounds intermediates to it
    x = c.normal((2, 4, 4, 3), np.float32).astype(bf)
    g = c.normal((2, 4, 4, 3), np.float32).astype(bf)
    for op in ("Relu", "Relu6", "Elu", "Selu", "Softplus", "Softsign"):
        c.run(f"{op.lower()}_bfloat16", op, {"features": x}, **tol)
    c.run("leaky_relu_bfloat16", "LeakyRelu", {"features": x}, {"alpha": 0.1}, **tol)
    c.run("relu_grad_bfloat16", "ReluGrad", {"gradients": g, "features": x}, **tol)
    bias = c.normal((3,), np.float32).astype(bf)
    c.run("bias_add_bfloat16", "BiasAdd", {"value": x, "bias": bias}, **tol)
    c.run("bias_add_grad_bfloat16", "BiasAddGrad", {"out_backprop": g}, rtol=1.6e-2, atol=5e-2)
    logits = c.normal((4, 6), np.float32, 2).astype(bf)
    for op in ("Softmax", "LogSoftmax"):
        c.run(f"{op.lower()}_bfloat16", op, {"logits": logits}, **tol)
    c.run("sparse_xent_bfloat16", "SparseSoftmaxCrossEntropyWithLogits",
          {"features": logits, "labels": np.array([1, 0, 5, 2], np.int32)}, **tol)
    w = c.normal((2, 2, 3, 2), np.float32).astype(bf)
    same = {"strides": [1, 1, 1, 1], "padding": "SAME"}
    outs = c.run("conv2d_bfloat16", "Conv2D", {"input": x, "filter": w}, same, rtol=3e-2, atol=5e-2)
    if outs:
        dy = c.normal(outs[0].shape, np.float32).astype(bf)
        c.run("conv2d_backprop_input_bfloat16", "Conv2DBackpropInput",
              {"input_sizes": np.array(x.shape, np.int32), "filter": w, "out_backprop": dy}, same,
              rtol=3e-2, atol=5e-2)
        c.run("conv2d_backprop_filter_bfloat16", "Conv2DBackpropFilter",
              {"input": x, "filter_sizes": np.array(w.shape, np.int32), "out_backprop": dy}, same,
              rtol=3e-2, atol=1e-1)
    pool = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "SAME"}
    outs = c.run("max_pool_bfloat16", "MaxPool", {"input": x}, pool)
    c.run("max_pool_grad_bfloat16", "MaxPoolGrad", {"orig_input": x, "orig_output": outs[0],
                                                    "grad": outs[0]}, pool, **tol)
    outs = c.run("avg_pool_bfloat16", "AvgPool", {"value": x}, pool, **tol)
    c.run("avg_pool_grad_bfloat16", "AvgPoolGrad",
          {"orig_input_shape": np.array(x.shape, np.int32), "grad": outs[0]}, pool, **tol)
    scale, offset = np.ones(3, np.float32) * 1.5, np.full(3, 0.25, np.float32)
    stats = (np.zeros(3, np.float32), np.ones(3, np.float32))
    outs = c.run("fbn_v3_bfloat16_train", "FusedBatchNormV3",
                 {"x": x, "scale": scale, "offset": offset, "mean": stats[0], "variance": stats[1]},
                 {"is_training": True}, **tol)
    c.run("fbn_v3_grad_bfloat16_train", "FusedBatchNormGradV3",
          {"y_backprop": g, "x": x, "scale": scale, "reserve_space_1": outs[3],
           "reserve_space_2": outs[4], "reserve_space_3": outs[5]}, {"is_training": True}, **tol)


def build(out_dir: Path = OUT, only: set[str] | None = None) -> None:
    import ops_nn_3d        # conv/pool cases live next door (file size)
    import ops_nn_spatial

    table = OpTable("nn", only)
    c = Cases(table)
    activations(c)
    bias(c)
    softmax_and_losses(c)
    top_k(c)
    ops_nn_spatial.add_cases(c)
    ops_nn_3d.add_cases(c)
    bfloat16_cases(c)
    table.write(out_dir)


if __name__ == "__main__":
    build(OUT, set(sys.argv[1:]) or None)
