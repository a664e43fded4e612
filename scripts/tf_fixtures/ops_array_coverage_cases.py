"""UniqueV2/UniqueWithCountsV2 and LowerBound/UpperBound cases of the array op table
(driver: ops_array.py), and the ``print_abort`` table: PrintV2 and Abort, which act on the
process (its output streams, its life) rather than return values.

print_abort case layout (besides OpTable's fields): ``stream`` (where TF wrote: ``stderr``,
``stdout`` or ``file``) and ``printed`` (what it wrote there) for PrintV2; for Abort,
``returncode`` of a Python process that ran the op (negative: killed by that signal) and
``stderr_line``, the line of TF's log naming the abort; ``error``/``match`` as in the
array table when TF rejected the op with InvalidArgumentError.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ops_array_cases import Cases, _clean, op_signature  # noqa: E402 (sibling script)


def unique_v2_cases(c: Cases) -> None:
    i32, i64 = np.int32, np.int64
    rows = np.array([[1, 2, 1], [3, 4, 3], [1, 2, 1], [0, 0, 0], [3, 4, 3]], np.int32)
    nan_rows = np.array([[np.nan, 1], [0.0, 2], [np.nan, 1], [-0.0, 2], [5, 5]], np.float32)
    strs = np.array([[b"a", b"b"], [b"c", b"d"], [b"a", b"b"]])
    vec = np.array([4, -1, 4, 7, -1, 0], np.int64)
    for op in ("UniqueV2", "UniqueWithCountsV2"):
        short = "unique_v2" if op == "UniqueV2" else "unique_with_counts_v2"
        runs: list[tuple[str, np.ndarray, np.ndarray, dict]] = [
            ("vector_no_axis", vec, np.array([], i32), {}),
            ("vector_axis0_i64", vec, np.array([0], i64), {"out_idx": "int64"}),
            ("rows_axis0", rows, np.array([0], i32), {}),
            ("columns_axis1", rows, np.array([1], i64), {}),
            ("columns_axis_neg1", rows, np.array([-1], i32), {"out_idx": "int64"}),
            ("nan_rows", nan_rows, np.array([0], i32), {}),
            ("nan_vector", np.array([np.nan, 1, np.nan, -0.0, 0.0, 1], np.float32), np.array([0], i32), {}),
            ("strings_rows", strs, np.array([0], i32), {}),
            ("strings_columns", strs, np.array([1], i32), {}),
            ("rank3_axis1", np.arange(24, dtype=np.float64).reshape(2, 3, 4) % 5 // 4,
             np.array([1], i32), {}),
            ("column_vector_axis0", np.array([[3], [1], [3]], np.int32), np.array([0], i32), {}),
            ("empty_rows", np.zeros((3, 0), np.float32), np.array([0], i32), {}),
            ("bool_columns", np.array([[True, False, True], [False, False, False]]), np.array([1], i32), {}),
            # errors
            ("matrix_no_axis", rows, np.array([], i32), {}),
            ("axis_out_of_range", rows, np.array([2], i32), {}),
            ("axis_neg_out_of_range", rows, np.array([-3], i64), {}),
            ("axis_two_elements", rows, np.array([0, 1], i32), {}),
            ("axis_matrix", rows, np.array([[0]], i32), {}),
            ("scalar_axis0", np.array(3, np.int32), np.array([0], i32), {}),
        ]
        for name, x, axis, attrs in runs:
            record = {} if "out_idx" in attrs else {"out_idx": "int32"}
            c.add(f"{short}_{name}", op, [("x", x), ("axis", axis)], attrs, record_only=record)


def bound_cases(c: Cases) -> None:
    sorted_f = np.array([[0.5, 1.0, 1.0, 2.5, 9.0], [-3.0, -3.0, 0.0, 0.0, 4.0]], np.float32)
    values_f = np.array([[1.0, 0.0, 10.0, 2.5], [-3.0, 0.0, 5.0, -4.0]], np.float32)
    unsorted = np.array([[5, 1, 4, 2, 3, 0, 9]], np.int32)
    for op in ("LowerBound", "UpperBound"):
        short = "lower_bound" if op == "LowerBound" else "upper_bound"
        runs: list[tuple[str, np.ndarray, np.ndarray, dict]] = [
            ("f32", sorted_f, values_f, {}),
            ("f32_out_i64", sorted_f, values_f, {"out_type": "int64"}),
            ("i64", np.array([[1, 3, 3, 3, 7]], np.int64), np.array([[0, 3, 4, 7, 8, 3]], np.int64), {}),
            ("f64_nan", np.array([[1.0, 2.0, np.nan]]), np.array([[np.nan, 1.5, 3.0]]), {}),
            ("unsorted_i32", unsorted, np.array([[0, 1, 2, 3, 4, 5, 6, 9, 10]], np.int32), {}),
            ("one_element_rows", np.array([[2], [5], [5]], np.float32),
             np.array([[1, 2, 3], [5, 5, 6], [4, 5, 9]], np.float32), {}),
            ("empty_values", sorted_f, np.zeros((2, 0), np.float32), {}),
            ("empty_sorted", np.zeros((2, 0), np.float32), values_f, {}),
            ("u8", np.array([[0, 10, 200, 255]], np.uint8), np.array([[255, 0, 11, 100]], np.uint8), {}),
            ("f16", sorted_f.astype(np.float16), values_f.astype(np.float16), {}),
            # errors
            ("vector_sorted", np.array([1.0, 2.0], np.float32), np.array([[1.0]], np.float32), {}),
            ("vector_values", sorted_f, np.array([1.0, 2.0], np.float32), {}),
            ("rank3_sorted", np.zeros((2, 1, 3), np.float32), values_f, {}),
            ("batch_mismatch", sorted_f, values_f[:1], {}),
        ]
        for name, s, v, attrs in runs:
            record = {} if "out_type" in attrs else {"out_type": "int32"}
            c.add(f"{short}_{name}", op, [("sorted_inputs", s), ("values", v)], attrs, record_only=record,
                  skip_missing_kernel=True)


# ------------------------------------------------------------------ print_abort table

def _captured(fd: int, run: Any) -> tuple[Any, str]:
    """Run ``run()`` with file descriptor ``fd`` redirected to a temporary file (TF's C++
    streams bypass Python's sys.stdout/sys.stderr)."""
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(fd)
        os.dup2(sink.fileno(), fd)
        try:
            result = run()
        finally:
            os.dup2(saved, fd)
            os.close(saved)
        sink.seek(0)
        return result, sink.read().decode()


def _print_case(table: Any, case_id: str, message: Any, attrs: dict, stream: str) -> None:
    import tensorflow as tf
    if not table.wants("PrintV2") and case_id not in (table.only or ()):
        return
    message = np.asarray(message)
    extra: dict[str, Any] = {}
    run_attrs = dict(attrs)
    path = None
    if stream == "file":
        path = Path(tempfile.mkdtemp()) / "printed.txt"
        path.write_text("before\n")
        run_attrs["output_stream"] = f"file://{path}"
    fd = 1 if stream == "stdout" else 2
    try:
        _, printed = _captured(fd, lambda: tf.raw_ops.PrintV2(input=tf.constant(message), **run_attrs))
    except tf.errors.InvalidArgumentError as exc:
        text = _clean(str(exc))
        extra = {"error": text, "match": [text]}
        printed = ""
    if path is not None:
        printed = path.read_text()
        path.unlink()
        path.parent.rmdir()
    recorded = {"output_stream": "stderr", "end": "\n", **attrs}
    if stream == "file":
        recorded.pop("output_stream")   # the test makes its own file and names it
    table.add(case_id, "PrintV2", recorded, [message], [], stream=stream,
              **({} if extra else {"printed": printed}), **extra,
              **({"op_signature": op_signature("PrintV2")} if case_id == "print_v2_stderr" else {}))


def print_v2_cases(table: Any) -> None:
    _print_case(table, "print_v2_stderr", np.array(b"loss: 0.25 step 3"), {}, "stderr")
    _print_case(table, "print_v2_stdout", np.array(b"x = [1 2 3]"), {"output_stream": "stdout"}, "stdout")
    _print_case(table, "print_v2_end", np.array(b"no newline"), {"end": " | "}, "stderr")
    _print_case(table, "print_v2_empty_end_utf8", np.array("é\tü".encode()), {"end": ""}, "stderr")
    _print_case(table, "print_v2_file", np.array(b"appended"), {"end": "\n"}, "file")
    _print_case(table, "print_v2_not_scalar", np.array([b"a", b"b"]), {}, "stderr")
    _print_case(table, "print_v2_bad_stream", np.array(b"x"), {"output_stream": "stdrr"}, "stderr")


_ABORT_SCRIPT = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
import tensorflow as tf
v1 = tf.compat.v1
v1.disable_eager_execution()   # eager runs of Abort do nothing in TF 2.21; a session run aborts
op = tf.raw_ops.Abort(error_msg=sys.argv[1], exit_without_error=sys.argv[2] == "1", name="stop/abort")
with v1.Session() as sess:
    sess.run(op)
print("still running")
"""


def abort_cases(table: Any) -> None:
    """Abort ends TF's process, so each case runs in a child Python process."""
    for case_id, msg, exit_ok in (("abort_fails", "loss diverged", False),
                                  ("abort_exit_without_error", "done early", True)):
        if not table.wants("Abort") and case_id not in (table.only or ()):
            continue
        env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
        proc = subprocess.run([sys.executable, "-c", _ABORT_SCRIPT, msg, "1" if exit_ok else "0"],
                              capture_output=True, text=True, env=env, timeout=300)
        lines = [line for line in proc.stderr.splitlines() if msg in line]
        if not lines:
            raise RuntimeError(f"{case_id}: TF's stderr does not name the message:\n{proc.stderr}")
        # The log prefix (time, pid, file:line) varies: keep what follows "] ".
        line = lines[0].split("] ", 1)[-1]
        table.add(case_id, "Abort", {"error_msg": msg, "exit_without_error": exit_ok}, [], [],
                  returncode=proc.returncode, stderr_line=line, still_running="still running" in proc.stdout,
                  **({"op_signature": op_signature("Abort")} if not exit_ok else {}))
        print(f"  {case_id}: returncode {proc.returncode}, {line!r}")


def build_print_abort(out_dir: Path, only: set[str] | None) -> None:
    from ops_state import OpTable
    table = OpTable("print_abort", only)
    print_v2_cases(table)
    abort_cases(table)
    table.write(out_dir)
