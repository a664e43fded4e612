"""Randomised, dtype-sweep, tf.Print and Placeholder cases of the array op table
(see ops_array.py)."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ops_array_cases import Cases, op_signature  # noqa: E402 (sibling script)


def random_strided_slice_cases(c: Cases, count: int = 160) -> None:
    """Random specs with every mask (one ellipsis at most), over small int inputs: the mask
    interplay TF's dense-spec expansion defines, checked case by case. Every fifth
    successful spec also gets its StridedSliceGrad."""
    import tensorflow as tf
    rng = np.random.default_rng(21)
    for n in range(count):
        rank = int(rng.integers(0, 5))
        shape = tuple(int(d) for d in rng.integers(0, 5, rank))
        x = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
        dims = int(rng.integers(1, 6))
        begin = rng.integers(-6, 7, dims).astype(np.int32)
        end = rng.integers(-6, 7, dims).astype(np.int32)
        strides = rng.choice([-3, -2, -1, 1, 1, 2, 3], dims).astype(np.int32)
        masks = {name: int(rng.integers(0, 2 ** dims)) & int(rng.integers(0, 2 ** dims))
                 for name in ("begin_mask", "end_mask", "new_axis_mask", "shrink_axis_mask")}
        if rng.random() < 0.5:
            masks["ellipsis_mask"] = 1 << int(rng.integers(0, dims))
        args = [("begin", begin), ("end", end), ("strides", strides)]
        c.add(f"strided_slice_random_{n:03d}", "StridedSlice", [("input", x), *args], masks)
        if n % 5:
            continue
        try:
            y = tf.raw_ops.StridedSlice(input=x, begin=begin, end=end, strides=strides, **masks)
        except tf.errors.InvalidArgumentError:
            continue
        dy = (np.arange(int(np.prod(y.shape)), dtype=np.float32) + 1).reshape(y.shape)
        c.add(f"strided_slice_grad_random_{n:03d}", "StridedSliceGrad",
              [("shape", np.array(shape, np.int32)), *args, ("dy", dy)], masks)


def random_cases(c: Cases) -> None:
    """Random BroadcastGradientArgs shapes, GatherV2 axis/batch_dims and Assert summaries."""
    rng = np.random.default_rng(22)
    for n in range(40):
        base = [int(d) for d in rng.integers(0, 4, int(rng.integers(0, 5)))]
        s0 = [1 if rng.random() < 0.4 else d for d in base][int(rng.integers(0, len(base) + 1)):]
        s1 = [1 if rng.random() < 0.4 else d for d in base][int(rng.integers(0, len(base) + 1)):]
        if rng.random() < 0.1 and s1:
            s1[0] += 5   # incompatible
        dt = np.int64 if n % 3 == 0 else np.int32
        c.add(f"bga_random_{n:02d}", "BroadcastGradientArgs",
              [("s0", np.array(s0, dt)), ("s1", np.array(s1, dt))])
    for n in range(30):
        rank = int(rng.integers(1, 5))
        shape = [int(d) for d in rng.integers(1, 4, rank)]
        axis = int(rng.integers(0, rank))
        batch_dims = int(rng.integers(0, axis + 1))
        ix_shape = shape[:batch_dims] + [int(d) for d in rng.integers(0, 3, int(rng.integers(0, 3)))]
        params = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
        indices = rng.integers(0, shape[axis], ix_shape).astype(np.int32)
        neg_axis = axis - rank if rng.random() < 0.3 else axis
        c.add(f"gather_v2_random_{n:02d}", "GatherV2",
              [("params", params), ("indices", indices), ("axis", np.int32(neg_axis))],
              {"batch_dims": batch_dims})
    for n in range(20):
        rank = int(rng.integers(0, 4))
        shape = [int(d) for d in rng.integers(0, 4, rank)]
        data = (np.arange(int(np.prod(shape))) * (1 if n % 2 else 0.25)).reshape(shape)
        c.add(f"assert_random_{n:02d}", "Assert",
              [("condition", np.array(False)), ("data", [np.array(b"x ="), data.astype(np.float32)])],
              {"summarize": int(rng.integers(-1, 9))})


def print_cases(table: Any) -> None:
    """tf.Print writes from C++ to stderr: captured at the file-descriptor level."""
    import tempfile
    import tensorflow as tf
    if not table.wants("Print"):
        return
    data = [np.array([1, 2, 3, 4], np.int32), np.array(b"hi"), np.array([[0.5, -1.0]], np.float32)]
    x = np.array([1.5, 2.5], np.float32)
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            out = tf.raw_ops.Print(input=x, data=[tf.constant(d) for d in data], message="step: ",
                                   summarize=3)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        printed = sink.read().decode()
    table.add("print", "Print", {"message": "step: ", "summarize": 3, "first_n": -1}, [x, *data],
              [out.numpy()], printed=printed, op_signature=op_signature("Print"))


def dtype_cases(c: Cases) -> None:
    """The dtype-generic kernels over every dtype TF's CPU registers them for."""
    import ml_dtypes
    base = np.array([[0, 1, -2, 3], [4, -5, 0, 7], [3, 3, -2, 1]])
    dtypes = {"f16": np.float16, "bf16": ml_dtypes.bfloat16, "f64": np.float64, "i64": np.int64,
              "i8": np.int8, "u8": np.uint8, "i16": np.int16, "u16": np.uint16, "bool": np.bool_,
              "c64": np.complex64}
    i32 = np.int32
    for name, dt in dtypes.items():
        x = (base % 2 == 1) if dt is np.bool_ else (np.abs(base) if dt in (np.uint8, np.uint16) else base)
        x = np.asarray(x).astype(dt)
        runs = [
            ("transpose", "Transpose", [("x", x), ("perm", np.array([1, 0], i32))]),
            ("concat", "ConcatV2", [("values", [x, x[:1]]), ("axis", i32(0))]),
            ("pack", "Pack", [("values", [x, x])], {"axis": -1}),
            ("gather", "GatherV2", [("params", x), ("indices", np.array([2, 0], i32)), ("axis", i32(1))]),
            ("pad", "Pad", [("input", x), ("paddings", np.array([[1, 0], [0, 2]], i32))]),
            ("tile", "Tile", [("input", x), ("multiples", np.array([2, 1], i32))]),
            ("strided_slice", "StridedSlice", [("input", x), ("begin", np.array([2, 0], i32)),
                                               ("end", np.array([0, 4], i32)),
                                               ("strides", np.array([-1, 2], i32))]),
            ("reshape", "Reshape", [("tensor", x), ("shape", np.array([-1, 6], i32))]),
            ("reverse", "ReverseV2", [("tensor", x), ("axis", np.array([1], i32))]),
            ("fill", "Fill", [("dims", np.array([2, 2], i32)), ("value", x[0, 1])]),
            ("zeros_like", "ZerosLike", [("x", x)]),
            ("ones_like", "OnesLike", [("x", x)]),
            ("where", "Where", [("condition", x)]),
            ("unique", "Unique", [("x", x.reshape(-1))]),
            ("gather_nd", "GatherNd", [("params", x), ("indices", np.array([[2, 1], [0, 3]], i32))]),
            ("scatter_nd", "ScatterNd", [("indices", np.array([[1], [1]], i32)), ("updates", x[:2]),
                                         ("shape", np.array([3, 4], i32))]),
            ("split", "Split", [("axis", i32(1)), ("value", x)], {"num_split": 2}),
            ("one_hot", "OneHot", [("indices", np.array([0, 2, 5], i32)), ("depth", i32(3)),
                                   ("on_value", x[1, 0]), ("off_value", x[0, 0])]),
            ("band_part", "MatrixBandPart", [("input", x), ("num_lower", np.int64(0)),
                                             ("num_upper", np.int64(1))]),
            ("dynamic_stitch", "DynamicStitch", [("indices", [np.array([1, 0], i32)]), ("data", [x[:2]])]),
        ]
        for short, op, inputs, *attrs in runs:
            record = {"out_idx": "int32"} if op == "Unique" else None
            c.add(f"dtype_{short}_{name}", op, inputs, attrs[0] if attrs else None, record_only=record,
                  skip_missing_kernel=True)


def placeholder_cases(table: Any) -> None:
    """Placeholder's not-fed error comes from a session run, so it is made in a TF1 graph."""
    import tensorflow as tf
    v1 = tf.compat.v1
    for case_id, dtype, shape in (("placeholder_f32_partial", tf.float32, [None, 3]),
                                  ("placeholder_i64_known", tf.int64, [2]),
                                  ("placeholder_half_scalar", tf.float16, []),
                                  ("placeholder_str_unknown_rank", tf.string, None)):
        if not table.wants("Placeholder") and case_id not in (table.only or ()):
            continue
        graph = tf.Graph()
        with graph.as_default():
            ph = v1.placeholder(dtype, shape, name="inputs/x")
            out = tf.identity(ph)
            with v1.Session(graph=graph) as sess:
                try:
                    sess.run(out)
                except tf.errors.InvalidArgumentError as exc:
                    message = next(line for line in exc.message.splitlines()
                                   if line.startswith("You must feed"))
        signature = {} if case_id != "placeholder_f32_partial" else {"op_signature": op_signature("Placeholder")}
        table.add(case_id, "Placeholder", {"dtype": dtype, "shape": shape}, [], [], error=message, **signature,
                  match=[message], node="inputs/x")
