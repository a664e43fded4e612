"""Op table for the array kernels (orchestrator/ops/{array,shape,join,slicing,index,partition,space,diag}_ops.py),
made with real TF (eager ``tf.raw_ops``; Placeholder in a TF1 graph). The cases live in the
sibling scripts ops_array_cases.py, ops_array_index_cases.py, ops_array_extra_cases.py and
ops_array_coverage_cases.py (which also writes the print_abort table).

Run with the TensorFlow venv:
    TF_ENABLE_ONEDNN_OPTS=0 /work/tfvenv/bin/python scripts/tf_fixtures/ops_array.py

Writes tests/fixtures/ops/array.{json,npz}. A case's ``inputs`` are in the kernel's
positional order (list inputs flattened: ConcatV2's values then its axis, DynamicStitch's
indices then its data); ``attrs`` are NodeDef attr names (``squeeze_dims``, not raw_ops'
``axis``). A case whose op failed in TF has no outputs and an ``error`` field with TF's
message (the ``{{function_node ...}}`` prefix and ``[Op:...]`` suffix removed); the
test expects our InvalidArgumentError and compares the parts listed in ``match``.
String tensors are stored as fixed-width bytes (no value ends in NUL).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

sys.path.insert(0, str(Path(__file__).resolve().parent))
OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "ops"


def build(out_dir: Path = OUT, only: set[str] | None = None) -> None:
    # Sibling scripts: the case lists, split by kernel module (see their docstrings).
    import ops_array_cases as core
    import ops_array_coverage_cases as coverage
    import ops_array_extra_cases as extra
    import ops_array_index_cases as index
    from ops_state import OpTable
    table = OpTable("array", only)
    cases = core.Cases(table)
    core.pass_through_cases(cases)
    core.shape_cases(cases)
    core.join_cases(cases)
    core.slicing_cases(cases)
    extra.random_strided_slice_cases(cases)
    extra.random_cases(cases)
    index.index_cases(cases)
    index.partition_cases(cases)
    index.space_cases(cases)
    index.diag_cases(cases)
    index.misc_cases(cases)
    extra.dtype_cases(cases)
    extra.placeholder_cases(table)
    extra.print_cases(table)
    coverage.unique_v2_cases(cases)
    coverage.bound_cases(cases)
    table.write(out_dir)
    coverage.build_print_abort(out_dir, only)   # PrintV2/Abort: their own table (print_abort.*)


if __name__ == "__main__":
    build(OUT, set(sys.argv[1:]) or None)
