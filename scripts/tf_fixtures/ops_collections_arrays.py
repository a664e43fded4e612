"""TensorArray cases of the collections op table (see ops_collections.py for the format)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ops_collections import Program, Ref, _f32, _i32, _i64, run
from ops_state import OpTable


def tensor_array_cases(table: OpTable) -> None:
    import tensorflow as tf

    def ta(p: Program, size: int, dtype: Any = tf.float32, **attrs: Any) -> tuple[Ref, Ref]:
        r = p.op("TensorArrayV3", size=_i32(size), dtype=dtype, **attrs)
        return r[0], r[1]

    def write(p, h, i, value, flow):
        return p.op("TensorArrayWriteV3", handle=h, index=_i32(i), value=value, flow_in=flow)

    def read(p, h, i, flow, dtype=tf.float32):
        return p.op("TensorArrayReadV3", handle=h, index=_i32(i), flow_in=flow, dtype=dtype)

    # write / read, dtypes
    for name, dtype, value in [("f32", tf.float32, _f32((2,))), ("f64", tf.float64, _f32((2,)).astype(np.float64)),
                               ("f16", tf.float16, _f32((2,)).astype(np.float16)),
                               ("i32", tf.int32, _i32([3, -4])), ("i64", tf.int64, _i64([5, -6])),
                               ("bool", tf.bool, np.array([True, False]))]:
        p = Program(f"ta_write_read_{name}", "TensorArrayReadV3")
        h, f = ta(p, 3, dtype, element_shape=tf.TensorShape([2]))
        f = write(p, h, 0, value, f)
        f = write(p, h, 2, value[::-1].copy(), f)
        p.get(read(p, h, 2, f, dtype), read(p, h, 0, f, dtype), read(p, h, 1, f, dtype))
        run(table, p)

    p = Program("ta_read_unwritten_unknown_shape", "TensorArrayReadV3")
    h, f = ta(p, 2)
    p.get(read(p, h, 1, f))
    run(table, p)

    p = Program("ta_read_out_of_range", "TensorArrayReadV3")
    h, f = ta(p, 2, element_shape=tf.TensorShape([2]))
    p.get(read(p, h, 2, f))
    run(table, p)

    p = Program("ta_write_twice", "TensorArrayWriteV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    write(p, h, 0, _f32((2,)), f)
    run(table, p)

    p = Program("ta_read_twice_cleared", "TensorArrayReadV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    r = read(p, h, 0, f)
    read(p, h, 0, f)
    p.get(r)
    run(table, p)

    p = Program("ta_read_twice_kept", "TensorArrayReadV3")
    h, f = ta(p, 2, clear_after_read=False)
    f = write(p, h, 0, _f32((2,)), f)
    p.get(read(p, h, 0, f), read(p, h, 0, f))
    run(table, p)

    p = Program("ta_write_after_read", "TensorArrayWriteV3")
    h, f = ta(p, 2, element_shape=tf.TensorShape([2]))
    read(p, h, 1, f)
    write(p, h, 1, _f32((2,)), f)
    run(table, p)

    p = Program("ta_write_out_of_range", "TensorArrayWriteV3")
    h, f = ta(p, 2)
    write(p, h, 2, _f32((2,)), f)
    run(table, p)

    p = Program("ta_write_negative_dynamic", "TensorArrayWriteV3")
    h, f = ta(p, 0, dynamic_size=True)
    write(p, h, -1, _f32((2,)), f)
    run(table, p)

    p = Program("ta_write_wrong_dtype", "TensorArrayWriteV3")
    h, f = ta(p, 2)
    write(p, h, 0, _i32([1, 2]), f)
    run(table, p)

    p = Program("ta_read_wrong_dtype", "TensorArrayReadV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    read(p, h, 0, f, tf.int32)
    run(table, p)

    p = Program("ta_write_shape_mismatch", "TensorArrayWriteV3")
    h, f = ta(p, 2, element_shape=tf.TensorShape([2]))
    write(p, h, 0, _f32((3,)), f)
    run(table, p)

    p = Program("ta_identical_shapes_infer", "TensorArrayWriteV3")
    h, f = ta(p, 2, identical_element_shapes=True)
    f = write(p, h, 0, _f32((2, 3)), f)
    write(p, h, 1, _f32((3, 3)), f)
    run(table, p)

    p = Program("ta_identical_shapes_zero_read", "TensorArrayReadV3")
    h, f = ta(p, 2, identical_element_shapes=True)
    f = write(p, h, 0, _f32((2, 3)), f)
    p.get(read(p, h, 1, f))
    run(table, p)

    p = Program("ta_dynamic_grow", "TensorArraySizeV3")
    h, f = ta(p, 0, dynamic_size=True, element_shape=tf.TensorShape([2]), clear_after_read=False)
    f = write(p, h, 3, _f32((2,)), f)
    size = p.op("TensorArraySizeV3", handle=h, flow_in=f)
    gathered = p.op("TensorArrayGatherV3", handle=h, indices=_i32([3, 0, 1]), flow_in=f, dtype=tf.float32,
                    element_shape=tf.TensorShape(None))
    p.get(size, gathered)
    run(table, p)

    # gather
    p = Program("ta_gather_order", "TensorArrayGatherV3")
    h, f = ta(p, 3, clear_after_read=False)
    for i in range(3):
        f = write(p, h, i, _f32((2, 2), i * 10.0), f)
    p.get(p.op("TensorArrayGatherV3", handle=h, indices=_i32([2, 0, 2]), flow_in=f, dtype=tf.float32,
               element_shape=tf.TensorShape([2, 2])))
    run(table, p)

    p = Program("ta_gather_inconsistent", "TensorArrayGatherV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    f = write(p, h, 1, _f32((3,)), f)
    p.op("TensorArrayGatherV3", handle=h, indices=_i32([0, 1]), flow_in=f, dtype=tf.float32,
         element_shape=tf.TensorShape(None))
    run(table, p)

    p = Program("ta_gather_element_shape_mismatch", "TensorArrayGatherV3")
    h, f = ta(p, 1)
    f = write(p, h, 0, _f32((2,)), f)
    p.op("TensorArrayGatherV3", handle=h, indices=_i32([0]), flow_in=f, dtype=tf.float32,
         element_shape=tf.TensorShape([3]))
    run(table, p)

    p = Program("ta_gather_element_shape_conflict", "TensorArrayGatherV3")
    h, f = ta(p, 1, element_shape=tf.TensorShape([2]))
    f = write(p, h, 0, _f32((2,)), f)
    p.op("TensorArrayGatherV3", handle=h, indices=_i32([0]), flow_in=f, dtype=tf.float32,
         element_shape=tf.TensorShape([3]))
    run(table, p)

    p = Program("ta_gather_empty", "TensorArrayGatherV3")
    h, f = ta(p, 0)
    p.get(p.op("TensorArrayGatherV3", handle=h, indices=_i32([]), flow_in=f, dtype=tf.float32,
               element_shape=tf.TensorShape([2, 3])))
    run(table, p)

    p = Program("ta_gather_empty_unknown_shape", "TensorArrayGatherV3")
    h, f = ta(p, 0)
    p.op("TensorArrayGatherV3", handle=h, indices=_i32([]), flow_in=f, dtype=tf.float32,
         element_shape=tf.TensorShape(None))
    run(table, p)

    # scatter
    p = Program("ta_scatter_read", "TensorArrayScatterV3")
    h, f = ta(p, 4, element_shape=tf.TensorShape([2]), clear_after_read=False)
    f = p.op("TensorArrayScatterV3", handle=h, indices=_i32([2, 0, 3]), value=_f32((3, 2)), flow_in=f)
    p.get(read(p, h, 0, f), read(p, h, 1, f),
          p.op("TensorArrayGatherV3", handle=h, indices=_i32([0, 1, 2, 3]), flow_in=f, dtype=tf.float32,
               element_shape=tf.TensorShape([2])))
    run(table, p)

    for name, idx, value, size, dyn in [("len_mismatch", [0, 1], _f32((3, 2)), 4, False),
                                        ("max_index", [0, 4], _f32((2, 2)), 4, False),
                                        ("negative_index", [1, -1], _f32((2, 2)), 4, False),
                                        ("scalar_value", [0], np.float32(1), 4, False),
                                        ("duplicate_index", [1, 1], _f32((2, 2)), 4, False)]:
        p = Program(f"ta_scatter_{name}", "TensorArrayScatterV3")
        h, f = ta(p, size, dynamic_size=dyn)
        p.op("TensorArrayScatterV3", handle=h, indices=_i32(idx), value=value, flow_in=f)
        run(table, p)

    p = Program("ta_scatter_dynamic_grow", "TensorArrayScatterV3")
    h, f = ta(p, 1, dynamic_size=True)
    f = p.op("TensorArrayScatterV3", handle=h, indices=_i32([4, 1]), value=_f32((2, 3)), flow_in=f)
    p.get(p.op("TensorArraySizeV3", handle=h, flow_in=f), read(p, h, 4, f))
    run(table, p)

    # concat / split
    p = Program("ta_concat", "TensorArrayConcatV3")
    h, f = ta(p, 3)
    for i, rows in enumerate([2, 1, 0]):
        f = write(p, h, i, _f32((rows, 3), i), f)
    c = p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32,
             element_shape_except0=tf.TensorShape([3]))
    p.get(c[0], c[1])
    run(table, p)

    p = Program("ta_concat_inconsistent", "TensorArrayConcatV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2, 3)), f)
    f = write(p, h, 1, _f32((2, 4)), f)
    p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32, element_shape_except0=tf.TensorShape(None))
    run(table, p)

    p = Program("ta_concat_scalar", "TensorArrayConcatV3")
    h, f = ta(p, 1)
    f = write(p, h, 0, np.float32(2), f)
    p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32, element_shape_except0=tf.TensorShape(None))
    run(table, p)

    p = Program("ta_concat_empty", "TensorArrayConcatV3")
    h, f = ta(p, 0)
    c = p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32,
             element_shape_except0=tf.TensorShape([3]))
    p.get(c[0], c[1])
    run(table, p)

    p = Program("ta_concat_unwritten_known_shape", "TensorArrayConcatV3")
    h, f = ta(p, 2, element_shape=tf.TensorShape([2, 3]))
    f = write(p, h, 1, _f32((2, 3)), f)
    c = p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32,
             element_shape_except0=tf.TensorShape([3]))
    p.get(c[0], c[1])
    run(table, p)

    p = Program("ta_split", "TensorArraySplitV3")
    h, f = ta(p, 3, clear_after_read=False)
    f = p.op("TensorArraySplitV3", handle=h, value=_f32((5, 2)), lengths=_i64([2, 0, 3]), flow_in=f)
    c = p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32,
             element_shape_except0=tf.TensorShape(None))
    p.get(read(p, h, 0, f), read(p, h, 1, f), read(p, h, 2, f), c[0], c[1])
    run(table, p)

    for name, size, dyn, value, lengths in [("bad_sum", 2, False, _f32((5, 2)), [2, 2]),
                                            ("size_mismatch", 2, False, _f32((5, 2)), [1, 1, 3]),
                                            ("scalar_value", 1, False, np.float32(3), [1]),
                                            ("dynamic_too_big", 4, True, _f32((5, 2)), [2, 3])]:
        p = Program(f"ta_split_{name}", "TensorArraySplitV3")
        h, f = ta(p, size, dynamic_size=dyn)
        p.op("TensorArraySplitV3", handle=h, value=value, lengths=_i64(lengths), flow_in=f)
        run(table, p)

    p = Program("ta_split_dynamic_grow", "TensorArraySplitV3")
    h, f = ta(p, 0, dynamic_size=True)
    f = p.op("TensorArraySplitV3", handle=h, value=_f32((3,)), lengths=_i64([1, 2]), flow_in=f)
    p.get(p.op("TensorArraySizeV3", handle=h, flow_in=f), read(p, h, 1, f))
    run(table, p)

    # size / close
    p = Program("ta_close_then_read", "TensorArrayCloseV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    p.op("TensorArrayCloseV3", handle=h)
    read(p, h, 0, f)
    run(table, p)

    p = Program("ta_close_then_size", "TensorArrayCloseV3")
    h, f = ta(p, 2)
    p.op("TensorArrayCloseV3", handle=h)
    p.op("TensorArraySizeV3", handle=h, flow_in=f)
    run(table, p)

    p = Program("ta_size_negative", "TensorArrayV3")
    ta(p, -1)
    run(table, p)

    # gradients
    p = Program("ta_grad_aggregate", "TensorArrayGradV3")
    h, f = ta(p, 3, element_shape=tf.TensorShape([2]))
    for i in range(3):
        f = write(p, h, i, _f32((2,), i), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    gh, gf = g[0], g[1]
    gf = write(p, gh, 1, _f32((2,), 1.0), gf)
    gf = write(p, gh, 1, _f32((2,), 10.0), gf)
    gf = write(p, gh, 1, _f32((2,), 100.0), gf)
    g2 = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")   # the same array again
    gathered = p.op("TensorArrayGatherV3", handle=g2[0], indices=_i32([0, 1, 2]), flow_in=gf,
                    dtype=tf.float32, element_shape=tf.TensorShape(None))
    p.get(gathered, p.op("TensorArraySizeV3", handle=gh, flow_in=gf))
    run(table, p)

    p = Program("ta_grad_read_twice", "TensorArrayGradV3")   # gradient arrays clear after read
    h, f = ta(p, 2, element_shape=tf.TensorShape([2]), clear_after_read=False)
    f = write(p, h, 0, _f32((2,)), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    read(p, g[0], 0, g[1])
    read(p, g[0], 0, g[1])
    run(table, p)

    p = Program("ta_grad_unwritten_forward_shapes", "TensorArrayGradV3")
    h, f = ta(p, 3)   # element shape unknown: the grad knows only the written forward shapes
    f = write(p, h, 0, _f32((2, 2)), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    p.get(read(p, g[0], 0, g[1]))
    read(p, g[0], 1, g[1])
    run(table, p)

    p = Program("ta_grad_read_past_size", "TensorArrayGradV3")
    h, f = ta(p, 2, element_shape=tf.TensorShape([3]))
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    r = read(p, g[0], 4, g[1])
    p.get(r, p.op("TensorArraySizeV3", handle=g[0], flow_in=g[1]))
    run(table, p)

    p = Program("ta_grad_aggregate_shape_mismatch", "TensorArrayGradV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    gf = write(p, g[0], 0, _f32((2,)), g[1])
    write(p, g[0], 0, _f32((3,)), gf)
    run(table, p)

    p = Program("ta_grad_stops_growth", "TensorArrayGradV3")
    h, f = ta(p, 1, dynamic_size=True)
    f = write(p, h, 0, _f32((2,)), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    write(p, h, 1, _f32((2,)), g[1])
    run(table, p)

    p = Program("ta_grad_of_aggregated", "TensorArrayGradV3")
    h, f = ta(p, 1, element_shape=tf.TensorShape([2]))
    f = write(p, h, 0, _f32((2,)), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    gf = write(p, g[0], 0, _f32((2,)), g[1])
    gf = write(p, g[0], 0, _f32((2,)), gf)
    p.op("TensorArrayGradV3", handle=g[0], flow_in=gf, source="gradients_1")
    run(table, p)

    p = Program("ta_grad_split_concat", "TensorArrayGradV3")   # split sets the grad's concat size
    h, f = ta(p, 2)
    f = p.op("TensorArraySplitV3", handle=h, value=_f32((3, 2)), lengths=_i64([1, 2]), flow_in=f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    gf = write(p, g[0], 1, _f32((2, 2), 7.0), g[1])
    c = p.op("TensorArrayConcatV3", handle=g[0], flow_in=gf, dtype=tf.float32,
             element_shape_except0=tf.TensorShape(None))
    p.get(c[0], c[1])
    run(table, p)

    p = Program("ta_grad_with_shape", "TensorArrayGradWithShape")
    h, f = ta(p, 2, element_shape=tf.TensorShape([2]))
    f = write(p, h, 0, _f32((2,)), f)
    g = p.op("TensorArrayGradWithShape", handle=h, flow_in=f, shape_to_prepend=_i32([3]), source="g")
    gf = write(p, g[0], 0, _f32((3, 2), 1.0), g[1])
    gf = write(p, g[0], 0, _f32((3, 2), 2.0), gf)
    p.get(read(p, g[0], 0, gf), read(p, g[0], 1, gf))
    run(table, p)
