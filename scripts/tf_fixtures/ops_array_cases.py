"""Case machinery and the pass-through, shape, join and slicing cases of the array op
table (driver and conventions: ops_array.py)."""
from __future__ import annotations

import os
import re
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

_RAW_NAMES = {("Squeeze", "squeeze_dims"): "axis"}


class Cases:
    """Runs ops in TF and records them in an OpTable."""

    def __init__(self, table: Any):
        self.table = table
        self.signed: set[str] = set()

    def signature(self, op: str) -> dict:
        """TF's OpDef facts for the first case of each op (kept in the case as ``op_signature``)."""
        if op in self.signed:
            return {}
        self.signed.add(op)
        return {"op_signature": op_signature(op)}

    def add(self, case_id: str, op: str, inputs: list[tuple[str, Any]], attrs: dict | None = None,
            record_only: dict | None = None, match: list[str] | None = None,
            rtol: float | None = None, atol: float | None = None,
            skip_missing_kernel: bool = False) -> None:
        """Run ``tf.raw_ops.<op>(**inputs, **attrs)``; ``record_only`` attrs are stored, not passed."""
        import tensorflow as tf
        if not self.table.wants(op) and case_id not in (self.table.only or ()):
            return
        attrs = attrs or {}
        # Tensors, not numpy values: raw_ops would otherwise convert inputs to the default of
        # an inferred type attr (Range's Tidx=int32 turns 0.1 into 0).
        kwargs = {k: [tf.constant(e) for e in v] if isinstance(v, list) else tf.constant(v)
                  for k, v in inputs}
        kwargs.update({_RAW_NAMES.get((op, k), k): v for k, v in attrs.items()})
        flat: list = []
        for _, v in inputs:
            if isinstance(v, list):
                flat.extend(v)   # a list input (N tensors)
            else:
                flat.append(np.asarray(v))
        recorded = {**attrs, **(record_only or {})}
        try:
            result = getattr(tf.raw_ops, op)(**kwargs)
        except (tf.errors.NotFoundError, tf.errors.UnimplementedError):
            if not skip_missing_kernel:
                raise
            return   # TF has no CPU kernel for this dtype: nothing to compare with
        except (tf.errors.InvalidArgumentError, tf.errors.OutOfRangeError) as exc:
            message = _clean(str(exc))
            result, extra = None, {"error": message, "match": match if match is not None else [message]}
        else:
            extra = {"rtol": rtol, "atol": atol}
        outputs = _outputs(result)
        if any(_is_bfloat16(x) for x in flat + outputs):
            # npz cannot hold bfloat16: stored as its uint16 bits, flagged for the test
            flat, outputs = [_bits(x) for x in flat], [_bits(x) for x in outputs]
            extra["bfloat16_bits"] = True
        self.table.add(case_id, op, recorded, flat, outputs, **extra, **self.signature(op))


def op_signature(op: str) -> dict:
    """What the kernel registration must agree with: attr names, list/multiple outputs, ref inputs."""
    from tensorflow.python.framework import op_def_registry
    op_def = op_def_registry.get(op)
    return {"attrs": sorted(a.name for a in op_def.attr),
            "multi": len(op_def.output_arg) > 1 or any(a.number_attr or a.type_list_attr
                                                       for a in op_def.output_arg),
            "ref_inputs": [i for i, a in enumerate(op_def.input_arg) if a.is_ref]}


def _is_bfloat16(x: Any) -> bool:
    return np.asarray(x).dtype.name == "bfloat16"


def _bits(x: Any) -> np.ndarray:
    return np.asarray(x).view(np.uint16) if _is_bfloat16(x) else x


def _clean(message: str) -> str:
    message = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", message)
    return re.sub(r"\s*\[Op:\w+\].*$", "", message, flags=re.S).strip()


def _outputs(result: Any) -> list:
    if result is None:
        return []
    if isinstance(result, (list, tuple)):
        return [r.numpy() for r in result]
    if hasattr(result, "numpy"):
        return [result.numpy()]
    return []   # an op without outputs (Assert that passed)


def _f32(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _i32(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-9, 10, shape).astype(np.int32)


STRS = np.array([[b"a", b"bc", b""], [b"d\n", b"\xc3\xa9", b"x y"]])


def pass_through_cases(c: Cases) -> None:
    import tensorflow as tf
    x = _f32(2, 3)
    c.add("identity_f32", "Identity", [("input", x)])
    c.add("identity_str", "Identity", [("input", STRS)])
    c.add("identity_n", "IdentityN", [("input", [x, _i32(4), STRS])])
    c.add("snapshot_i64", "Snapshot", [("input", np.arange(5, dtype=np.int64))])
    c.add("stop_gradient", "StopGradient", [("input", x.astype(np.float16))])
    c.add("prevent_gradient", "PreventGradient", [("input", x)], {"message": "no grad"})
    c.add("placeholder_with_default", "PlaceholderWithDefault", [("input", x)],
          {"shape": [None, 3]}, {"dtype": tf.float32})
    c.add("check_numerics_ok_f32", "CheckNumerics", [("tensor", x)], {"message": "fine"})
    c.add("check_numerics_ok_f64", "CheckNumerics", [("tensor", x.astype(np.float64))], {"message": "m"})
    c.add("check_numerics_ok_empty", "CheckNumerics", [("tensor", np.zeros((0, 2), np.float16))],
          {"message": "m"})
    c.add("check_numerics_nan", "CheckNumerics", [("tensor", np.array([1, np.nan], np.float32))],
          {"message": "loss/check"})
    c.add("check_numerics_inf_f16", "CheckNumerics",
          [("tensor", np.array([-np.inf, 2], np.float16))], {"message": "grad"})
    c.add("check_numerics_both", "CheckNumerics",
          [("tensor", np.array([[np.inf, np.nan]], np.float64))], {"message": "w"})
    c.add("check_numerics_v2_neg_inf", "CheckNumericsV2",
          [("tensor", np.array([-np.inf, 0], np.float32))], {"message": "v2"})
    c.add("check_numerics_v2_pos_nan", "CheckNumericsV2",
          [("tensor", np.array([np.inf, np.nan], np.float32))], {"message": "v2"})
    c.add("check_numerics_v2_all", "CheckNumericsV2",
          [("tensor", np.array([np.inf, np.nan, -np.inf], np.float32))], {"message": "v2"})
    c.add("ensure_shape_ok", "EnsureShape", [("input", x)], {"shape": [2, None]})
    c.add("ensure_shape_unknown_rank", "EnsureShape", [("input", x)], {"shape": None})
    c.add("ensure_shape_bad", "EnsureShape", [("input", x)], {"shape": [2, None, 4]})
    c.add("ensure_shape_bad_dim", "EnsureShape", [("input", x)], {"shape": [3, 3]})

    c.add("assert_pass", "Assert", [("condition", np.array(True)), ("data", [np.array(b"never")])])
    c.add("assert_mixed", "Assert", [("condition", np.array(False)), ("data", [
        np.array(b"msg x"), np.array([[1, 2], [3, 4]], np.int32),
        np.array([1.5, 0.1, 1 / 3], np.float32), np.array([True, False]), np.array(1 / 3),
        np.array([b"a\n\x01'\"\\b", b"\xc3\xa9"]), np.arange(10, dtype=np.int64).reshape(2, 5)])],
        {"summarize": 3})
    c.add("assert_shapes", "Assert", [("condition", np.array(False)), ("data", [
        np.array([1.5, 0.1], np.float16), np.zeros((0, 3)), np.arange(24).reshape(2, 3, 4),
        np.array(7, np.int32), np.array([[[5]]], np.uint8)])], {"summarize": 5})
    c.add("assert_floats", "Assert", [("condition", np.array(False)), ("data", [
        np.array([1e20, 1e-7, -0.0, np.inf, np.nan, 123456789.0, -2.5], np.float32),
        np.array([1e20, 1e-7, 1 / 3, 0.1, -np.inf])])], {"summarize": 10})
    import ml_dtypes
    c.add("assert_dtypes", "Assert", [("condition", np.array(False)), ("data", [
        np.array([1 + 2j, -0.5j], np.complex64), np.array([1.1, -3], ml_dtypes.bfloat16),
        np.array([255, 0], np.uint8), np.array([-2 ** 63, 2 ** 62], np.int64),
        np.array([1 / 3, 2e-9], np.complex128)])], {"summarize": 4})
    c.add("assert_summarize_all", "Assert", [("condition", np.array(False)), ("data", [
        np.arange(12, dtype=np.int32).reshape(3, 4), np.array([[b"p", b"q"]])])], {"summarize": -1})
    c.add("assert_not_scalar", "Assert", [("condition", np.array([False, True])),
                                          ("data", [np.array(1)])])


def shape_cases(c: Cases) -> None:
    import tensorflow as tf
    x = _f32(2, 3)
    c.add("shape_i32", "Shape", [("input", x)], {"out_type": tf.int32})
    c.add("shape_i64_empty", "Shape", [("input", np.zeros((0, 4, 1), np.int8))], {"out_type": tf.int64})
    c.add("shape_scalar", "Shape", [("input", np.float64(3))], {"out_type": tf.int32})
    c.add("shape_n", "ShapeN", [("input", [x, x[:1], np.zeros((0, 2), np.float32)])], {"out_type": tf.int64})
    c.add("size_i32", "Size", [("input", x)], {"out_type": tf.int32})
    c.add("size_i64_str", "Size", [("input", STRS)], {"out_type": tf.int64})
    c.add("rank", "Rank", [("input", np.zeros((2, 1, 3), np.bool_))])
    c.add("rank_scalar", "Rank", [("input", np.int64(4))])

    c.add("reshape_infer", "Reshape", [("tensor", x), ("shape", np.array([3, -1], np.int32))])
    c.add("reshape_i64_shape", "Reshape", [("tensor", STRS), ("shape", np.array([-1], np.int64))])
    c.add("reshape_to_scalar", "Reshape", [("tensor", np.array([5.0], np.float32)),
                                           ("shape", np.zeros(0, np.int32))])
    c.add("reshape_zero_size_infer", "Reshape", [("tensor", np.zeros((0, 3), np.float32)),
                                                 ("shape", np.array([-1, 0], np.int32))])
    c.add("reshape_zero_size_infer2", "Reshape", [("tensor", np.zeros((4, 0, 3), np.float32)),
                                                  ("shape", np.array([0, -1, 2], np.int32))])
    c.add("reshape_two_unknown", "Reshape", [("tensor", x), ("shape", np.array([-1, -1], np.int32))])
    c.add("reshape_not_multiple", "Reshape", [("tensor", x), ("shape", np.array([4, -1], np.int32))])
    c.add("reshape_mismatch", "Reshape", [("tensor", x), ("shape", np.array([4, 2], np.int32))])
    c.add("reshape_negative", "Reshape", [("tensor", x), ("shape", np.array([-2, -3], np.int32))])

    for axis in (0, -1, 2, -3):
        c.add(f"expand_dims_{axis}".replace("-", "m"), "ExpandDims",
              [("input", x), ("axis", np.int32(axis))])
    c.add("expand_dims_scalar_i64", "ExpandDims", [("input", np.float32(2)), ("axis", np.int64(0))])
    c.add("expand_dims_bad", "ExpandDims", [("input", x), ("axis", np.int32(4))])
    y = np.zeros((1, 2, 1, 3, 1), np.float32) + _f32(1, 2, 1, 3, 1)
    c.add("squeeze_all", "Squeeze", [("input", y)], {"squeeze_dims": []})
    c.add("squeeze_some", "Squeeze", [("input", y)], {"squeeze_dims": [0, -1]})
    c.add("squeeze_str", "Squeeze", [("input", STRS[None])], {"squeeze_dims": [0]})
    c.add("squeeze_not_one", "Squeeze", [("input", y)], {"squeeze_dims": [1]})
    c.add("squeeze_out_of_range", "Squeeze", [("input", y)], {"squeeze_dims": [5]})

    c.add("broadcast_to_rows", "BroadcastTo", [("input", _f32(3)), ("shape", np.array([2, 3], np.int32))])
    c.add("broadcast_to_i64", "BroadcastTo", [("input", _i32(2, 1)), ("shape", np.array([4, 2, 5], np.int64))])
    c.add("broadcast_to_same", "BroadcastTo", [("input", x), ("shape", np.array([2, 3], np.int32))])
    c.add("broadcast_to_bad", "BroadcastTo", [("input", x), ("shape", np.array([4, 3], np.int32))])
    c.add("broadcast_to_rank", "BroadcastTo", [("input", x), ("shape", np.array([3], np.int32))])
    c.add("broadcast_to_shrink", "BroadcastTo", [("input", x), ("shape", np.array([2, 1], np.int32))])
    c.add("broadcast_args_i32", "BroadcastArgs", [("s0", np.array([2, 1, 3], np.int32)),
                                                  ("s1", np.array([4, 1], np.int32))])
    c.add("broadcast_args_i64_empty", "BroadcastArgs", [("s0", np.zeros(0, np.int64)),
                                                        ("s1", np.array([0, 5], np.int64))])
    c.add("broadcast_args_bad", "BroadcastArgs", [("s0", np.array([2, 3], np.int32)),
                                                  ("s1", np.array([4, 3], np.int32))])
    bga = {"same_ones": ([1, 1], [1, 1]), "same": ([2, 3], [2, 3]), "pad_ones": ([1, 1, 3], [1, 3]),
           "mixed": ([2, 1, 3], [4, 1]), "scalar": ([], [2, 1]), "zero": ([0, 1], [1, 5]),
           "rank4": ([5, 1, 1, 7], [1, 6, 1, 7])}
    for name, (s0, s1) in bga.items():
        c.add(f"bga_{name}", "BroadcastGradientArgs", [("s0", np.array(s0, np.int32)),
                                                       ("s1", np.array(s1, np.int32))])
    c.add("bga_i64", "BroadcastGradientArgs", [("s0", np.array([3, 1], np.int64)),
                                               ("s1", np.array([1, 1, 4], np.int64))])
    c.add("bga_bad", "BroadcastGradientArgs", [("s0", np.array([2, 3], np.int32)),
                                               ("s1", np.array([4, 3], np.int32))])

    c.add("fill_f32", "Fill", [("dims", np.array([2, 3], np.int32)), ("value", np.float32(1.5))])
    c.add("fill_i64_dims_str", "Fill", [("dims", np.array([2], np.int64)), ("value", np.array(b"s"))])
    c.add("fill_scalar_bool", "Fill", [("dims", np.zeros(0, np.int32)), ("value", np.array(True))])
    c.add("fill_zero_dim", "Fill", [("dims", np.array([0, 3], np.int32)), ("value", np.int64(7))])
    c.add("fill_negative", "Fill", [("dims", np.array([2, -1], np.int32)), ("value", np.float32(1))])
    c.add("zeros_like_f16", "ZerosLike", [("x", x.astype(np.float16))])
    c.add("zeros_like_bool", "ZerosLike", [("x", np.array([True, False]))])
    c.add("zeros_like_str", "ZerosLike", [("x", STRS)])
    c.add("ones_like_f64", "OnesLike", [("x", x.astype(np.float64))])
    c.add("ones_like_i64", "OnesLike", [("x", np.arange(3, dtype=np.int64))])
    c.add("ones_like_bool", "OnesLike", [("x", np.array([[False]]))])

    ranges = {"i32": (0, 10, 3, np.int32), "i32_neg": (10, -3, -4, np.int32),
              "i64": (-5, 5, 2, np.int64), "f32": (0.3, 5.0, 0.7, np.float32),
              "f32_tenths": (0.0, 1.0, 0.1, np.float32), "f32_neg": (1.0, -2.0, -0.3, np.float32),
              "f64": (0.0, 1.0, 0.1, np.float64), "empty": (4, 4, 1, np.int32),
              "err_delta0": (1, 5, 0, np.int32), "err_up": (5, 1, 1, np.int32),
              "err_down": (1.0, 5.0, -1.0, np.float32)}
    for name, (start, limit, delta, dt) in ranges.items():
        c.add(f"range_{name}", "Range", [("start", np.array(start, dt)), ("limit", np.array(limit, dt)),
                                         ("delta", np.array(delta, dt))],
              record_only={"Tidx": tf.as_dtype(dt)})
    c.add("linspace_f32", "LinSpace", [("start", np.float32(0.3)), ("stop", np.float32(5.1)),
                                       ("num", np.int32(7))])
    c.add("linspace_f64_i64", "LinSpace", [("start", np.float64(-1)), ("stop", np.float64(1)),
                                           ("num", np.int64(10))])
    c.add("linspace_one", "LinSpace", [("start", np.float32(2)), ("stop", np.float32(9)),
                                       ("num", np.int32(1))])
    c.add("linspace_zero", "LinSpace", [("start", np.float32(2)), ("stop", np.float32(9)),
                                        ("num", np.int32(0))])


def join_cases(c: Cases) -> None:
    a, b = _f32(2, 3, seed=1), _f32(2, 4, seed=2)
    c.add("concat_v2_axis1", "ConcatV2", [("values", [a, b]), ("axis", np.int32(1))])
    c.add("concat_v2_axis0_three", "ConcatV2", [("values", [a, a * 2, np.zeros((0, 3), np.float32)]),
                                                ("axis", np.int32(0))])
    c.add("concat_v2_neg_axis_i64", "ConcatV2", [("values", [_i32(2, 2), _i32(2, 1)]),
                                                 ("axis", np.int64(-1))])
    c.add("concat_v2_str", "ConcatV2", [("values", [STRS, STRS[:1]]), ("axis", np.int32(0))])
    c.add("concat_v2_dim_mismatch", "ConcatV2", [("values", [a, b]), ("axis", np.int32(0))])
    c.add("concat_v2_bad_axis", "ConcatV2", [("values", [a, b]), ("axis", np.int32(5))])
    c.add("concat_v2_rank_mismatch", "ConcatV2", [("values", [a, _f32(3)]), ("axis", np.int32(0))])
    c.add("concat_v1", "Concat", [("concat_dim", np.int32(1)), ("values", [a, b])])
    c.add("concat_offset", "ConcatOffset", [("concat_dim", np.int32(1)),
                                            ("shape", [np.array([2, 3], np.int32), np.array([2, 5], np.int32),
                                                       np.array([2, 1], np.int32)])])
    c.add("concat_offset_neg_i64", "ConcatOffset", [("concat_dim", np.int32(-2)),
                                                    ("shape", [np.array([2, 3], np.int64),
                                                               np.array([4, 3], np.int64)])])
    c.add("concat_offset_bad", "ConcatOffset", [("concat_dim", np.int32(0)),
                                                ("shape", [np.array([2, 3], np.int32),
                                                           np.array([4, 2], np.int32)])])

    for axis in (0, 1, -1):
        c.add(f"pack_axis{axis}".replace("-", "m"), "Pack", [("values", [a, a + 1, a * 3])], {"axis": axis})
    c.add("pack_scalars", "Pack", [("values", [np.int64(1), np.int64(2)])], {"axis": 0})
    c.add("pack_str", "Pack", [("values", [STRS[0], STRS[1]])], {"axis": 1})
    c.add("pack_bad", "Pack", [("values", [_f32(2), _f32(3)])], {"axis": 0})
    for axis in (0, 1, -1):
        n = a.shape[axis]
        c.add(f"unpack_axis{axis}".replace("-", "m"), "Unpack", [("value", a)], {"num": n, "axis": axis})
    c.add("unpack_str", "Unpack", [("value", STRS)], {"num": 3, "axis": 1})

    v = _f32(4, 6, seed=3)
    c.add("split_axis0", "Split", [("axis", np.int32(0)), ("value", v)], {"num_split": 2})
    c.add("split_axis1", "Split", [("axis", np.int32(1)), ("value", v)], {"num_split": 3})
    c.add("split_neg", "Split", [("axis", np.int32(-1)), ("value", _i32(2, 4))], {"num_split": 4})
    c.add("split_one", "Split", [("axis", np.int32(0)), ("value", v)], {"num_split": 1})
    c.add("split_uneven", "Split", [("axis", np.int32(1)), ("value", _f32(2, 5))], {"num_split": 2})
    c.add("split_v_infer", "SplitV", [("value", v), ("size_splits", np.array([1, -1, 2], np.int32)),
                                      ("axis", np.int32(1))], {"num_split": 3})
    c.add("split_v_i64_zero_piece", "SplitV", [("value", v), ("size_splits", np.array([4, 0], np.int64)),
                                               ("axis", np.int32(0))], {"num_split": 2})
    c.add("split_v_str", "SplitV", [("value", STRS), ("size_splits", np.array([2, 1], np.int32)),
                                    ("axis", np.int32(-1))], {"num_split": 2})
    c.add("split_v_sum", "SplitV", [("value", _f32(2, 5)), ("size_splits", np.array([1, 7], np.int32)),
                                    ("axis", np.int32(1))], {"num_split": 2})
    c.add("split_v_two_unknown", "SplitV", [("value", _f32(2, 5)),
                                            ("size_splits", np.array([-1, -1], np.int32)),
                                            ("axis", np.int32(1))], {"num_split": 2})

    c.add("tile_2d", "Tile", [("input", a), ("multiples", np.array([2, 3], np.int32))])
    c.add("tile_zero_i64", "Tile", [("input", _i32(2, 2)), ("multiples", np.array([0, 2], np.int64))])
    c.add("tile_str", "Tile", [("input", STRS), ("multiples", np.array([1, 2], np.int32))])
    c.add("tile_bad", "Tile", [("input", a), ("multiples", np.array([1, 2, 3], np.int32))])

    c.add("pad_f32", "Pad", [("input", a), ("paddings", np.array([[1, 0], [2, 3]], np.int32))])
    c.add("pad_i64_paddings", "Pad", [("input", _i32(3)), ("paddings", np.array([[0, 2]], np.int64))])
    c.add("pad_scalar", "Pad", [("input", np.float32(3)), ("paddings", np.zeros((0, 2), np.int32))])
    c.add("pad_rank_mismatch", "Pad", [("input", a), ("paddings", np.array([[1, 1]], np.int32))])
    c.add("pad_negative", "Pad", [("input", a), ("paddings", np.array([[1, -1], [0, 0]], np.int32))])
    c.add("pad_v2", "PadV2", [("input", a), ("paddings", np.array([[0, 1], [1, 1]], np.int32)),
                              ("constant_values", np.float32(-7.5))])
    c.add("pad_v2_str", "PadV2", [("input", STRS), ("paddings", np.array([[1, 0], [0, 1]], np.int32)),
                                  ("constant_values", np.array(b"pad"))])
    m = np.arange(12, dtype=np.float32).reshape(3, 4)
    for mode in ("REFLECT", "SYMMETRIC"):
        low = mode.lower()
        c.add(f"mirror_pad_{low}", "MirrorPad", [("input", m),
                                                 ("paddings", np.array([[2, 1], [1, 3]], np.int32))],
              {"mode": mode})
        c.add(f"mirror_pad_{low}_1d_i64", "MirrorPad", [("input", np.arange(4, dtype=np.int64)),
                                                        ("paddings", np.array([[3, 2]], np.int64))],
              {"mode": mode})
        grad = _f32(7, 8, seed=4)
        c.add(f"mirror_pad_grad_{low}", "MirrorPadGrad",
              [("input", grad), ("paddings", np.array([[2, 1], [1, 3]], np.int32))], {"mode": mode})
    c.add("mirror_pad_reflect_too_big", "MirrorPad",
          [("input", m), ("paddings", np.array([[3, 0], [0, 0]], np.int32))], {"mode": "REFLECT"})
    c.add("mirror_pad_symmetric_too_big", "MirrorPad",
          [("input", m), ("paddings", np.array([[0, 4], [0, 0]], np.int32))], {"mode": "SYMMETRIC"})

    t3 = _f32(2, 3, 4, seed=5)
    c.add("transpose_2d", "Transpose", [("x", a), ("perm", np.array([1, 0], np.int32))])
    c.add("transpose_3d_i64", "Transpose", [("x", t3), ("perm", np.array([2, 0, 1], np.int64))])
    c.add("transpose_identity", "Transpose", [("x", t3), ("perm", np.array([0, 1, 2], np.int32))])
    c.add("transpose_str", "Transpose", [("x", STRS), ("perm", np.array([1, 0], np.int32))])
    c.add("transpose_bad", "Transpose", [("x", a), ("perm", np.array([0, 0], np.int32))])
    c.add("invert_permutation", "InvertPermutation", [("x", np.array([3, 0, 2, 1], np.int32))])
    c.add("invert_permutation_i64", "InvertPermutation", [("x", np.array([1, 0], np.int64))])
    c.add("invert_permutation_dup", "InvertPermutation", [("x", np.array([0, 0, 1], np.int32))])
    c.add("invert_permutation_range", "InvertPermutation", [("x", np.array([0, 3, 1], np.int32))])
    c.add("reverse_axis0", "ReverseV2", [("tensor", t3), ("axis", np.array([0], np.int32))])
    c.add("reverse_two_i64", "ReverseV2", [("tensor", t3), ("axis", np.array([-1, 1], np.int64))])
    c.add("reverse_none", "ReverseV2", [("tensor", a), ("axis", np.zeros(0, np.int32))])
    c.add("reverse_str", "ReverseV2", [("tensor", STRS), ("axis", np.array([1], np.int32))])
    c.add("reverse_dup", "ReverseV2", [("tensor", a), ("axis", np.array([0, -2], np.int32))])


def slicing_cases(c: Cases) -> None:
    x = _f32(4, 5, 6, seed=6)
    c.add("slice_basic", "Slice", [("input", x), ("begin", np.array([1, 0, 2], np.int32)),
                                   ("size", np.array([2, 5, 3], np.int32))])
    c.add("slice_minus_one_i64", "Slice", [("input", x), ("begin", np.array([1, 2, 0], np.int64)),
                                           ("size", np.array([-1, 2, -1], np.int64))])
    c.add("slice_empty", "Slice", [("input", x), ("begin", np.array([4, 0, 0], np.int32)),
                                   ("size", np.array([0, -1, -1], np.int32))])
    c.add("slice_str", "Slice", [("input", STRS), ("begin", np.array([1, 1], np.int32)),
                                 ("size", np.array([1, 2], np.int32))])
    c.add("slice_size_too_big", "Slice", [("input", _f32(2, 5)), ("begin", np.array([0, 3], np.int32)),
                                          ("size", np.array([1, 3], np.int32))])
    c.add("slice_begin_too_big", "Slice", [("input", _f32(2, 5)), ("begin", np.array([3, 0], np.int32)),
                                           ("size", np.array([0, 1], np.int32))])
    c.add("slice_wrong_length", "Slice", [("input", _f32(2, 5)), ("begin", np.array([0], np.int32)),
                                          ("size", np.array([1], np.int32))])

    # (begin, end, strides, masks) over x of shape (4, 5, 6)
    specs = {
        "basic": ([1], [3], [1], {}),
        "stride2": ([0, 1], [4, 5], [2, 2], {}),
        "reverse_all": ([0], [0], [-1], {"begin_mask": 1, "end_mask": 1}),
        "reverse_range": ([3, 4], [0, -6], [-1, -2], {}),
        "clamp": ([-100, 2], [100, 100], [1, 1], {}),
        "clamp_reverse": ([100], [-100], [-2], {}),
        "shrink": ([1, 2], [2, 3], [1, 1], {"shrink_axis_mask": 2}),
        "shrink_negative": ([-1], [0], [1], {"shrink_axis_mask": 1}),
        "shrink_all": ([1, 2, 3], [2, 3, 4], [1, 1, 1], {"shrink_axis_mask": 7}),
        "new_axis": ([0, 1], [0, 3], [1, 1], {"new_axis_mask": 1}),
        "ellipsis": ([0, 1], [0, 4], [1, 1], {"ellipsis_mask": 1}),
        "ellipsis_new_axis_after": ([0, 0, 2], [0, 0, 5], [1, 1, 1],
                                    {"ellipsis_mask": 1, "new_axis_mask": 2}),
        "ellipsis_middle": ([1, 0, 1], [2, 0, 3], [1, 1, 1], {"ellipsis_mask": 2, "shrink_axis_mask": 1}),
        "masks_mixed": ([2, 3, 1], [0, 1, 5], [-1, 1, 2], {"begin_mask": 2, "end_mask": 5}),
        "empty": ([3], [1], [1], {}),
        "new_and_shrink": ([0, 2], [0, 3], [1, 1], {"new_axis_mask": 1, "shrink_axis_mask": 3}),
        "stride_not_dividing": ([0], [5], [3], {}),
    }
    for name, (begin, end, strides, masks) in specs.items():
        args = [("begin", np.array(begin, np.int32)), ("end", np.array(end, np.int32)),
                ("strides", np.array(strides, np.int32))]
        c.add(f"strided_slice_{name}", "StridedSlice", [("input", x), *args], masks)
    c.add("strided_slice_i64_str", "StridedSlice",
          [("input", STRS), ("begin", np.array([0, -1], np.int64)), ("end", np.array([2, -4], np.int64)),
           ("strides", np.array([1, -1], np.int64))])
    c.add("strided_slice_scalar_new_axis", "StridedSlice",
          [("input", np.float32(4)), ("begin", np.zeros(1, np.int32)), ("end", np.zeros(1, np.int32)),
           ("strides", np.ones(1, np.int32))], {"new_axis_mask": 1})
    errors = {"shrink_out_of_bounds": ([7], [8], [1], {"shrink_axis_mask": 1}),
              "shrink_negative_stride": ([1], [0], [-1], {"shrink_axis_mask": 1}),
              "zero_stride": ([0], [1], [0], {}),
              "too_many_dims": ([0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 1, 1], {})}
    for name, (begin, end, strides, masks) in errors.items():
        c.add(f"strided_slice_{name}", "StridedSlice",
              [("input", x), ("begin", np.array(begin, np.int32)), ("end", np.array(end, np.int32)),
               ("strides", np.array(strides, np.int32))], masks)
    import tensorflow as tf
    for name in ("basic", "reverse_range", "shrink", "ellipsis_new_axis_after", "masks_mixed",
                 "new_and_shrink", "empty"):
        begin, end, strides, masks = specs[name]
        args = [np.array(begin, np.int32), np.array(end, np.int32), np.array(strides, np.int32)]
        dy = tf.raw_ops.StridedSlice(input=x, begin=args[0], end=args[1], strides=args[2], **masks)
        dy = _f32(*dy.shape, seed=7)
        c.add(f"strided_slice_grad_{name}", "StridedSliceGrad",
              [("shape", np.array(x.shape, np.int32)), ("begin", args[0]), ("end", args[1]),
               ("strides", args[2]), ("dy", dy)], masks)
    c.add("strided_slice_grad_bad_dy", "StridedSliceGrad",
          [("shape", np.array([4, 5], np.int32)), ("begin", np.array([1], np.int32)),
           ("end", np.array([3], np.int32)), ("strides", np.array([1], np.int32)),
           ("dy", _f32(3, 5))])
