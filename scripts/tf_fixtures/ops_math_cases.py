"""The cases of the math op table (see ops_math.py): inputs chosen to hit what TF users hit —
broadcasting, negative operands of integer division, NaN/inf, empty tensors, every CPU dtype."""
from __future__ import annotations

import numpy as np

from ops_math import FLOATS, INTS, cast

SPECIAL_F32 = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.5, 0.5, -0.5, 2.5, 1e-30, 3e38],
                       np.float32)


def _normal(rng, shape, dtype="float32", scale=1.0):
    return cast(rng.standard_normal(shape) * scale, dtype)


# ------------------------------------------------------------------ elementwise binary

def add_binary_cases(rec, rng) -> None:
    shapes = [((2, 3, 4), (3, 1)), ((3, 4), ()), ((), (2, 2)), ((0, 3), (3,)), ((4, 1), (1, 5))]
    arith = ["Add", "AddV2", "Sub", "Mul", "Maximum", "Minimum", "SquaredDifference"]
    for op in arith:
        for dtype in FLOATS + INTS:
            for k, (sx, sy) in enumerate(shapes if dtype == "float32" else shapes[:1]):
                if dtype in INTS:
                    lo = 0 if dtype == "uint8" else -9
                    x = cast(rng.integers(lo, 10, sx), dtype)
                    y = cast(rng.integers(lo, 10, sy), dtype)
                else:
                    x, y = _normal(rng, sx, dtype), _normal(rng, sy, dtype)
                rec(f"{op}_{dtype}_{k}", op, {"x": x, "y": y})
    # NaN propagation of Maximum/Minimum, inf arithmetic.
    a = SPECIAL_F32
    b = np.roll(SPECIAL_F32, 3)
    for op in arith + ["RealDiv", "Div", "DivNoNan", "FloorDiv", "FloorMod", "TruncateDiv", "Mod",
                       "Pow", "Atan2", "Xdivy", "Xlogy"]:
        rec(f"{op}_special", op, {"x": a, "y": b})
        rec(f"{op}_special_f64", op, {"x": a.astype(np.float64), "y": b.astype(np.float64)})
    rec("AddV2_string", "AddV2", {"x": np.array([b"ab", b""]), "y": np.array([b"c", b"d"])})
    rec("Add_string", "Add", {"x": np.array([b"ab", b""]), "y": np.array(b"!")})
    rec("AddV2_incompatible", "AddV2", {"x": np.ones((2, 3), np.float32),
                                         "y": np.ones((4,), np.float32)})

    # Division family: negative operands, division by zero.
    xi = np.array([7, -7, 7, -7, 0, 9, -9, 1, -1, 5], np.int32)
    yi = np.array([2, 2, -2, -2, 3, 3, 4, -5, 5, -1], np.int32)
    div_ops = ["Div", "FloorDiv", "FloorMod", "TruncateDiv", "TruncateMod", "Mod", "RealDiv",
               "DivNoNan"]
    for op in div_ops:
        for dtype in ("int32", "int64", "int8", "uint8"):
            xs = np.abs(xi) if dtype == "uint8" else xi
            ys = np.abs(yi) if dtype == "uint8" else yi
            rec(f"{op}_{dtype}", op, {"x": xs.astype(dtype), "y": ys.astype(dtype)})
        rec(f"{op}_int32_by_zero", op, {"x": xi, "y": np.array([1, 0] * 5, np.int32)})
        for dtype in FLOATS:
            xf = cast(xi * 1.25, dtype)
            yf = cast(yi * 0.5, dtype)
            rec(f"{op}_{dtype}", op, {"x": xf, "y": yf})
            rec(f"{op}_{dtype}_bcast", op, {"x": _normal(rng, (3, 4), dtype, 5.0),
                                            "y": cast(np.array([0.3, -0.7, 1.1, 0.0]), dtype)})
    rec("FloorDiv_f32_not_divmod", "FloorDiv", {"x": np.float32([1.0, -1.0, 7.0]),
                                               "y": np.float32([0.1, 0.1, 0.7])})
    rec("FloorMod_f32_small", "FloorMod", {"x": np.float32([1.0, -1.0, 7.0, -0.0, 5.0]),
                                           "y": np.float32([0.1, 0.1, -0.7, 3.0, -5.0])})

    # Pow / Atan2 / Xdivy / Xlogy.
    for dtype in FLOATS:
        rec(f"Pow_{dtype}", "Pow", {"x": cast(rng.uniform(0.1, 3, (3, 4)), dtype),
                                    "y": cast(rng.uniform(-2, 3, (4,)), dtype)})
        rec(f"Atan2_{dtype}", "Atan2", {"y": _normal(rng, (3, 4), dtype), "x": _normal(rng, (3, 4), dtype)})
        zero_x = cast(np.array([0.0, 0.0, 2.0, 1.5, -1.0]), dtype)
        rec(f"Xdivy_{dtype}", "Xdivy", {"x": zero_x, "y": cast(np.array([0.0, 2.0, 0.0, 0.5, 3.0]), dtype)})
        rec(f"Xlogy_{dtype}", "Xlogy", {"x": zero_x, "y": cast(np.array([0.0, 2.0, 0.0, 0.5, 3.0]), dtype)})
    for dtype in ("int32", "int64"):
        rec(f"Pow_{dtype}", "Pow", {"x": np.array([2, -3, 0, 5, 1, -1], dtype),
                                    "y": np.array([10, 3, 0, 2, 7, 5], dtype)})
        rec(f"Pow_{dtype}_negative_exponent", "Pow", {"x": np.array([2, 3], dtype),
                                                      "y": np.array([1, -1], dtype)})


# ------------------------------------------------------------------ elementwise unary

def add_unary_cases(rec, rng) -> None:
    positive = ["Log", "Sqrt", "Rsqrt", "Reciprocal", "Inv"]
    any_sign = ["Neg", "Abs", "Sign", "Exp", "Expm1", "Square", "Floor", "Ceil", "Round", "Rint",
                "Sin", "Cos", "Tanh", "Sigmoid", "Erf", "Erfc", "IsFinite", "IsNan", "IsInf",
                "Log1p"]
    for op in positive + any_sign:
        for dtype in FLOATS:
            if op in positive:
                x = cast(rng.uniform(0.05, 20, (3, 5)), dtype)
            elif op == "Log1p":
                x = cast(rng.uniform(-0.9, 5, (3, 5)), dtype)
            else:
                x = _normal(rng, (3, 5), dtype, 3.0)
            rec(f"{op}_{dtype}", op, {"x": x})
        rec(f"{op}_special", op, {"x": SPECIAL_F32})
        rec(f"{op}_empty", op, {"x": np.zeros((0, 2), np.float32)})
    halves = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -3.49, 2.51], np.float32)
    for op in ("Round", "Rint", "Floor", "Ceil"):
        rec(f"{op}_halves", op, {"x": halves})
    wide = np.linspace(-12, 12, 97).astype(np.float32)
    for op in ("Tanh", "Sigmoid", "Erf", "Erfc", "Exp", "Expm1"):
        rec(f"{op}_wide_f32", op, {"x": wide})
        rec(f"{op}_wide_f64", op, {"x": wide.astype(np.float64) * 2})
    for op in ("Neg", "Abs", "Sign", "Square", "Round", "Reciprocal"):
        for dtype in ("int32", "int64", "int8"):
            x = np.array([-7, -1, 0, 1, 3, 100], dtype) if op != "Reciprocal" else np.array([1, -1, 2, 5], dtype)
            rec(f"{op}_{dtype}", op, {"x": x})
    rec("LogicalNot", "LogicalNot", {"x": np.array([[True, False], [False, False]])})

    # Gradient helpers: (y, dy) with y the forward output.
    for op, lo, hi in (("TanhGrad", -0.99, 0.99), ("SigmoidGrad", 0.01, 0.99), ("SqrtGrad", 0.1, 4),
                       ("RsqrtGrad", 0.1, 4), ("ReciprocalGrad", -3, 3), ("InvGrad", -3, 3)):
        for dtype in FLOATS:
            rec(f"{op}_{dtype}", op, {"y": cast(rng.uniform(lo, hi, (3, 4)), dtype),
                                      "dy": _normal(rng, (3, 4), dtype)})
        # Sizes that are not a multiple of Eigen's packet (scalar tail), one that fits no
        # packet at all, one big enough for Eigen to split over threads.
        for shape in ((5,), (37, 29)):
            rec(f"{op}_f32_{'x'.join(map(str, shape))}", op,
                {"y": cast(rng.uniform(lo, hi, shape), "float32"), "dy": _normal(rng, shape)})
        rec(f"{op}_f64_odd", op, {"y": cast(rng.uniform(lo, hi, (7, 3)), "float64"),
                                  "dy": _normal(rng, (7, 3), "float64")})
        rec(f"{op}_zero_dy", op, {"y": np.float32([0, np.inf, 1, 0, -0.0, np.nan, 2, 0, 1, 0]),
                                  "dy": np.float32([0, 0, 0, 1, 0, 0, 1, 0, np.inf, 0])})


# ------------------------------------------------------------- comparisons, select, cast, misc

def add_misc_cases(rec, rng) -> None:
    for op in ("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"):
        for dtype in FLOATS + INTS:
            if dtype in INTS:
                x = cast(rng.integers(0, 4, (3, 4)), dtype)
                y = cast(rng.integers(0, 4, (4,)), dtype)
            else:
                x = cast(rng.integers(-2, 2, (3, 4)) * 0.5, dtype)
                y = cast(rng.integers(-2, 2, (4,)) * 0.5, dtype)
            rec(f"{op}_{dtype}", op, {"x": x, "y": y})
        rec(f"{op}_special", op, {"x": SPECIAL_F32, "y": np.roll(SPECIAL_F32, 1)})
        rec(f"{op}_incompatible", op, {"x": np.ones((2, 3), np.float32), "y": np.ones((4,), np.float32)})
    for op in ("Equal", "NotEqual"):
        rec(f"{op}_bool", op, {"x": np.array([True, False, True]), "y": np.array([True])})
        rec(f"{op}_string", op, {"x": np.array([b"a", b"bc", b""]), "y": np.array([b"a", b"b", b""])})
        rec(f"{op}_incompatible_no_error", op, {"x": np.ones((2, 3), np.float32),
                                                "y": np.ones((4,), np.float32)},
            {"incompatible_shape_error": False})
        rec(f"{op}_compatible_no_error", op, {"x": np.ones((2, 3), np.int32),
                                              "y": np.array([1, 0, 1], np.int32)},
            {"incompatible_shape_error": False})
    bx = np.array([[True, False], [True, True]])
    rec("LogicalAnd", "LogicalAnd", {"x": bx, "y": np.array([True, False])})
    rec("LogicalOr", "LogicalOr", {"x": bx, "y": np.array(False)})
    rec("ApproximateEqual", "ApproximateEqual",
        {"x": np.float32([1.0, 1.0, 1.0, np.nan]), "y": np.float32([1.0, 1.001, 1.0000001, np.nan])},
        {"tolerance": 1e-5})
    rec("ApproximateEqual_f64", "ApproximateEqual",
        {"x": np.float64([[1.0, 2.0]]), "y": np.float64([[1.2, 2.0]])}, {"tolerance": 0.3})
    rec("ApproximateEqual_shapes", "ApproximateEqual",
        {"x": np.ones((2, 2), np.float32), "y": np.ones((2,), np.float32)})

    t, e = _normal(rng, (3, 2)), _normal(rng, (3, 2))
    rec("Select_same_shape", "Select", {"condition": np.array([[True, False], [False, True], [True, True]]),
                                        "x": t, "y": e})
    rec("Select_rows", "Select", {"condition": np.array([True, False, True]), "x": t, "y": e})
    rec("Select_scalar", "Select", {"condition": np.array(False), "x": t, "y": e})
    rec("Select_int64_rows3d", "Select", {"condition": np.array([False, True]),
                                          "x": np.arange(12, dtype=np.int64).reshape(2, 3, 2),
                                          "y": -np.arange(12, dtype=np.int64).reshape(2, 3, 2)})
    rec("Select_bad_rows", "Select", {"condition": np.array([True, False]), "x": t, "y": e})
    rec("Select_bad_shape", "Select", {"condition": np.ones((3, 2, 1), bool), "x": t, "y": e})
    rec("SelectV2_broadcast", "SelectV2", {"condition": np.array([True, False]),
                                           "t": _normal(rng, (3, 1)), "e": np.float32(7)})
    rec("SelectV2_scalar", "SelectV2", {"condition": np.array(True), "t": t, "e": e})
    rec("SelectV2_bad", "SelectV2", {"condition": np.array([True, False, True]), "t": t, "e": e})

    casts = {
        "float32": SPECIAL_F32[3:11].copy(),
        "float64": np.array([-2.7, 2.7, 1e300, 0.1, -0.0, 65520.0, 3.4e38, 1 + 2 ** -9]),
        "int32": np.array([-3, 0, 7, 300, -129, 2 ** 31 - 1], np.int32),
        "int64": np.array([2 ** 40 + 1, -5, 0, 255, 256], np.int64),
        "uint8": np.array([0, 1, 200, 255], np.uint8),
        "bool": np.array([True, False, True]),
        "float16": np.array([0.5, -1.5, 65504, 0.0001], np.float16),
        "bfloat16": cast(np.array([1.0, -3.5, 1e30, 0.0078125]), "bfloat16"),
    }
    for src, x in casts.items():
        for dst in ("float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8", "int8", "bool"):
            rec(f"Cast_{src}_to_{dst}", "Cast", {"x": x}, {"DstT": dst})
    rounding = np.float32([1.0 + 2 ** -9, 1.0 + 3 * 2 ** -9, 1.0 + 2 ** -8 + 2 ** -10, -1.00390625,
                           1.0009766, 3.3333333, np.nan, -np.inf, 65519.0, 65520.0, 1e-8])
    for dst in ("bfloat16", "float16"):
        rec(f"Cast_round_to_{dst}", "Cast", {"x": rounding}, {"DstT": dst})
        rec(f"Cast_truncate_to_{dst}", "Cast", {"x": rounding}, {"DstT": dst, "Truncate": True})
    # Just above a tie in float64 but a tie once rounded to float32: shows whether TF rounds
    # double -> half/bfloat16 directly or through float.
    near_ties = np.array([1 + 2.0 ** -8 + 2.0 ** -30, 1 + 2.0 ** -11 + 2.0 ** -40, -(1 + 2.0 ** -8 + 2.0 ** -30)])
    for dst in ("bfloat16", "float16"):
        rec(f"Cast_f64_near_tie_to_{dst}", "Cast", {"x": near_ties}, {"DstT": dst})
    rec("Cast_f32_to_int_out_of_range", "Cast", {"x": np.float32([3e9, -3e9, np.nan, np.inf, -2.9])},
        {"DstT": "int32"})

    rec("ClipByValue_scalar_bounds", "ClipByValue",
        {"t": _normal(rng, (3, 4)), "clip_value_min": np.float32(-0.5), "clip_value_max": np.float32(0.5)})
    rec("ClipByValue_tensor_bounds", "ClipByValue",
        {"t": _normal(rng, (2, 3)), "clip_value_min": np.full((2, 3), -0.1, np.float32),
         "clip_value_max": np.float32([[0.2, 0.3, 0.4], [1.0, 1.0, 1.0]])})
    rec("ClipByValue_int32", "ClipByValue",
        {"t": np.arange(-5, 5, dtype=np.int32), "clip_value_min": np.int32(-2), "clip_value_max": np.int32(3)})
    rec("ClipByValue_nan", "ClipByValue",
        {"t": SPECIAL_F32, "clip_value_min": np.float32(-1), "clip_value_max": np.float32(1)})
    rec("ClipByValue_bad_shape", "ClipByValue",
        {"t": np.ones((2, 3), np.float32), "clip_value_min": np.zeros(3, np.float32),
         "clip_value_max": np.float32(1)})

    # AddN: TF adds the first (n % 8 or 8/9) inputs in one expression, then 8 at a time.
    for n in (1, 2, 3, 8, 9, 10, 17, 20):
        big = [cast(rng.standard_normal((4, 5)) * 10.0 ** rng.integers(-3, 4), "float32") for _ in range(n)]
        rec(f"AddN_{n}", "AddN", {"inputs": big})
    for dtype in ("float16", "bfloat16", "float64", "int32", "int64"):
        rec(f"AddN_{dtype}", "AddN", {"inputs": [cast(rng.integers(-9, 9, (3,)) * 0.75, dtype)
                                                  for _ in range(4)]})
    rec("AddN_scalars", "AddN", {"inputs": [np.float32(1.5), np.float32(2.5)]})
    rec("AccumulateNV2", "AccumulateNV2", {"inputs": [_normal(rng, (2, 3)) for _ in range(5)]},
        {"shape": (2, 3)}, graph=True)


# ------------------------------------------------------------------ matmul

def add_matmul_cases(rec, rng) -> None:
    for dtype in ("float32", "float64", "float16", "bfloat16", "int32", "int64"):
        for ta in (False, True):
            for tb in (False, True):
                a = _normal(rng, (5, 3)[::-1] if ta else (5, 3), "float32")
                b = _normal(rng, (3, 4)[::-1] if tb else (3, 4), "float32")
                if dtype.startswith("int"):
                    a, b = np.round(a * 4), np.round(b * 4)
                rec(f"MatMul_{dtype}_{int(ta)}{int(tb)}", "MatMul", {"a": cast(a, dtype), "b": cast(b, dtype)},
                    {"transpose_a": ta, "transpose_b": tb})
    # 300-long dot products: numpy's BLAS and Eigen's contraction add the products in other
    # blocks, so the error scales with sum |a_i b_i| (~15 here), not with the result.
    rec("MatMul_large_f32", "MatMul", {"a": _normal(rng, (8, 300)), "b": _normal(rng, (300, 6))},
        rtol=2e-6, atol=2e-5)
    rec("MatMul_empty_inner", "MatMul", {"a": np.zeros((3, 0), np.float32), "b": np.zeros((0, 2), np.float32)})
    rec("MatMul_bad_inner", "MatMul", {"a": np.zeros((3, 4), np.float32), "b": np.zeros((3, 2), np.float32)})
    rec("MatMul_rank3", "MatMul", {"a": np.zeros((2, 3, 4), np.float32), "b": np.zeros((4, 2), np.float32)})
    for op in ("BatchMatMul", "BatchMatMulV2"):
        for ax in (False, True):
            for ay in (False, True):
                x = _normal(rng, (2, 4, 3) if ax else (2, 3, 4))
                y = _normal(rng, (2, 5, 4) if ay else (2, 4, 5))
                rec(f"{op}_{int(ax)}{int(ay)}", op, {"x": x, "y": y}, {"adj_x": ax, "adj_y": ay})
        rec(f"{op}_f64_4d", op, {"x": _normal(rng, (2, 3, 2, 4), "float64"),
                                 "y": _normal(rng, (2, 3, 4, 1), "float64")})
        rec(f"{op}_bcast", op, {"x": _normal(rng, (3, 1, 2, 4)), "y": _normal(rng, (5, 4, 2))})
        rec(f"{op}_rank2", op, {"x": _normal(rng, (2, 4)), "y": _normal(rng, (4, 3))})
        rec(f"{op}_bad_inner", op, {"x": _normal(rng, (2, 2, 4)), "y": _normal(rng, (2, 3, 2))})
        rec(f"{op}_int32", op, {"x": np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 9,
                                "y": np.arange(16, dtype=np.int32).reshape(2, 4, 2) % 5})
    rec("BatchMatMulV3_f32", "BatchMatMulV3", {"x": _normal(rng, (2, 3, 4)), "y": _normal(rng, (1, 4, 2))},
        {"Tout": "float32", "adj_y": False})
    rec("BatchMatMulV3_int8_to_int32", "BatchMatMulV3",
        {"x": np.arange(-6, 6, dtype=np.int8).reshape(1, 3, 4), "y": np.arange(8, dtype=np.int8).reshape(4, 2)},
        {"Tout": "int32"})
    rec("BatchMatMulV3_adj", "BatchMatMulV3", {"x": _normal(rng, (3, 4, 2)), "y": _normal(rng, (3, 5, 4))},
        {"Tout": "float32", "adj_x": True, "adj_y": True})
    rec("BatchMatMulV3_bf16", "BatchMatMulV3", {"x": _normal(rng, (2, 3, 4), "bfloat16"),
                                                "y": _normal(rng, (2, 4, 2), "bfloat16")}, {"Tout": "bfloat16"})


# ------------------------------------------------------------------ less common elementwise, einsum

def add_extra_cases(rec, rng) -> None:
    domains = {"Tan": (-1.4, 1.4), "Atan": (-5, 5), "Asin": (-0.99, 0.99), "Acos": (-0.99, 0.99),
               "Sinh": (-4, 4), "Cosh": (-4, 4), "Asinh": (-5, 5), "Acosh": (1.01, 6), "Atanh": (-0.99, 0.99)}
    for op, (lo, hi) in domains.items():
        for dtype in FLOATS:
            rec(f"{op}_{dtype}", op, {"x": cast(rng.uniform(lo, hi, (3, 4)), dtype)})
        rec(f"{op}_special", op, {"x": SPECIAL_F32})
    for op in ("MulNoNan", "Xlog1py"):
        for dtype in FLOATS:
            rec(f"{op}_{dtype}", op, {"x": cast(np.array([0.0, 0.0, 2.0, np.inf, np.nan, -1.5]), dtype),
                                      "y": cast(np.array([np.inf, np.nan, 0.0, 0.0, 2.0, 0.5]), dtype)})
        rec(f"{op}_bcast", op, {"x": _normal(rng, (2, 3)), "y": np.float32([0.0, 1.5, -0.5])})
    rec("MulNoNan_incompatible", "MulNoNan", {"x": np.ones((2, 3), np.float32), "y": np.ones(2, np.float32)})

    def einsum(case_id, equation, *operands):
        rec(case_id, "Einsum", {"inputs": list(operands)}, {"equation": equation})
    einsum("Einsum_matmul", "ij,jk->ik", _normal(rng, (3, 4)), _normal(rng, (4, 5)))
    einsum("Einsum_batch", "bij,bjk->bik", _normal(rng, (2, 3, 4)), _normal(rng, (2, 4, 2)))
    einsum("Einsum_attention", "bqhd,bkhd->bhqk", _normal(rng, (2, 3, 2, 4)), _normal(rng, (2, 5, 2, 4)))
    einsum("Einsum_ellipsis", "...ij,jk->...ik", _normal(rng, (2, 2, 3, 4)), _normal(rng, (4, 2)))
    einsum("Einsum_trace_like", "ii->i", _normal(rng, (4, 4)))
    einsum("Einsum_sum", "ij->", _normal(rng, (3, 4)))
    einsum("Einsum_transpose", "ijk->kji", _normal(rng, (2, 3, 4)))
    einsum("Einsum_outer_f64", "i,j->ij", _normal(rng, (3,), "float64"), _normal(rng, (4,), "float64"))
    einsum("Einsum_int32", "ij,jk->ik", np.arange(6, dtype=np.int32).reshape(2, 3),
           np.arange(6, dtype=np.int32).reshape(3, 2) - 2)
    # TF's bfloat16 contraction rounds partial sums in its own blocking (neither a float32
    # accumulation nor a bfloat16 running sum reproduces it): 2 ulps of bfloat16.
    rec("Einsum_bf16", "Einsum", {"inputs": [_normal(rng, (3, 8), "bfloat16"), _normal(rng, (8, 2), "bfloat16")]},
        {"equation": "ij,jk->ik"}, rtol=1.6e-2, atol=1.6e-2)
    einsum("Einsum_bad_dims", "ij,jk->ik", _normal(rng, (3, 4)), _normal(rng, (5, 2)))


def add_feature_cases(rec, rng) -> None:
    """Ops TF1 feature columns and tf.matmul(a_is_sparse=...) put into training graphs."""
    rng = np.random.default_rng(123)
    bounds = [-1.0, 0.0, 0.5, 2.5, 10.0]
    rec("Bucketize_f32", "Bucketize", {"input": np.float32([[-3, -1, -0.5, 0], [0.5, 2.4999, 2.5, 11]])},
        {"boundaries": bounds})
    rec("Bucketize_i64", "Bucketize", {"input": np.array([-5, -1, 0, 1, 3, 10, 2 ** 40], np.int64)},
        {"boundaries": bounds})
    rec("Bucketize_i32_empty_bounds", "Bucketize", {"input": np.array([1, 2], np.int32)}, {"boundaries": []})
    rec("Bucketize_f64", "Bucketize", {"input": np.array([0.49999999999, 0.5, 2.5000000001])},
        {"boundaries": bounds})
    rec("Bucketize_unsorted", "Bucketize", {"input": np.float32([1.0])}, {"boundaries": [1.0, 0.0]})
    for ta in (False, True):
        for tb in (False, True):
            a = _normal(rng, (3, 5) if not ta else (5, 3))
            b = _normal(rng, (5, 4) if not tb else (4, 5))
            a[np.abs(a) < 0.8] = 0
            rec(f"SparseMatMul_{int(ta)}{int(tb)}", "SparseMatMul", {"a": a, "b": b},
                {"transpose_a": ta, "transpose_b": tb, "a_is_sparse": True})
    rec("SparseMatMul_bf16", "SparseMatMul", {"a": _normal(rng, (2, 6), "bfloat16"), "b": _normal(rng, (6, 3))},
        {"b_is_sparse": True})


def add_eigen_function_cases(rec, rng) -> None:
    """exp/tanh/sigmoid around the bounds of Eigen's algorithms (clamps, underflow, the
    packet/scalar split), over sizes that are and are not multiples of a packet."""
    rng = np.random.default_rng(4242)
    edges = np.float32([-120, -104.5, -104, -103.9, -87.5, -87, -20, -16.7, -16.6355324, -9, -7.9074, -7.9,
                        -1e-3, -1e-30, 0, 1e-30, 1e-3, 7.9, 7.9074, 8.5, 16.6355324, 16.7, 20, 87, 87.5,
                        88.72, 88.73, 89, np.inf, -np.inf, np.nan])
    for op in ("Exp", "Tanh", "Sigmoid"):
        rec(f"{op}_edges_f32", op, {"x": edges})
        rec(f"{op}_edges_f64", op, {"x": edges.astype(np.float64) * 8 if op == "Exp" else edges.astype(np.float64)})
        rec(f"{op}_random_f32", op, {"x": (rng.standard_normal(1001) * 12).astype(np.float32)})
        rec(f"{op}_random_f64", op, {"x": rng.standard_normal((7, 11)) * 12})
        rec(f"{op}_random_f16", op, {"x": (rng.standard_normal(37) * 4).astype(np.float16)})
    log_edges = np.float32([0, -0.0, 1e-45, 1e-40, 1.17549435e-38, 1e-30, 0.5, 0.70710677, 0.7071068, 0.99999994,
                            1, 1.0000001, 2, 3.4e38, np.inf, -1, -np.inf, np.nan, -1e-45])
    for op in ("Log", "Log1p"):
        edges = log_edges - 1 if op == "Log1p" else log_edges
        rec(f"{op}_edges_f32", op, {"x": np.concatenate([edges, log_edges]).astype(np.float32)})
        rec(f"{op}_random_f32", op, {"x": np.exp(rng.standard_normal(1001) * 8).astype(np.float32)})
        rec(f"{op}_small_f32", op, {"x": (rng.standard_normal(45) * 1e-3).astype(np.float32) + (op == "Log")})
