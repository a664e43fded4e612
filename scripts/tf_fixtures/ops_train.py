"""Op table for the optimizer kernels (orchestrator/ops/training_ops.py), made with real TF.

Run with the TensorFlow venv:
    TF_ENABLE_ONEDNN_OPTS=0 /work/tfvenv/bin/python scripts/tf_fixtures/ops_train.py

Writes tests/fixtures/ops/train.{json,npz}. Every case runs one ``ResourceApply*`` or
``ResourceSparseApply*`` op eagerly on resource variables. TF's ref (``Apply*``) and
resource kernels are one C++ class, so the tests run each case through both of ours.
Case layout (``state`` field): inputs are the variables' initial values (var first, then
the slots, in the op's order) followed by the op's other inputs in order; outputs are
the variables' values after the op.
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

# name: (variable slots, dense inputs or None, sparse inputs or None, dtypes)
F = ("float32", "float64")
FH = ("float32", "float64", "float16")
OPTIMIZERS = {
    "GradientDescent": (("var",), ("alpha", "delta"), None, FH),
    "ProximalGradientDescent": (("var",), ("alpha", "l1", "l2", "delta"),
                                ("alpha", "l1", "l2", "grad", "indices"), F),
    "Adadelta": (("var", "accum", "accum_update"), ("lr", "rho", "epsilon", "grad"),
                 ("lr", "rho", "epsilon", "grad", "indices"), F),
    "Adagrad": (("var", "accum"), ("lr", "grad"), ("lr", "grad", "indices"), FH),
    "AdagradV2": (("var", "accum"), ("lr", "epsilon", "grad"), ("lr", "epsilon", "grad", "indices"), F),
    "ProximalAdagrad": (("var", "accum"), ("lr", "l1", "l2", "grad"),
                        ("lr", "l1", "l2", "grad", "indices"), F),
    "AdagradDA": (("var", "gradient_accumulator", "gradient_squared_accumulator"),
                  ("grad", "lr", "l1", "l2", "global_step"),
                  ("grad", "indices", "lr", "l1", "l2", "global_step"), F),
    "Ftrl": (("var", "accum", "linear"), ("grad", "lr", "l1", "l2", "lr_power"),
             ("grad", "indices", "lr", "l1", "l2", "lr_power"), F),
    "FtrlV2": (("var", "accum", "linear"), ("grad", "lr", "l1", "l2", "l2_shrinkage", "lr_power"),
               ("grad", "indices", "lr", "l1", "l2", "l2_shrinkage", "lr_power"), F),
    "Momentum": (("var", "accum"), ("lr", "grad", "momentum"), ("lr", "grad", "indices", "momentum"), FH),
    "KerasMomentum": (("var", "accum"), ("lr", "grad", "momentum"),
                      ("lr", "grad", "indices", "momentum"), F),
    "Adam": (("var", "m", "v"), ("beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon", "grad"),
             None, FH),
    "AdamWithAmsgrad": (("var", "m", "v", "vhat"),
                        ("beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon", "grad"), None, F),
    "AdaMax": (("var", "m", "v"), ("beta1_power", "lr", "beta1", "beta2", "epsilon", "grad"), None, F),
    "RMSProp": (("var", "ms", "mom"), ("lr", "rho", "momentum", "epsilon", "grad"),
                ("lr", "rho", "momentum", "epsilon", "grad", "indices"), FH),
    "CenteredRMSProp": (("var", "mg", "ms", "mom"), ("lr", "rho", "momentum", "epsilon", "grad"),
                        ("lr", "rho", "momentum", "epsilon", "grad", "indices"), F),
}
ATTR_VARIANTS = {
    "Momentum": [{"use_nesterov": False}, {"use_nesterov": True}],
    "KerasMomentum": [{"use_nesterov": False}, {"use_nesterov": True}],
    "Adam": [{"use_nesterov": False}, {"use_nesterov": True}],
    "Adagrad": [{"update_slots": True}, {"update_slots": False}],
    "Ftrl": [{"multiply_linear_by_lr": False}, {"multiply_linear_by_lr": True}],
    "FtrlV2": [{"multiply_linear_by_lr": False}, {"multiply_linear_by_lr": True}],
}
SCALARS = {"alpha": 0.1, "lr": 0.1, "l1": 0.05, "l2": 0.1, "rho": 0.9, "epsilon": 1e-3,
           "momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "beta1_power": 0.9 ** 3,
           "beta2_power": 0.999 ** 3, "lr_power": -0.5, "l2_shrinkage": 0.02}
POSITIVE_SLOTS = {"accum", "accum_update", "gradient_squared_accumulator", "v", "vhat", "ms"}
# Scalar-input variants that take other branches of TF's kernels.
SCALAR_VARIANTS = {
    "ProximalGradientDescent": [{}, {"l1": 0.0}],
    "ProximalAdagrad": [{}, {"l1": 0.0}],
    "AdagradDA": [{}, {"l1": 0.0}],
    "Ftrl": [{}, {"lr_power": -0.3}],
    "FtrlV2": [{}, {"lr_power": -0.3}],
}


def _slot_init(rng, slot: str, shape, dtype) -> np.ndarray:
    if slot in POSITIVE_SLOTS:
        return rng.uniform(0.1, 1.0, shape).astype(dtype)
    if slot == "mg":
        return (rng.standard_normal(shape) * 0.05).astype(dtype)
    if slot == "linear":
        return (rng.standard_normal(shape) * 0.2).astype(dtype)
    if slot == "gradient_accumulator":
        return (rng.standard_normal(shape) * 0.3).astype(dtype)
    scale = 1.0 if slot == "var" else 0.1
    return (rng.standard_normal(shape) * scale).astype(dtype)


def _run(table, case_id, op, slots, names, dtype, shape, indices, scalars, attrs, rng) -> None:
    import tensorflow as tf
    inits = [_slot_init(rng, s, shape, dtype) for s in slots]
    variables = [tf.Variable(v) for v in inits]
    args, values = {}, []
    for name in names:
        if name in ("grad", "delta"):
            gshape = shape if indices is None else (len(indices),) + shape[1:]
            value = rng.standard_normal(gshape).astype(dtype)
        elif name == "indices":
            value = indices
        elif name == "global_step":
            value = np.int64(5)
        else:
            value = np.array(scalars[name], dtype=dtype)
        args[name] = value
        values.append(value)
    getattr(tf.raw_ops, op)(**dict(zip(slots, (v.handle for v in variables))), **args, **attrs)
    table.add(case_id, op, attrs, inits + values, [v.numpy() for v in variables],
              state={"variables": len(slots), "op_outputs": 0})


def build(out_dir: Path = OUT, only: set[str] | None = None) -> None:
    from ops_state import OpTable   # noqa: PLC0415 (sibling script)
    rng = np.random.default_rng(11)
    table = OpTable("train", only)
    sparse_layouts = {
        "rows": ((6, 4), np.array([4, 1, 0], np.int32)),
        "dup_rows": ((6, 4), np.array([4, 1, 4, 0, 4], np.int64)),
        "vector_dup": ((7,), np.array([2, 5, 2, 0], np.int32)),
        "col": ((5, 1), np.array([3, 0], np.int64)),
    }
    for name, (slots, dense, sparse, dtypes) in OPTIMIZERS.items():
        for attrs in ATTR_VARIANTS.get(name, [{}]):
            for k, overrides in enumerate(SCALAR_VARIANTS.get(name, [{}])):
                scalars = {**SCALARS, **overrides}
                tag = "_".join([f"{a}{int(v)}" for a, v in attrs.items()] + ([f"s{k}"] if k else []))
                tag = f"_{tag}" if tag else ""
                for dtype in dtypes:
                    if dense is not None and table.wants("ResourceApply" + name):
                        _run(table, f"{name}{tag}_{dtype}", "ResourceApply" + name, slots, dense,
                             dtype, (3, 4), None, scalars, attrs, rng)
                    if sparse is None or dtype == "float16" or not table.wants("ResourceSparseApply" + name):
                        continue
                    for layout, (shape, idx) in sparse_layouts.items():
                        if dtype == "float64" and layout != "dup_rows":
                            continue
                        _run(table, f"{name}{tag}_sparse_{layout}_{dtype}", "ResourceSparseApply" + name,
                             slots, sparse, dtype, shape, idx, scalars, attrs, rng)
    table.write(out_dir)


if __name__ == "__main__":
    build(OUT, set(sys.argv[1:]) or None)
