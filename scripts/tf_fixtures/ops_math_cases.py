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
    rec("MatMul_large_f32", "MatMul", {"a": _normal(rng, (8, 300)), "b": _normal(rng, (300, 6))})
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
