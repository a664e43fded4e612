"""Op table for the array kernels (orchestrator/ops/{array,shape,join,slicing,index,partition}_ops.py),
made with real TF (eager ``tf.raw_ops``; Placeholder in a TF1 graph).

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
import re
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "ops"

# NodeDef attr name -> raw_ops keyword, where they differ.
_RAW_NAMES = {("Squeeze", "squeeze_dims"): "axis"}
# Inputs that raw_ops takes as one list keyword (flattened into the case's inputs).
_LIST_INPUTS = {"values", "data", "indices", "input", "shape", "tensor"}


class Cases:
    """Runs ops in TF and records them in an OpTable."""

    def __init__(self, table: Any):
        self.table = table

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
            self.table.add(case_id, op, recorded, flat, [], error=message,
                           match=match if match is not None else [message])
            return
        outputs = _outputs(result)
        bf16 = [x for x in flat + outputs if _is_bfloat16(x)]
        if bf16:   # npz cannot hold bfloat16: stored as its uint16 bits, flagged for the test
            flat = [_bits(x) for x in flat]
            outputs = [_bits(x) for x in outputs]
        self.table.add(case_id, op, recorded, flat, outputs, rtol=rtol, atol=atol,
                       **({"bfloat16_bits": True} if bf16 else {}))


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


def index_cases(c: Cases) -> None:
    p = _f32(5, 3, seed=8)
    c.add("gather_v1", "Gather", [("params", p), ("indices", np.array([[4, 0], [0, 2]], np.int32))])
    c.add("gather_v1_bad", "Gather", [("params", p), ("indices", np.array([1, 5], np.int32))])
    c.add("gather_v2_axis0_scalar", "GatherV2", [("params", p), ("indices", np.int64(3)),
                                                 ("axis", np.int32(0))])
    c.add("gather_v2_axis1", "GatherV2", [("params", p), ("indices", np.array([2, 2, 0], np.int32)),
                                          ("axis", np.int64(1))])
    c.add("gather_v2_axis_neg_str", "GatherV2", [("params", STRS), ("indices", np.array([[1], [2]], np.int32)),
                                                 ("axis", np.int32(-1))])
    b3 = _f32(2, 4, 3, seed=9)
    c.add("gather_v2_batch1_axis1", "GatherV2",
          [("params", b3), ("indices", np.array([[3, 0, 0], [1, 2, 3]], np.int32)), ("axis", np.int32(1))],
          {"batch_dims": 1})
    c.add("gather_v2_batch1_axis2", "GatherV2",
          [("params", b3), ("indices", np.array([[2, 0], [1, 1]], np.int64)), ("axis", np.int32(2))],
          {"batch_dims": 1})
    c.add("gather_v2_batch_neg", "GatherV2",
          [("params", b3), ("indices", np.array([[[0], [2], [1], [0]], [[1], [1], [2], [2]]], np.int32)),
           ("axis", np.int32(2))], {"batch_dims": -1})
    c.add("gather_v2_empty_indices", "GatherV2", [("params", p), ("indices", np.zeros((0, 2), np.int32)),
                                                  ("axis", np.int32(0))])
    c.add("gather_v2_bad_index", "GatherV2", [("params", p), ("indices", np.array([[0, 1], [5, 0]], np.int32)),
                                              ("axis", np.int32(0))])
    c.add("gather_v2_negative_index", "GatherV2", [("params", p), ("indices", np.array([-1], np.int64)),
                                                   ("axis", np.int32(1))])
    c.add("gather_nd_elems", "GatherNd", [("params", p), ("indices", np.array([[4, 2], [0, 0]], np.int32))])
    c.add("gather_nd_rows_i64", "GatherNd", [("params", p), ("indices", np.array([[1], [3], [1]], np.int64))])
    c.add("gather_nd_batched", "GatherNd", [("params", b3),
                                            ("indices", np.array([[[1, 3], [0, 0]], [[1, 1], [0, 2]]], np.int32))])
    c.add("gather_nd_str", "GatherNd", [("params", STRS), ("indices", np.array([[1, 0], [0, 2]], np.int32))])
    c.add("gather_nd_bad", "GatherNd", [("params", _f32(3, 2)), ("indices", np.array([[0, 1], [5, 0]], np.int32))],
          match=["indices[1] = [5, 0] does not index into param shape [3,2]"])

    dup = np.array([[3], [0], [3], [1]], np.int32)
    c.add("scatter_nd_dup", "ScatterNd", [("indices", dup), ("updates", _f32(4, 2)),
                                          ("shape", np.array([5, 2], np.int32))])
    c.add("scatter_nd_elems_i64", "ScatterNd", [("indices", np.array([[0, 1], [2, 0], [0, 1]], np.int64)),
                                                ("updates", np.array([1, 2, 3], np.int64)),
                                                ("shape", np.array([3, 2], np.int64))])
    c.add("scatter_nd_bad", "ScatterNd", [("indices", np.array([[0], [5]], np.int32)),
                                          ("updates", np.array([1, 2], np.float32)),
                                          ("shape", np.array([4], np.int32))])
    base = _f32(5, 2, seed=10)
    upd = _f32(4, 2, seed=11)
    for kind in ("Add", "Sub", "Max", "Min"):
        c.add(f"tensor_scatter_{kind.lower()}_dup", f"TensorScatter{kind}",
              [("tensor", base), ("indices", dup), ("updates", upd)])
    c.add("tensor_scatter_update", "TensorScatterUpdate",
          [("tensor", base), ("indices", np.array([[4], [0]], np.int64)), ("updates", upd[:2])])
    c.add("tensor_scatter_update_elems_i32", "TensorScatterUpdate",
          [("tensor", _i32(3, 3)), ("indices", np.array([[0, 0], [2, 1]], np.int32)),
           ("updates", np.array([100, -100], np.int32))])
    c.add("tensor_scatter_update_str", "TensorScatterUpdate",
          [("tensor", STRS), ("indices", np.array([[1, 2]], np.int32)), ("updates", np.array([b"new"]))])
    c.add("tensor_scatter_add_bad", "TensorScatterAdd",
          [("tensor", np.zeros(4, np.float32)), ("indices", np.array([[0], [5]], np.int32)),
           ("updates", np.array([1, 2], np.float32))])

    ix = np.array([[0, 2, -1], [5, 1, 1]], np.int32)
    for axis in (-1, 0, 1):
        c.add(f"one_hot_axis{axis}".replace("-", "m"), "OneHot",
              [("indices", ix), ("depth", np.int32(4)), ("on_value", np.float32(1)),
               ("off_value", np.float32(0))], {"axis": axis})
    c.add("one_hot_i64_values", "OneHot", [("indices", np.array([3, 0], np.int64)), ("depth", np.int32(3)),
                                           ("on_value", np.int64(5)), ("off_value", np.int64(-1))])
    c.add("one_hot_uint8_scalar", "OneHot", [("indices", np.uint8(2)), ("depth", np.int32(3)),
                                             ("on_value", np.float64(0.9)), ("off_value", np.float64(0.05))])
    c.add("one_hot_bad_depth", "OneHot", [("indices", ix), ("depth", np.int32(-2)),
                                          ("on_value", np.float32(1)), ("off_value", np.float32(0))])
    c.add("where_bool", "Where", [("condition", np.array([[True, False], [False, True], [True, True]]))])
    c.add("where_f32", "Where", [("condition", np.array([0.0, -1.5, 0.0, np.nan], np.float32))])
    c.add("where_i32_3d", "Where", [("condition", _i32(2, 2, 3) % 2)])
    c.add("where_scalar", "Where", [("condition", np.array(True))])
    c.add("where_empty", "Where", [("condition", np.zeros((0, 3), np.bool_))])

    band = _f32(2, 4, 5, seed=12)
    for lo, hi in ((-1, 0), (0, -1), (1, 2), (0, 0), (-1, -1)):
        c.add(f"band_part_{lo}_{hi}".replace("-", "m"), "MatrixBandPart",
              [("input", band), ("num_lower", np.int64(lo)), ("num_upper", np.int64(hi))])
    c.add("band_part_i32", "MatrixBandPart",
          [("input", _i32(3, 3)), ("num_lower", np.int32(0)), ("num_upper", np.int32(1))])
    c.add("band_part_bad", "MatrixBandPart",
          [("input", _f32(2, 3)), ("num_lower", np.int32(5)), ("num_upper", np.int32(0))])
    c.add("diag_1d", "Diag", [("diagonal", np.array([1, 2, 3], np.int32))])
    c.add("diag_2d", "Diag", [("diagonal", _f32(2, 2))])
    c.add("diag_part_2d", "DiagPart", [("input", _f32(3, 3))])
    c.add("diag_part_4d", "DiagPart", [("input", _f32(2, 3, 2, 3))])
    c.add("diag_part_bad", "DiagPart", [("input", _f32(2, 3))])


def partition_cases(c: Cases) -> None:
    import tensorflow as tf
    c.add("unique_i32", "Unique", [("x", np.array([4, 1, 4, 2, 1, 7], np.int32))], {"out_idx": tf.int32})
    c.add("unique_f32_nan_zero", "Unique", [("x", np.array([np.nan, 1, np.nan, -0.0, 0.0, 1], np.float32))],
          {"out_idx": tf.int64})
    c.add("unique_str", "Unique", [("x", np.array([b"b", b"a", b"b", b"", b"a"]))], {"out_idx": tf.int32})
    c.add("unique_empty", "Unique", [("x", np.zeros(0, np.int64))], {"out_idx": tf.int32})
    c.add("unique_with_counts", "UniqueWithCounts", [("x", np.array([3, 3, 1, 3, 2, 1], np.int64))],
          {"out_idx": tf.int64})
    c.add("unique_with_counts_f64", "UniqueWithCounts", [("x", np.array([0.5, -1, 0.5], np.float64))],
          {"out_idx": tf.int32})

    c.add("dynamic_partition_1d", "DynamicPartition",
          [("data", _f32(6)), ("partitions", np.array([1, 0, 2, 1, 1, 0], np.int32))], {"num_partitions": 4})
    c.add("dynamic_partition_rows", "DynamicPartition",
          [("data", _f32(4, 3)), ("partitions", np.array([1, 1, 0, 1], np.int32))], {"num_partitions": 2})
    c.add("dynamic_partition_2d_str", "DynamicPartition",
          [("data", STRS), ("partitions", np.array([[0, 1, 0], [1, 1, 0]], np.int32))], {"num_partitions": 2})
    c.add("dynamic_partition_bad", "DynamicPartition",
          [("data", _f32(3)), ("partitions", np.array([0, 1, 5], np.int32))], {"num_partitions": 2})

    for op in ("DynamicStitch", "ParallelDynamicStitch"):
        low = "dynamic_stitch" if op == "DynamicStitch" else "parallel_dynamic_stitch"
        c.add(f"{low}_rows", op,
              [("indices", [np.array([0, 3], np.int32), np.array([[1, 2]], np.int32)]),
               ("data", [_f32(2, 2, seed=13), _f32(1, 2, 2, seed=14)])])
        c.add(f"{low}_gap", op, [("indices", [np.array([0], np.int32), np.array([3], np.int32)]),
                                 ("data", [np.array([1.0], np.float32), np.array([2.0], np.float32)])])
    c.add("dynamic_stitch_dup_later_wins", "DynamicStitch",
          [("indices", [np.array([0, 1, 1], np.int32), np.array([1, 2], np.int32)]),
           ("data", [np.array([1, 2, 3], np.int64), np.array([4, 5], np.int64)])])
    c.add("dynamic_stitch_str", "DynamicStitch",
          [("indices", [np.array([2, 0], np.int32), np.array(1, np.int32)]),
           ("data", [np.array([b"c", b"a"]), np.array(b"b")])])
    c.add("dynamic_stitch_negative", "DynamicStitch",
          [("indices", [np.array([0, -1], np.int32), np.array([1], np.int32)]),
           ("data", [np.array([1.0, 5.0], np.float32), np.array([2.0], np.float32)])])


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


def space_cases(c: Cases) -> None:
    import tensorflow as tf
    img = np.arange(2 * 4 * 6 * 3, dtype=np.float32).reshape(2, 4, 6, 3)
    c.add("space_to_batch_nd", "SpaceToBatchND",
          [("input", img), ("block_shape", np.array([2, 3], np.int32)),
           ("paddings", np.array([[0, 0], [0, 0]], np.int32))])
    c.add("space_to_batch_nd_padded_i64", "SpaceToBatchND",
          [("input", img[..., :1]), ("block_shape", np.array([2, 4], np.int64)),
           ("paddings", np.array([[1, 1], [1, 1]], np.int64))])
    c.add("space_to_batch_nd_1d", "SpaceToBatchND",
          [("input", _i32(2, 5, 2)), ("block_shape", np.array([3], np.int32)),
           ("paddings", np.array([[1, 0]], np.int32))])
    c.add("space_to_batch_nd_not_divisible", "SpaceToBatchND",
          [("input", img), ("block_shape", np.array([3, 3], np.int32)),
           ("paddings", np.array([[0, 0], [0, 0]], np.int32))])
    c.add("batch_to_space_nd", "BatchToSpaceND",
          [("input", np.arange(12 * 2 * 2, dtype=np.float32).reshape(12, 2, 2, 1)),
           ("block_shape", np.array([2, 3], np.int32)), ("crops", np.array([[0, 0], [0, 0]], np.int32))])
    c.add("batch_to_space_nd_cropped", "BatchToSpaceND",
          [("input", _f32(8, 3, 2, 2)), ("block_shape", np.array([2, 2], np.int64)),
           ("crops", np.array([[1, 0], [0, 1]], np.int64))])
    c.add("batch_to_space_nd_bad_batch", "BatchToSpaceND",
          [("input", _f32(3, 2, 2, 1)), ("block_shape", np.array([2, 2], np.int32)),
           ("crops", np.array([[0, 0], [0, 0]], np.int32))])
    c.add("space_to_depth", "SpaceToDepth", [("input", img)], {"block_size": 2})
    c.add("space_to_depth_bad", "SpaceToDepth", [("input", img)], {"block_size": 4})
    c.add("depth_to_space", "DepthToSpace", [("input", _f32(2, 2, 3, 8))], {"block_size": 2})
    c.add("depth_to_space_bad", "DepthToSpace", [("input", _f32(2, 2, 3, 6))], {"block_size": 2})
    seq = np.arange(2 * 3 * 4).reshape(2, 3, 4).astype(np.float32)
    c.add("reverse_sequence", "ReverseSequence",
          [("input", seq), ("seq_lengths", np.array([2, 4], np.int64))], {"seq_dim": 2, "batch_dim": 0})
    c.add("reverse_sequence_batch_after_seq", "ReverseSequence",
          [("input", seq), ("seq_lengths", np.array([0, 1, 3, 2], np.int32))], {"seq_dim": 1, "batch_dim": 2})
    c.add("reverse_sequence_too_long", "ReverseSequence",
          [("input", seq), ("seq_lengths", np.array([2, 5], np.int64))], {"seq_dim": 2, "batch_dim": 0})
    c.add("list_diff", "ListDiff", [("x", np.array([1, 2, 3, 4, 2, 5], np.int32)),
                                    ("y", np.array([2, 5, 7], np.int32))], {"out_idx": tf.int64})
    c.add("list_diff_str", "ListDiff", [("x", np.array([b"a", b"b", b"c"])), ("y", np.array([b"b"]))],
          {"out_idx": tf.int32})
    c.add("reverse_v1", "Reverse", [("tensor", _f32(2, 3, 4)), ("dims", np.array([True, False, True]))])
    c.add("reverse_v1_bad", "Reverse", [("tensor", _f32(2, 3)), ("dims", np.array([True, False, True]))])


def diag_cases(c: Cases) -> None:
    d = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
    batch = _f32(2, 3, 4, seed=15)
    m = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for align in ("RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT", "RIGHT_RIGHT"):
        low = align.lower()
        c.add(f"matrix_diag_v3_band_{low}", "MatrixDiagV3",
              [("diagonal", d), ("k", np.array([-1, 1], np.int32)), ("num_rows", np.int32(-1)),
               ("num_cols", np.int32(-1)), ("padding_value", np.float32(0))], {"align": align})
        c.add(f"matrix_diag_part_v3_{low}", "MatrixDiagPartV3",
              [("input", m), ("k", np.array([-1, 2], np.int32)), ("padding_value", np.float32(9))],
              {"align": align})
        c.add(f"matrix_set_diag_v3_{low}", "MatrixSetDiagV3",
              [("input", m), ("diagonal", _f32(2, 3, 3, seed=16)), ("k", np.array([-2, 0], np.int32))],
              {"align": align})
    c.add("matrix_diag_v3_single_rect", "MatrixDiagV3",
          [("diagonal", batch[:, 0, :3]), ("k", np.int32(1)), ("num_rows", np.int32(3)),
           ("num_cols", np.int32(-1)), ("padding_value", np.float32(-1))])
    c.add("matrix_diag_v3_i64_wide", "MatrixDiagV3",
          [("diagonal", np.array([[1, 2], [3, 4]], np.int64)), ("k", np.array([-1, 0], np.int32)),
           ("num_rows", np.int32(-1)), ("num_cols", np.int32(4)), ("padding_value", np.int64(7))])
    c.add("matrix_diag_v3_bad_k", "MatrixDiagV3",
          [("diagonal", d), ("k", np.array([1, -1], np.int32)), ("num_rows", np.int32(-1)),
           ("num_cols", np.int32(-1)), ("padding_value", np.float32(0))])
    c.add("matrix_diag_v2_band", "MatrixDiagV2",
          [("diagonal", d), ("k", np.array([-1, 1], np.int32)), ("num_rows", np.int32(-1)),
           ("num_cols", np.int32(-1)), ("padding_value", np.float32(0))])
    c.add("matrix_diag_part_v2_band", "MatrixDiagPartV2",
          [("input", m), ("k", np.array([-2, 1], np.int32)), ("padding_value", np.float32(0))])
    c.add("matrix_set_diag_v2_band", "MatrixSetDiagV2",
          [("input", m), ("diagonal", _f32(2, 2, 3, seed=17)), ("k", np.array([0, 1], np.int32))])
    c.add("matrix_diag_part_v3_out_of_bound", "MatrixDiagPartV3",
          [("input", m[0]), ("k", np.array([-5, 2], np.int32)), ("padding_value", np.float32(0))])
    c.add("matrix_diag_v1", "MatrixDiag", [("diagonal", batch)])
    c.add("matrix_diag_v1_scalar", "MatrixDiag", [("diagonal", np.float32(1))])
    c.add("matrix_diag_part_v1", "MatrixDiagPart", [("input", m)])
    c.add("matrix_set_diag_v1", "MatrixSetDiag", [("input", m), ("diagonal", _f32(2, 3, seed=18))])
    c.add("matrix_set_diag_v1_bad", "MatrixSetDiag", [("input", m[0]), ("diagonal", _f32(4))])

    c.add("sparse_to_dense_2d", "SparseToDense",
          [("sparse_indices", np.array([[0, 1], [2, 0]], np.int32)), ("output_shape", np.array([3, 3], np.int32)),
           ("sparse_values", np.array([5, 6], np.float32)), ("default_value", np.float32(-1))],
          {"validate_indices": True})
    c.add("sparse_to_dense_1d_scalar_value_i64", "SparseToDense",
          [("sparse_indices", np.array([1, 3], np.int64)), ("output_shape", np.array([5], np.int64)),
           ("sparse_values", np.int32(7)), ("default_value", np.int32(0))], {"validate_indices": True})
    c.add("sparse_to_dense_scalar_index", "SparseToDense",
          [("sparse_indices", np.int32(2)), ("output_shape", np.array([4], np.int32)),
           ("sparse_values", np.array(True)), ("default_value", np.array(False))], {"validate_indices": True})
    c.add("sparse_to_dense_unsorted_unvalidated", "SparseToDense",
          [("sparse_indices", np.array([[2, 0], [0, 1]], np.int32)), ("output_shape", np.array([3, 3], np.int32)),
           ("sparse_values", np.array([5, 6], np.float32)), ("default_value", np.float32(0))],
          {"validate_indices": False})
    for name, rows, validate in (("unsorted", [[2, 0], [0, 1]], True), ("repeated", [[0, 1], [0, 1]], True),
                                 ("out_of_bounds", [[0, 1], [3, 1]], False),
                                 ("out_of_bounds_validated", [[0, 1], [3, 1]], True)):
        c.add(f"sparse_to_dense_{name}", "SparseToDense",
              [("sparse_indices", np.array(rows, np.int32)), ("output_shape", np.array([3, 3], np.int32)),
               ("sparse_values", np.array([5, 6], np.float32)), ("default_value", np.float32(0))],
              {"validate_indices": validate},
              match=["is out of order. Many sparse ops require sorted indices."] if name == "unsorted" else None)


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
              [out.numpy()], printed=printed)


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
        table.add(case_id, "Placeholder", {"dtype": dtype, "shape": shape}, [], [], error=message,
                  match=[message], node="inputs/x")


def build(out_dir: Path = OUT, only: set[str] | None = None) -> None:
    from ops_state import OpTable   # noqa: PLC0415 (sibling script)
    table = OpTable("array", only)
    cases = Cases(table)
    pass_through_cases(cases)
    shape_cases(cases)
    join_cases(cases)
    slicing_cases(cases)
    random_strided_slice_cases(cases)
    random_cases(cases)
    index_cases(cases)
    partition_cases(cases)
    space_cases(cases)
    diag_cases(cases)
    dtype_cases(cases)
    placeholder_cases(table)
    print_cases(table)
    table.write(out_dir)


if __name__ == "__main__":
    build(OUT, set(sys.argv[1:]) or None)
