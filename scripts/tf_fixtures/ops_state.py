"""Op table for the variable kernels (orchestrator/ops/state_ops.py), made with real TF.

Run with the TensorFlow venv:
    TF_ENABLE_ONEDNN_OPTS=0 /work/tfvenv/bin/python scripts/tf_fixtures/ops_state.py

Writes tests/fixtures/ops/state.{json,npz}. Also holds ``OpTable``, the writer the other
ops_{train,random,summary}.py scripts of this family reuse.

Convention for stateful cases (documented in each case's ``"state"`` field): the first
``state.variables`` inputs are the variables' initial values (in the op's variable-slot
order); ``outputs`` are the op's own outputs (``state.op_outputs`` of them; a ref output
counts as the variable's value after the op) followed by every variable's value after
the op. Ref-variable cases were run in a TF1 graph on ``VariableV2``; resource cases in
eager mode on resource variables.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "ops"


class OpTable:
    """Collects cases and writes ``<family>.json`` + ``<family>.npz``."""

    def __init__(self, family: str, only: set[str] | None = None):
        self.family = family
        self.only = only
        self.cases: list[dict] = []
        self.arrays: dict[str, np.ndarray] = {}

    def _everything(self) -> bool:
        return self.only is None or bool({self.family, f"ops_{self.family}"} & self.only)

    def wants(self, op: str) -> bool:
        """Whether cases of ``op`` are to be (re)made: all, or ``op``/a case id named in ``only``."""
        return self._everything() or op in self.only or any(c.startswith(op) for c in self.only)

    def add(self, case_id: str, op: str, attrs: dict, inputs: list, outputs: list,
            rtol: float | None = None, atol: float | None = None, **extra: Any) -> None:
        if not (self._everything() or op in self.only or case_id in self.only):
            return
        if any(c["id"] == case_id for c in self.cases):
            raise ValueError(f"duplicate case id {case_id}")
        in_keys, out_keys = [], []
        for i, x in enumerate(inputs):
            key = f"{case_id}/in{i}"
            self.arrays[key] = _storable(x)
            in_keys.append(key)
        for i, x in enumerate(outputs):
            key = f"{case_id}/out{i}"
            self.arrays[key] = _storable(x)
            out_keys.append(key)
        case = {"id": case_id, "op": op, "attrs": _json_attrs(attrs), "inputs": in_keys,
                "outputs": out_keys}
        if rtol is not None:
            case["rtol"] = rtol
        if atol is not None:
            case["atol"] = atol
        case.update(extra)
        self.cases.append(case)

    def write(self, out_dir: Path) -> None:
        """Write the table; with a partial ``only``, replace just those cases in the existing one."""
        out_dir.mkdir(parents=True, exist_ok=True)
        json_path, npz_path = out_dir / f"{self.family}.json", out_dir / f"{self.family}.npz"
        cases, arrays = self.cases, self.arrays
        if not self._everything():
            if not cases:
                print(f"{self.family}: nothing selected, table left as it is")
                return
            if json_path.exists() and npz_path.exists():
                fresh = {c["id"] for c in cases}
                old = [c for c in json.loads(json_path.read_text()) if c["id"] not in fresh]
                with np.load(npz_path) as npz:
                    kept = {k: npz[k] for c in old for k in c["inputs"] + c["outputs"]}
                cases, arrays = old + cases, {**kept, **arrays}
        json_path.write_text(json.dumps(cases, indent=1) + "\n")
        np.savez_compressed(npz_path, **arrays)
        print(f"{self.family}: {len(cases)} cases -> {out_dir}")


def _storable(x: Any) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    arr = np.asarray(x)
    if arr.dtype == object:   # strings: fixed-width bytes store without pickle
        arr = np.array([v if isinstance(v, bytes) else str(v).encode() for v in arr.reshape(-1)],
                       dtype=bytes).reshape(arr.shape)
    return arr


def _json_attrs(attrs: dict) -> dict:
    import tensorflow as tf
    out = {}
    for k, v in attrs.items():
        if isinstance(v, tf.dtypes.DType):
            v = v.name
        elif isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out


# --------------------------------------------------------------------------- cases

def _ref_case(table: OpTable, case_id: str, op: str, init: np.ndarray, args: dict, attrs: dict,
              rtol: float | None = None) -> None:
    """Run a ref-variable op in a TF1 graph; record [init, *args] -> [op output, var after]."""
    import tensorflow as tf
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        var = v1.Variable(init, use_resource=False)
        out = getattr(tf.raw_ops, op)(ref=var._ref(), **args, **attrs)
        with v1.Session(graph=graph) as sess:
            sess.run(var.initializer)
            result = sess.run(out)
            after = sess.run(var)
    table.add(case_id, op, attrs, [init, *args.values()], [result, after], rtol=rtol,
              state={"variables": 1, "op_outputs": 1})


def _resource_case(table: OpTable, case_id: str, op: str, init: np.ndarray, args: dict,
                   attrs: dict, has_output: bool = False) -> None:
    """Run a resource-variable op eagerly; record [init, *args] -> [op output?, var after]."""
    import tensorflow as tf
    var = tf.Variable(init)
    slot = ("ref" if op.startswith("ResourceScatterNd")
            else "input" if op == "VariableShape" else "resource")
    result = getattr(tf.raw_ops, op)(**{slot: var.handle}, **args, **attrs)
    outputs = ([result.numpy()] if has_output else []) + [var.numpy()]
    table.add(case_id, op, attrs, [init, *args.values()], outputs,
              state={"variables": 1, "op_outputs": int(has_output)})


def build(out_dir: Path = OUT, only: set[str] | None = None) -> None:
    import tensorflow as tf
    rng = np.random.default_rng(7)
    t = OpTable("state", only)
    f32 = rng.standard_normal((5, 3)).astype(np.float32)
    i32 = rng.integers(-20, 20, (5, 3)).astype(np.int32)
    dup = np.array([3, 0, 3, 1], np.int32)

    _ref_case(t, "assign_f32", "Assign", f32, {"value": f32 * 2}, {})
    _ref_case(t, "assign_reshape", "Assign", f32, {"value": np.arange(4, dtype=np.float32)},
              {"validate_shape": False})
    _ref_case(t, "assign_add_i32", "AssignAdd", i32, {"value": i32 + 3}, {})
    _ref_case(t, "assign_add_f32", "AssignAdd", f32, {"value": f32 * 0.5}, {})
    _ref_case(t, "assign_sub_f32", "AssignSub", f32, {"value": f32 * 0.25}, {})
    _ref_case(t, "assign_sub_f64", "AssignSub", f32.astype(np.float64), {"value": np.ones((5, 3))}, {})

    for suffix in ("Update", "Add", "Sub", "Mul", "Div", "Max", "Min"):
        upd_f = rng.uniform(0.5, 2.0, (4, 3)).astype(np.float32)
        upd_i = rng.integers(1, 7, (4, 3)).astype(np.int32) * np.array([1, -1, 1], np.int32)
        _ref_case(t, f"scatter_{suffix.lower()}_f32_dup", "Scatter" + suffix, f32,
                  {"indices": dup, "updates": upd_f}, {})
        _ref_case(t, f"scatter_{suffix.lower()}_i32_dup", "Scatter" + suffix, i32,
                  {"indices": dup.astype(np.int64), "updates": upd_i}, {})
        _ref_case(t, f"scatter_{suffix.lower()}_scalar_update", "Scatter" + suffix, f32,
                  {"indices": np.array([4, 2], np.int32), "updates": np.float32(1.5)}, {})
        _resource_case(t, f"resource_scatter_{suffix.lower()}_f32", "ResourceScatter" + suffix, f32,
                       {"indices": dup, "updates": upd_f}, {})
        _resource_case(t, f"resource_scatter_{suffix.lower()}_i32", "ResourceScatter" + suffix, i32,
                       {"indices": dup, "updates": upd_i}, {})
    _ref_case(t, "scatter_add_2d_indices", "ScatterAdd", f32,
              {"indices": np.array([[0, 1], [1, 4]], np.int32),
               "updates": np.ones((2, 2, 3), np.float32)}, {})

    nd_idx = np.array([[0, 1], [4, 2], [0, 1]], np.int32)
    nd_upd = np.array([1.0, -2.0, 3.5], np.float32)
    row_idx = np.array([[2], [2]], np.int64)
    row_upd = np.ones((2, 3), np.float32)
    for suffix in ("Update", "Add", "Sub"):
        _ref_case(t, f"scatter_nd_{suffix.lower()}_elems", "ScatterNd" + suffix, f32,
                  {"indices": nd_idx[:2] if suffix == "Update" else nd_idx,
                   "updates": nd_upd[:2] if suffix == "Update" else nd_upd}, {})
        _ref_case(t, f"scatter_nd_{suffix.lower()}_rows", "ScatterNd" + suffix, f32,
                  {"indices": row_idx[:1] if suffix == "Update" else row_idx,
                   "updates": row_upd[:1] if suffix == "Update" else row_upd}, {})
        _resource_case(t, f"resource_scatter_nd_{suffix.lower()}", "ResourceScatterNd" + suffix, f32,
                       {"indices": nd_idx[:2] if suffix == "Update" else nd_idx,
                        "updates": nd_upd[:2] if suffix == "Update" else nd_upd}, {})

    _resource_case(t, "assign_variable_f32", "AssignVariableOp", f32, {"value": f32 + 1}, {})
    _resource_case(t, "assign_add_variable_i32", "AssignAddVariableOp", i32, {"value": i32}, {})
    _resource_case(t, "assign_sub_variable_f32", "AssignSubVariableOp", f32, {"value": f32 * 3}, {})
    _resource_case(t, "read_variable_f32", "ReadVariableOp", f32, {}, {"dtype": tf.float32},
                   has_output=True)
    _resource_case(t, "variable_shape_i32", "VariableShape", f32, {}, {"out_type": tf.int32},
                   has_output=True)
    _resource_case(t, "variable_shape_i64", "VariableShape", f32, {}, {"out_type": tf.int64},
                   has_output=True)
    _resource_case(t, "var_is_initialized", "VarIsInitializedOp", f32, {}, {}, has_output=True)
    _resource_case(t, "gather_dup", "ResourceGather", f32,
                   {"indices": np.array([[4, 0], [0, 2]], np.int32)}, {"dtype": tf.float32},
                   has_output=True)
    _resource_case(t, "gather_i64_scalar_index", "ResourceGather", i32,
                   {"indices": np.int64(3)}, {"dtype": tf.int32}, has_output=True)
    batched = rng.standard_normal((2, 4, 3)).astype(np.float32)
    _resource_case(t, "gather_batch_dims", "ResourceGather", batched,
                   {"indices": np.array([[3, 0, 0], [1, 2, 3]], np.int32)},
                   {"dtype": tf.float32, "batch_dims": 1}, has_output=True)
    _resource_case(t, "gather_nd_elems", "ResourceGatherNd", f32,
                   {"indices": np.array([[4, 2], [0, 0]], np.int32)}, {"dtype": tf.float32},
                   has_output=True)
    _resource_case(t, "gather_nd_rows", "ResourceGatherNd", f32,
                   {"indices": np.array([[1], [3]], np.int64)}, {"dtype": tf.float32},
                   has_output=True)

    graph = tf.Graph()
    with graph.as_default():
        var = tf.compat.v1.Variable(f32, use_resource=False)
        flag = tf.raw_ops.IsVariableInitialized(ref=var._ref())
        with tf.compat.v1.Session(graph=graph) as sess:
            before = sess.run(flag)
            sess.run(var.initializer)
            after = sess.run(flag)
    t.add("is_variable_initialized", "IsVariableInitialized", {"dtype": tf.float32}, [f32],
          [after, f32], state={"variables": 1, "op_outputs": 1}, uninitialized_output=bool(before))

    t.write(out_dir)


if __name__ == "__main__":
    build(OUT, set(sys.argv[1:]) or None)
