"""Op table for the math kernels (orchestrator/ops/math_ops.py, reduction_ops.py,
segment_ops.py, matmul_ops.py), made with real TF in eager mode (``tf.raw_ops``).

Run with the TensorFlow venv:
    TF_ENABLE_ONEDNN_OPTS=0 /work/tfvenv/bin/python scripts/tf_fixtures/ops_math.py [CASE_OR_OP ...]

Writes tests/fixtures/ops/math.{json,npz}. Inputs are recorded in the op's input order.
A case whose op TF rejects records no outputs and ``"error": [TF error class, message]``;
the kernel must raise the matching orchestrator error naming the op. Dtypes TF has no
CPU kernel for are skipped (``NotFoundError``), so the table lists what TF registers.
"""
from __future__ import annotations

import inspect
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "ops"

FLOATS = ("float16", "bfloat16", "float32", "float64")
INTS = ("int32", "int64", "uint8", "int8")


class Recorder:
    """Runs ``tf.raw_ops.<op>`` on numpy inputs and adds the case to the table."""

    def __init__(self, table):
        import tensorflow as tf
        self.tf = tf
        self.table = table
        self.skipped: list[str] = []

    def __call__(self, case_id: str, op: str, inputs: dict, attrs: dict | None = None,
                 rtol: float | None = None, atol: float | None = None, graph: bool = False,
                 **extra) -> None:
        """``graph=True`` runs the op in a TF1 session (ops with no eager kernel, e.g.
        AccumulateNV2, which TF rewrites before it runs)."""
        tf = self.tf
        attrs = dict(attrs or {})
        if not self.table.wants(op) and case_id not in (self.table.only or ()):
            return
        fn = getattr(tf.raw_ops, op)
        order = list(inspect.signature(fn).parameters)     # the op's input order
        unknown = set(inputs) - set(order)
        if unknown:
            raise TypeError(f"{case_id}: {op} has no inputs {sorted(unknown)}; it takes {order}")
        inputs = {k: inputs[k] for k in order if k in inputs}
        # List inputs (AddN's ``inputs``) become that many positional kernel inputs.
        flat = [e for v in inputs.values() for e in (v if isinstance(v, list) else [v])]
        try:
            if graph:
                with tf.Graph().as_default() as g, tf.compat.v1.Session(graph=g) as sess:
                    result = sess.run(fn(**self._constants(inputs), **attrs))
            else:
                result = fn(**self._constants(inputs), **attrs)
        except tf.errors.NotFoundError:           # no CPU kernel for this dtype: not in the table
            self.skipped.append(case_id)
            return
        except tf.errors.OpError as err:             # recorded: our kernel must reject it too
            message = err.message.splitlines()[0]
            if "is not in the list of allowed values" in message:   # no such kernel, as above
                self.skipped.append(case_id)
                return
            message = re.sub(r"^\{\{function_node [^}]*\}\}\s*|\s*\[Op:\w+\].*$", "", message)
            self.table.add(case_id, op, attrs, flat, [], rtol=rtol, atol=atol,
                           error=[type(err).__name__, message], **extra)
            return
        outputs = list(result) if isinstance(result, (list, tuple)) else [result]
        self.table.add(case_id, op, attrs, flat, [o.numpy() if hasattr(o, "numpy") else np.asarray(o) for o in outputs],
                       rtol=rtol, atol=atol, **extra)

    def _constants(self, inputs: dict) -> dict:
        const = self.tf.constant
        return {k: [const(e) for e in v] if isinstance(v, list) else const(v) for k, v in inputs.items()}


def cast(x: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "bfloat16":
        import ml_dtypes
        return np.asarray(x, np.float32).astype(ml_dtypes.bfloat16)
    return np.asarray(x).astype(dtype)


def build(out_dir: Path = OUT, only: set[str] | None = None) -> None:
    from ops_state import OpTable   # noqa: PLC0415 (sibling script)
    from ops_math_cases import (add_binary_cases, add_eigen_function_cases,  # noqa: PLC0415
                                add_extra_cases, add_feature_cases, add_matmul_cases,
                                add_misc_cases, add_unary_cases)
    from ops_math_cases_reduce import (add_bincount_cases, add_reduction_cases,  # noqa: PLC0415
                                       add_reduction_order_cases, add_segment_cases,
                                       add_segment_order_cases)
    table = OpTable("math", only)
    rec = Recorder(table)
    rng = np.random.default_rng(20261130)
    for add in (add_binary_cases, add_unary_cases, add_misc_cases, add_matmul_cases,
                add_reduction_cases, add_segment_cases, add_extra_cases, add_bincount_cases,
                add_segment_order_cases, add_reduction_order_cases, add_feature_cases,
                add_eigen_function_cases):
        add(rec, rng)
    if rec.skipped:
        print(f"math: {len(rec.skipped)} dtype variants without a TF CPU kernel skipped: "
              f"{', '.join(rec.skipped[:40])}{' ...' if len(rec.skipped) > 40 else ''}")
    table.write(out_dir)


if __name__ == "__main__":
    build(OUT, set(sys.argv[1:]) or None)
