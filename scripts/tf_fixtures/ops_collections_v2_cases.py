"""TensorArray*V2 and TensorListConcatLists cases of the collections op table (see
ops_collections.py for the format).

TF 2.21 refuses TensorArray*V2 in graphs of GraphDef producer >= 26 ("removed in version
26"), so those programs are built in a graph whose producer is lowered to 21 (what TF 1.0
wrote), as an old meta graph would have it. The V2 creation op has no flow output: the
first ``flow_in`` is a float constant, as old graphs fed it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ops_collections import Program, Ref, _f32, _i32, run
from ops_state import OpTable

OLD_PRODUCER = 21


def tensor_array_v2_cases(table: OpTable) -> None:
    import tensorflow as tf
    f32 = tf.float32
    flow = np.float32(0.0)

    def program(case_id: str, main_op: str) -> Program:
        return Program(case_id, main_op, graph_producer=OLD_PRODUCER)

    def ta(p: Program, size: int, dtype: Any = f32, **attrs: Any) -> Ref:
        return p.op("TensorArrayV2", size=_i32(size), dtype=dtype, **attrs)

    def write(p, h, i, value, flow_in):
        return p.op("TensorArrayWriteV2", handle=h, index=_i32(i), value=value, flow_in=flow_in)

    def read(p, h, i, flow_in, dtype=f32):
        return p.op("TensorArrayReadV2", handle=h, index=_i32(i), flow_in=flow_in, dtype=dtype)

    p = program("ta_v2_write_read_size", "TensorArrayReadV2")
    h = ta(p, 3, element_shape=tf.TensorShape([2]))
    f = write(p, h, 0, _f32((2,)), flow)
    f = write(p, h, 2, _f32((2,), 7.0), f)
    p.get(read(p, h, 2, f), read(p, h, 0, f), read(p, h, 1, f),
          p.op("TensorArraySizeV2", handle=h, flow_in=f), f)
    run(table, p)

    p = program("ta_v2_scatter_gather", "TensorArrayGatherV2")
    h = ta(p, 3, tf.int32, element_shape=tf.TensorShape([2]))
    f = p.op("TensorArrayScatterV2", handle=h, indices=_i32([2, 0]), value=_i32([[1, 2], [3, 4]]), flow_in=flow)
    p.get(p.op("TensorArrayGatherV2", handle=h, indices=_i32([0, 2, 1]), flow_in=f, dtype=tf.int32,
               element_shape=tf.TensorShape([2])))
    run(table, p)

    p = program("ta_v2_split_concat", "TensorArrayConcatV2")
    h = ta(p, 2)
    f = p.op("TensorArraySplitV2", handle=h, value=_f32((5, 2)), lengths=np.array([2, 3], np.int64), flow_in=flow)
    c = p.op("TensorArrayConcatV2", handle=h, flow_in=f, dtype=f32, element_shape_except0=tf.TensorShape([2]))
    p.get(c[0], c[1])
    run(table, p)

    p = program("ta_v2_grad_aggregates", "TensorArrayGradV2")
    h = ta(p, 2, element_shape=tf.TensorShape([2]))
    f = write(p, h, 0, _f32((2,)), flow)
    r = read(p, h, 0, f)
    g = p.op("TensorArrayGradV2", handle=h, flow_in=f, source="gradients")
    gf = write(p, g, 0, _f32((2,), 10.0), f)
    gf = write(p, g, 0, _f32((2,), 20.0), gf)
    p.get(r, read(p, g, 0, gf), read(p, g, 1, gf), p.op("TensorArraySizeV2", handle=g, flow_in=gf))
    run(table, p)

    p = program("ta_v2_dynamic_grow", "TensorArraySizeV2")
    h = ta(p, 1, dynamic_size=True, element_shape=tf.TensorShape([2]))
    f = write(p, h, 3, _f32((2,)), flow)
    p.get(p.op("TensorArraySizeV2", handle=h, flow_in=f), read(p, h, 3, f), read(p, h, 1, f))
    run(table, p)

    # errors
    p = program("ta_v2_negative_size", "TensorArrayV2")
    ta(p, -1)
    run(table, p)

    p = program("ta_v2_write_twice", "TensorArrayWriteV2")
    h = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), flow)
    write(p, h, 0, _f32((2,)), f)
    run(table, p)

    p = program("ta_v2_read_out_of_range", "TensorArrayReadV2")
    h = ta(p, 2, element_shape=tf.TensorShape([2]))
    read(p, h, 2, flow)
    run(table, p)

    p = program("ta_v2_write_wrong_dtype", "TensorArrayWriteV2")
    h = ta(p, 2)
    write(p, h, 0, _i32([1, 2]), flow)
    run(table, p)

    p = program("ta_v2_read_after_close", "TensorArrayCloseV2")
    h = ta(p, 2, element_shape=tf.TensorShape([2]))
    p.op("TensorArrayCloseV2", handle=h)
    read(p, h, 0, flow)
    run(table, p)

    p = program("ta_v2_scatter_out_of_range", "TensorArrayScatterV2")
    h = ta(p, 2)
    p.op("TensorArrayScatterV2", handle=h, indices=_i32([0, 2]), value=_f32((2, 3)), flow_in=flow)
    run(table, p)

    p = program("ta_v2_split_size_mismatch", "TensorArraySplitV2")
    h = ta(p, 3)
    p.op("TensorArraySplitV2", handle=h, value=_f32((4,)), lengths=np.array([1, 3], np.int64), flow_in=flow)
    run(table, p)


def list_concat_cases(table: OpTable) -> None:
    import tensorflow as tf
    f32 = tf.float32

    def empty(p, shape=(2,), dtype=f32):
        return p.op("EmptyTensorList", element_shape=_i32(list(shape)), max_num_elements=_i32(-1),
                    element_dtype=dtype)

    def push(p, h, value):
        return p.op("TensorListPushBack", input_handle=h, tensor=value)

    def stack(p, h, dtype=f32):
        return p.op("TensorListStack", input_handle=h, element_shape=_i32(-1), element_dtype=dtype,
                    num_elements=-1)

    def concat(p, a, b, dtype=f32):
        return p.op("TensorListConcatLists", input_a=a, input_b=b, element_dtype=dtype)

    p = Program("tl_concat_lists", "TensorListConcatLists")
    a = push(p, push(p, empty(p), _f32((2,))), _f32((2,), 5.0))
    b = push(p, empty(p), _f32((2,), -3.0))
    ab = concat(p, a, b)
    p.get(stack(p, ab), stack(p, a), stack(p, b), p.op("TensorListLength", input_handle=ab),
          p.op("TensorListElementShape", input_handle=ab, shape_type=tf.int32))
    run(table, p)

    p = Program("tl_concat_lists_unset_elements", "TensorListConcatLists")
    a = p.op("TensorListReserve", element_shape=_i32([3]), num_elements=_i32(2), element_dtype=f32)
    b = push(p, empty(p, (3,)), _f32((3,)))
    p.get(stack(p, concat(p, a, b)), stack(p, concat(p, b, a)))
    run(table, p)

    p = Program("tl_concat_lists_batched", "TensorListConcatLists")
    a0 = push(p, empty(p), _f32((2,)))
    a1 = empty(p)
    b0 = push(p, empty(p), _f32((2,), 9.0))
    b1 = push(p, push(p, empty(p), _f32((2,), -1.0)), _f32((2,), -2.0))
    batch_a = p.op("Pack", values=[a0, a1], axis=0)
    batch_b = p.op("Pack", values=[b0, b1], axis=0)
    out = p.op("Unpack", value=concat(p, batch_a, batch_b), num=2, axis=0)
    p.get(stack(p, out[0]), stack(p, out[1]))
    run(table, p)

    p = Program("tl_concat_lists_shape_not_identical", "TensorListConcatLists")
    concat(p, push(p, empty(p, (-1,)), _f32((2,))), push(p, empty(p), _f32((2,))))
    run(table, p)

    def opaque(p, h):
        """The list through Pack/Unpack: the same value without the static element dtype
        that graph construction would check (the checks recorded here are the kernel's)."""
        return p.op("Unpack", value=p.op("Pack", values=[h], axis=0), num=1, axis=0)[0]

    p = Program("tl_concat_lists_wrong_dtype", "TensorListConcatLists")
    concat(p, opaque(p, empty(p)), opaque(p, empty(p)), dtype=tf.int32)
    run(table, p)

    p = Program("tl_concat_lists_b_wrong_dtype", "TensorListConcatLists")
    concat(p, empty(p), opaque(p, empty(p, dtype=tf.int32)))
    run(table, p)

    p = Program("tl_concat_lists_batch_shape_mismatch", "TensorListConcatLists")
    single = empty(p)
    batch = p.op("PlaceholderWithDefault", input=p.op("Pack", values=[single, single], axis=0),
                 shape=tf.TensorShape(None))   # unknown shape: the kernel, not graph building, checks
    concat(p, batch, single)
    run(table, p)


def old_graph_case(out_dir: Any, only: set[str] | None) -> None:
    """``ta_v2_graph.meta`` + ``.npz``: a whole graph of producer 21 whose TensorArrayV2 (string
    handle, no flow output) feeds Scatter/Read/Size/Concat, exported as an old meta graph
    would be; the npz holds the feed and TF's fetched values (key = tensor name)."""
    if only is not None and not {"ta_v2_graph", "TensorArrayV2"} & only:
        return
    import tensorflow as tf
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        old_versions = v1.GraphDef()
        old_versions.versions.producer = OLD_PRODUCER
        v1.import_graph_def(old_versions, name="")
        x = v1.placeholder(tf.float32, [3, 2], name="x")
        h = tf.raw_ops.TensorArrayV2(size=3, dtype=tf.float32, element_shape=[2], clear_after_read=False,
                                     name="ta")
        f = tf.raw_ops.TensorArrayScatterV2(handle=h, indices=tf.range(3), value=x, flow_in=tf.constant(0.0),
                                            name="scatter")
        tf.raw_ops.TensorArrayReadV2(handle=h, index=1, flow_in=f, dtype=tf.float32, name="read")
        tf.raw_ops.TensorArraySizeV2(handle=h, flow_in=f, name="size")
        tf.raw_ops.TensorArrayConcatV2(handle=h, flow_in=f, dtype=tf.float32, name="concat")
        meta = v1.train.export_meta_graph(graph=graph)
        feed = np.arange(6, dtype=np.float32).reshape(3, 2) * 1.5
        fetches = ["read:0", "size:0", "concat:0", "concat:1"]
        with v1.Session(graph=graph) as sess:
            values = sess.run(fetches, {x: feed})
    (out_dir / "ta_v2_graph.meta").write_bytes(meta.SerializeToString(deterministic=True))
    np.savez_compressed(out_dir / "ta_v2_graph.npz", **{"x:0": feed}, **dict(zip(fetches, values)))
    print(f"  ta_v2_graph: producer {meta.graph_def.versions.producer}, {len(meta.graph_def.node)} nodes")
