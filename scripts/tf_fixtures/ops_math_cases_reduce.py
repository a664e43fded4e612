"""Reduction, scan, segment and bincount cases of the math op table (see ops_math.py)."""
from __future__ import annotations

import numpy as np

from ops_math import INTS, cast
from ops_math_cases import SPECIAL_F32, _normal


# ------------------------------------------------------------------ reductions

def add_reduction_cases(rec, rng) -> None:
    x = _normal(rng, (3, 4, 5))
    axes = {"all": np.array([0, 1, 2], np.int32), "none": np.zeros((0,), np.int32),
            "neg": np.array(-1, np.int32), "mid64": np.array([1], np.int64),
            "pair": np.array([0, -1], np.int32), "scalar0": np.array(0, np.int64)}
    ops = ("Sum", "Mean", "Max", "Min", "Prod", "EuclideanNorm")
    for op in ops:
        for name, axis in axes.items():
            for keep in (False, True):
                rec(f"{op}_{name}_k{int(keep)}", op, {"input": x, "axis": axis}, {"keep_dims": keep})
        for dtype in ("float16", "bfloat16", "float64", "int32", "int64", "uint8", "int8"):
            data = (cast(rng.integers(-7, 8, (4, 6)), dtype) if dtype in INTS and dtype != "uint8"
                    else cast(rng.integers(0, 8, (4, 6)), dtype) if dtype == "uint8"
                    else _normal(rng, (4, 6), dtype))
            rec(f"{op}_{dtype}", op, {"input": data, "axis": np.array([1], np.int32)})
            rec(f"{op}_{dtype}_all", op, {"input": data, "axis": np.array([0, 1], np.int32)})
        rec(f"{op}_empty_reduced", op, {"input": np.zeros((0, 3), np.float32), "axis": np.array([0], np.int32)})
        rec(f"{op}_empty_kept", op, {"input": np.zeros((0, 3), np.float32), "axis": np.array([1], np.int32)})
        rec(f"{op}_empty_int32", op, {"input": np.zeros((2, 0), np.int32), "axis": np.array([1], np.int32)})
        rec(f"{op}_nan", op, {"input": SPECIAL_F32.reshape(3, 4), "axis": np.array([1], np.int32)})
        rec(f"{op}_bad_axis", op, {"input": x, "axis": np.array([3], np.int32)})
        rec(f"{op}_scalar_input", op, {"input": np.float32(2.5), "axis": np.zeros((0,), np.int32)})
    rec("Mean_int32_truncates", "Mean", {"input": np.array([[-7, -1, 1], [3, 4, 4]], np.int32),
                                         "axis": np.array([1], np.int32)})
    rec("Sum_dup_axis", "Sum", {"input": x, "axis": np.array([1, -2], np.int32)})
    big = cast(rng.standard_normal((6, 2500)) + 3.0, "float32")
    rec("Sum_big_f32", "Sum", {"input": big, "axis": np.array([1], np.int32)})
    rec("Sum_big_f32_rows", "Sum", {"input": big, "axis": np.array([0], np.int32)})
    rec("Mean_big_f32", "Mean", {"input": big, "axis": np.array([0, 1], np.int32)})
    rec("Sum_f16_overflow_accum", "Sum", {"input": np.full((4, 600), 60.0, np.float16),
                                          "axis": np.array([1], np.int32)})
    for op in ("All", "Any"):
        b = rng.integers(0, 2, (3, 4)).astype(bool)
        b[0] = True
        b[1] = False
        for name, axis in (("rows", np.array([1], np.int32)), ("all", np.zeros((0,), np.int64)),
                           ("both", np.array([0, 1], np.int64))):
            rec(f"{op}_{name}", op, {"input": b, "axis": axis}, {"keep_dims": name == "both"})
        rec(f"{op}_empty", op, {"input": np.zeros((2, 0), bool), "axis": np.array([1], np.int32)})

    for op in ("ArgMax", "ArgMin"):
        data = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.0, 0.0], [5.0, -5.0, 5.0, -5.0]], np.float32)
        for axis in (0, 1, -1):
            for out_type in ("int64", "int32"):
                rec(f"{op}_a{axis}_{out_type}", op, {"input": data, "dimension": np.array(axis, np.int32)},
                    {"output_type": out_type})
        for dtype in ("float16", "bfloat16", "float64", "int32", "int64", "uint8", "int8", "bool"):
            d = (rng.integers(0, 2, (3, 5)).astype(bool) if dtype == "bool"
                 else cast(rng.integers(0, 9, (3, 5)), dtype))
            rec(f"{op}_{dtype}", op, {"input": d, "dimension": np.array(1, np.int64)})
        rec(f"{op}_nan", op, {"input": SPECIAL_F32.reshape(3, 4), "dimension": np.array(1, np.int32)})
        rec(f"{op}_nan_first", op, {"input": np.float32([[1, np.nan, 3], [np.nan, 0, np.nan]]),
                                    "dimension": np.array(1, np.int32)})
        rec(f"{op}_empty_axis", op, {"input": np.zeros((2, 0), np.float32), "dimension": np.array(1, np.int32)})
        rec(f"{op}_empty_other", op, {"input": np.zeros((0, 3), np.float32), "dimension": np.array(1, np.int32)})
        rec(f"{op}_bad_axis", op, {"input": data, "dimension": np.array(2, np.int32)})
        rec(f"{op}_1d", op, {"input": np.float32([0.5, 2, 2, -1]), "dimension": np.array(0, np.int32)})

    for op in ("Cumsum", "Cumprod"):
        data = cast(rng.uniform(0.5, 1.5, (3, 4)), "float32")
        for axis in (0, 1, -1):
            for excl in (False, True):
                for rev in (False, True):
                    rec(f"{op}_a{axis}_e{int(excl)}_r{int(rev)}", op,
                        {"x": data, "axis": np.array(axis, np.int32)}, {"exclusive": excl, "reverse": rev})
        for dtype in ("float64", "float16", "bfloat16", "int32", "int64"):
            rec(f"{op}_{dtype}", op, {"x": cast(rng.integers(1, 4, (2, 5)), dtype),
                                      "axis": np.array(1, np.int64)}, {"exclusive": True})
        rec(f"{op}_empty", op, {"x": np.zeros((0, 3), np.float32), "axis": np.array(0, np.int32)})
        rec(f"{op}_bad_axis", op, {"x": data, "axis": np.array(2, np.int32)})
        rec(f"{op}_long_f32", op, {"x": cast(rng.uniform(0.9, 1.1, (1, 300)), "float32"),
                                   "axis": np.array(1, np.int32)})


# ------------------------------------------------------------------ segments

def add_segment_cases(rec, rng) -> None:
    data = _normal(rng, (6, 3))
    sorted_ids = np.array([0, 0, 1, 3, 3, 3], np.int32)
    for op in ("SegmentSum", "SegmentMean", "SegmentMax", "SegmentMin", "SegmentProd"):
        rec(f"{op}_f32", op, {"data": data, "segment_ids": sorted_ids})
        rec(f"{op}_int64_ids", op, {"data": data.astype(np.float64), "segment_ids": sorted_ids.astype(np.int64)})
        rec(f"{op}_i32_1d", op, {"data": np.array([5, -3, 4, 8, 1], np.int32),
                                 "segment_ids": np.array([0, 1, 1, 1, 4], np.int32)})
        rec(f"{op}_unsorted", op, {"data": data, "segment_ids": np.array([0, 1, 0, 2, 2, 3], np.int32)})
        rec(f"{op}_negative", op, {"data": data, "segment_ids": np.array([-1, 0, 0, 1, 1, 1], np.int32)})
        rec(f"{op}_bad_len", op, {"data": data, "segment_ids": np.array([0, 0, 1], np.int32)})
        rec(f"{op}_empty", op, {"data": np.zeros((0, 3), np.float32), "segment_ids": np.zeros((0,), np.int32)})
    ids2 = np.array([[2, 0, -1], [2, 4, 0]], np.int32)
    data3 = _normal(rng, (2, 3, 2))
    for op in ("UnsortedSegmentSum", "UnsortedSegmentMax", "UnsortedSegmentMin", "UnsortedSegmentProd"):
        rec(f"{op}_f32", op, {"data": data, "segment_ids": np.array([3, 0, 3, 1, 0, 3], np.int32),
                              "num_segments": np.int32(5)})
        rec(f"{op}_2d_ids_negative_dropped", op, {"data": data3, "segment_ids": ids2,
                                                  "num_segments": np.int64(5)})
        rec(f"{op}_i64_data", op, {"data": np.array([4, -2, 7, 1], np.int64),
                                   "segment_ids": np.array([1, 1, 0, 1], np.int64), "num_segments": np.int32(3)})
        rec(f"{op}_f16", op, {"data": _normal(rng, (4, 2), "float16"),
                              "segment_ids": np.array([1, 1, 0, 1], np.int32), "num_segments": np.int32(2)})
        rec(f"{op}_out_of_range", op, {"data": data, "segment_ids": np.array([0, 1, 5, 1, 0, 0], np.int32),
                                       "num_segments": np.int32(5)})
        rec(f"{op}_bad_shape", op, {"data": data, "segment_ids": np.array([0, 1], np.int32),
                                    "num_segments": np.int32(2)})
        rec(f"{op}_zero_segments", op, {"data": np.zeros((0, 2), np.float32),
                                        "segment_ids": np.zeros((0,), np.int32), "num_segments": np.int32(0)})

    table = _normal(rng, (7, 3))
    idx = np.array([4, 0, 4, 6, 2, 2], np.int32)
    seg = np.array([0, 0, 1, 3, 3, 3], np.int32)
    for base in ("SparseSegmentSum", "SparseSegmentMean", "SparseSegmentSqrtN"):
        rec(f"{base}_f32", base, {"data": table, "indices": idx, "segment_ids": seg})
        rec(f"{base}_i64", base, {"data": table.astype(np.float64), "indices": idx.astype(np.int64),
                                  "segment_ids": seg.astype(np.int64)})
        rec(f"{base}_bad_index", base, {"data": table, "indices": np.array([0, 7], np.int32),
                                        "segment_ids": np.array([0, 1], np.int32)})
        rec(f"{base}_unsorted", base, {"data": table, "indices": np.array([0, 1, 2], np.int32),
                                       "segment_ids": np.array([1, 0, 1], np.int32)})
        rec(f"{base}_empty", base, {"data": table, "indices": np.zeros((0,), np.int32),
                                    "segment_ids": np.zeros((0,), np.int32)})
        rec(f"{base}_f16", base, {"data": _normal(rng, (5, 2), "float16"), "indices": np.array([1, 1, 3], np.int32),
                                  "segment_ids": np.array([0, 0, 1], np.int32)})
        op = base + "WithNumSegments"
        rec(f"{op}_f32", op, {"data": table, "indices": idx, "segment_ids": seg, "num_segments": np.int32(6)})
        rec(f"{op}_3d", op, {"data": _normal(rng, (5, 2, 2)), "indices": np.array([0, 4, 1], np.int64),
                             "segment_ids": np.array([1, 1, 2], np.int32), "num_segments": np.int64(4)})
        rec(f"{op}_too_few", op, {"data": table, "indices": idx, "segment_ids": seg, "num_segments": np.int32(3)})
        grad = base + "Grad"
        g = _normal(rng, (4, 3))
        rec(f"{grad}_f32", grad, {"grad": g, "indices": idx, "segment_ids": seg, "output_dim0": np.int32(7)})
        rec(f"{grad}_f64_i64", grad, {"grad": g.astype(np.float64), "indices": idx.astype(np.int64),
                                      "segment_ids": seg.astype(np.int64), "output_dim0": np.int32(9)})
        rec(f"{grad}_bad_index", grad, {"grad": g, "indices": np.array([0, 7], np.int32),
                                        "segment_ids": np.array([0, 1], np.int32), "output_dim0": np.int32(7)})
        rec(f"{grad}_bad_segment", grad, {"grad": g, "indices": np.array([0, 1], np.int32),
                                          "segment_ids": np.array([0, 4], np.int32), "output_dim0": np.int32(7)})
        grad2 = base + "GradV2"
        rec(f"{grad2}_f32", grad2, {"grad": g, "indices": idx, "segment_ids": seg, "dense_output_dim0": np.int32(7)})


# ------------------------------------------------------------------ bincount

def add_bincount_cases(rec, rng) -> None:
    arr = np.array([1, 1, 3, 0, 7, 3, 3, 9], np.int32)
    empty_w = np.zeros((0,), np.float32)
    rec("Bincount_counts", "Bincount", {"arr": arr, "size": np.int32(8), "weights": np.zeros((0,), np.int32)})
    rec("Bincount_weights_f32", "Bincount", {"arr": arr, "size": np.int32(5),
                                              "weights": _normal(rng, (8,))})
    rec("Bincount_weights_f64", "Bincount", {"arr": arr, "size": np.int32(12),
                                              "weights": _normal(rng, (8,), "float64")})
    rec("Bincount_empty_weights_f32", "Bincount", {"arr": arr, "size": np.int32(4), "weights": empty_w})
    rec("Bincount_negative", "Bincount", {"arr": np.array([1, -1], np.int32), "size": np.int32(3),
                                          "weights": empty_w})
    for binary in (False, True):
        rec(f"DenseBincount_1d_b{int(binary)}", "DenseBincount",
            {"input": arr, "size": np.int32(6), "weights": empty_w}, {"binary_output": binary})
        rec(f"DenseBincount_2d_b{int(binary)}", "DenseBincount",
            {"input": np.array([[0, 2, 2], [1, 1, 5]], np.int64), "size": np.int64(4),
             "weights": np.float32([[1.5, 2, 0.25], [1, 1, 3]])}, {"binary_output": binary})
    rec("DenseBincount_i32_weights", "DenseBincount",
        {"input": arr, "size": np.int32(10), "weights": np.arange(8, dtype=np.int32)})
    rec("DenseBincount_negative", "DenseBincount",
        {"input": np.array([1, -1], np.int32), "size": np.int32(3), "weights": empty_w})


def add_segment_order_cases(rec, rng) -> None:
    """Many rows per id: TF adds them one after another; checks our pass-per-occurrence path
    (and its fallback past 32 occurrences of one id) keeps that order bit for bit."""
    rng = np.random.default_rng(77)   # own stream: adding cases elsewhere leaves these alone
    rows = cast(rng.standard_normal((300, 4)) * 10.0 ** rng.integers(-3, 4, (300, 1)), "float32")
    ids = rng.integers(0, 20, 300).astype(np.int32)
    skewed = np.where(rng.random(300) < 0.4, 3, ids).astype(np.int32)
    for op in ("UnsortedSegmentSum", "UnsortedSegmentProd", "UnsortedSegmentMax"):
        rec(f"{op}_many_rows", op, {"data": rows, "segment_ids": ids, "num_segments": np.int32(20)})
    rec("UnsortedSegmentSum_skewed", "UnsortedSegmentSum",
        {"data": rows, "segment_ids": skewed, "num_segments": np.int32(20)})
    rec("SegmentSum_many_rows", "SegmentSum", {"data": rows, "segment_ids": np.sort(ids)})
    table = _normal(rng, (25, 4))
    indices = rng.integers(0, 25, 300).astype(np.int32)
    segs = np.sort(rng.integers(0, 40, 300)).astype(np.int32)
    for base in ("SparseSegmentSum", "SparseSegmentMean", "SparseSegmentSqrtN"):
        rec(f"{base}_many_rows", base, {"data": table, "indices": indices, "segment_ids": segs})
        rec(f"{base}Grad_many_rows", base + "Grad",
            {"grad": _normal(rng, (40, 4)), "indices": indices, "segment_ids": segs, "output_dim0": np.int32(25)})
    # Narrow floats: TF adds unsorted/sorted segment rows in the type itself, sparse segment
    # bfloat16 rows in float32.
    for dtype in ("bfloat16", "float16"):
        rec(f"UnsortedSegmentSum_many_rows_{dtype}", "UnsortedSegmentSum",
            {"data": cast(rows, dtype), "segment_ids": ids, "num_segments": np.int32(20)})
        rec(f"SegmentSum_many_rows_{dtype}", "SegmentSum", {"data": cast(rows, dtype), "segment_ids": np.sort(ids)})
        for base in ("SparseSegmentSum", "SparseSegmentMean", "SparseSegmentSqrtN"):
            rec(f"{base}_many_rows_{dtype}", base, {"data": cast(table, dtype), "indices": indices, "segment_ids": segs})


def add_reduction_order_cases(rec, rng) -> None:
    """Shapes that take every path of TF's float reduction order (eigen_reduce.py): leaf
    sizes around the 8/32-element packet blocks, a split row (> 8192) starting off a packet
    boundary, R K R, K R K and a transposed K R K R layout, size-1 dimensions in between."""
    rng = np.random.default_rng(91)   # own stream: adding cases elsewhere leaves these alone

    def values(shape, dtype="float32"):
        # 11-bit mantissas over 7 decades: every addition still rounds, and the npz stays small.
        v = rng.standard_normal(shape).astype(np.float16).astype(np.float64)
        return (v * 10.0 ** rng.integers(-3, 4, shape)).astype(dtype)

    cases = [("len7", (7,), [0]), ("len33", (33,), [0]), ("len100", (100,), [0]),
             ("len1000", (1000,), [0]), ("len9001", (9001,), [0]),
             ("rows_8195", (2, 8195), [1]), ("rows_45", (5, 45), [-1]),
             ("rkr", (6, 3, 7), [0, 2]), ("krk", (3, 40, 5), [1]), ("rk", (50, 3), [0]),
             ("krkr", (3, 4, 5, 9), [1, 3]), ("rkrk", (4, 3, 6, 2), [0, 2]),
             ("size1_between", (4, 1, 30, 1), [1, 2]), ("keep_size1", (1, 40, 1), [1])]
    for name, shape, axes in cases:
        x = values(shape)
        axis = np.array(axes, np.int32)
        rec(f"Sum_order_{name}", "Sum", {"input": x, "axis": axis})
        if name in ("len1000", "rows_45", "rkr", "krkr"):
            rec(f"Mean_order_{name}", "Mean", {"input": x, "axis": axis}, {"keep_dims": True})
            rec(f"Sum_order_{name}_f64", "Sum", {"input": x.astype(np.float64) * np.pi, "axis": axis})
            rec(f"EuclideanNorm_order_{name}", "EuclideanNorm", {"input": x, "axis": axis})
            near_one = (1 + values(shape) * 1e-4).astype(np.float32)
            rec(f"Prod_order_{name}", "Prod", {"input": near_one, "axis": axis})
