"""Index, partition, space and diagonal cases of the array op table (see ops_array.py)."""
from __future__ import annotations

import numpy as np

from ops_array_cases import STRS, Cases, _f32, _i32  # noqa: E402 (sibling script)


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
    c.add("scatter_nd_non_aliasing_add", "ScatterNdNonAliasingAdd",
          [("input", base), ("indices", dup), ("updates", upd)])
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


def misc_cases(c: Cases) -> None:
    import tensorflow as tf
    c.add("bitcast_same_size", "Bitcast", [("input", np.array([1.0, -2.0], np.float32))], {"type": tf.int32})
    c.add("bitcast_split", "Bitcast", [("input", np.array([1.0, -0.5], np.float64))], {"type": tf.int16})
    c.add("bitcast_merge", "Bitcast", [("input", np.array([[1, 2], [3, 4]], np.int32))], {"type": tf.int64})
    c.add("bitcast_f16_u8", "Bitcast", [("input", np.array([[1.5], [-3]], np.float16))], {"type": tf.uint8})
    c.add("bitcast_bad_last_dim", "Bitcast", [("input", np.array([1, 2, 3], np.int32))], {"type": tf.int64})
    c.add("bitcast_scalar_bad", "Bitcast", [("input", np.int32(1))], {"type": tf.int64})
    c.add("unravel_index", "UnravelIndex", [("indices", np.array([1, 7, 11], np.int32)),
                                            ("dims", np.array([3, 4], np.int32))])
    c.add("unravel_index_scalar_i64", "UnravelIndex", [("indices", np.int64(5)),
                                                       ("dims", np.array([3, 4], np.int64))])
    c.add("unravel_index_bad", "UnravelIndex", [("indices", np.array([12], np.int32)),
                                                ("dims", np.array([3, 4], np.int32))])
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    c.add("roll_repeated_axis", "Roll", [("input", x[0]), ("shift", np.array([1, -2, 3], np.int32)),
                                         ("axis", np.array([0, 1, 0], np.int32))])
    c.add("roll_scalar_neg_axis_i64", "Roll", [("input", x), ("shift", np.int64(-5)), ("axis", np.int64(-1))])
    c.add("roll_str", "Roll", [("input", STRS), ("shift", np.int32(1)), ("axis", np.int32(1))])
    c.add("roll_size_mismatch", "Roll", [("input", x), ("shift", np.array([1, 2], np.int32)),
                                         ("axis", np.array([0], np.int32))])
    c.add("roll_bad_axis", "Roll", [("input", x), ("shift", np.int32(1)), ("axis", np.int32(5))])
    c.add("guarantee_const", "GuaranteeConst", [("input", x)])
