"""TensorList cases of the collections op table (see ops_collections.py for the format)."""
from __future__ import annotations

import numpy as np

from ops_collections import Program, _f32, _i32, _i64, run
from ops_state import OpTable


def list_cases(table: OpTable) -> None:
    import tensorflow as tf
    f32 = tf.float32

    def stack(p, h, shape=-1, dtype=f32, num_elements=-1):
        return p.op("TensorListStack", input_handle=h, element_shape=_i32(shape), element_dtype=dtype,
                    num_elements=num_elements)

    def get(p, h, i, shape=-1, dtype=f32):
        return p.op("TensorListGetItem", input_handle=h, index=_i32(i), element_shape=_i32(shape),
                    element_dtype=dtype)

    def set_item(p, h, i, item, resize=False):
        return p.op("TensorListSetItem", input_handle=h, index=_i32(i), item=item,
                    resize_if_index_out_of_bounds=resize)

    def length(p, h):
        return p.op("TensorListLength", input_handle=h)

    # reserve + set/get/stack: unset elements read as zeros
    p = Program("tl_reserve_set_stack", "TensorListReserve")
    h = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(3), element_dtype=f32)
    h2 = set_item(p, h, 1, _f32((2,)))
    p.get(stack(p, h2), get(p, h2, 0), get(p, h2, 1), length(p, h2), stack(p, h),
          p.op("TensorListElementShape", input_handle=h2, shape_type=tf.int32))
    run(table, p)

    p = Program("tl_reserve_unknown_infer", "TensorListGetItem")
    h = p.op("TensorListReserve", element_shape=_i32(-1), num_elements=_i32(2), element_dtype=f32)
    h = set_item(p, h, 0, _f32((2, 3)))
    p.get(get(p, h, 1), stack(p, h),
          p.op("TensorListElementShape", input_handle=h, shape_type=tf.int64))
    run(table, p)

    p = Program("tl_get_uninitialized_unknown", "TensorListGetItem")
    h = p.op("TensorListReserve", element_shape=_i32([-1, 2]), num_elements=_i32(2), element_dtype=f32)
    get(p, h, 0)
    run(table, p)

    p = Program("tl_get_out_of_range", "TensorListGetItem")
    h = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(2), element_dtype=f32)
    get(p, h, 2)
    run(table, p)

    p = Program("tl_reserve_negative", "TensorListReserve")
    p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(-2), element_dtype=f32)
    run(table, p)

    p = Program("tl_set_out_of_range", "TensorListSetItem")
    h = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(2), element_dtype=f32)
    set_item(p, h, 2, _f32((2,)))
    run(table, p)

    p = Program("tl_set_resize", "TensorListSetItem")
    h = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(1), element_dtype=f32)
    h = set_item(p, h, 3, _f32((2,)), resize=True)
    p.get(length(p, h), stack(p, h))
    run(table, p)

    p = Program("tl_set_shape_mismatch", "TensorListSetItem")
    h = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(2), element_dtype=f32)
    set_item(p, h, 0, _f32((3,)))
    run(table, p)

    # push / pop (value semantics: the input list is unchanged)
    for name, dtype, items in [("f32", f32, [_f32((2,)), _f32((2,), 4.0), _f32((2,), 9.0)]),
                               ("i32", tf.int32, [_i32([1, 2]), _i32([3, 4])]),
                               ("f16", tf.float16, [_f32((2,)).astype(np.float16)])]:
        p = Program(f"tl_push_pop_{name}", "TensorListPushBack")
        h0 = p.op("EmptyTensorList", element_shape=_i32([2]), max_num_elements=_i32(-1), element_dtype=dtype)
        h = h0
        for item in items:
            h = p.op("TensorListPushBack", input_handle=h, tensor=item)
        popped = p.op("TensorListPopBack", input_handle=h, element_shape=_i32(-1), element_dtype=dtype)
        p.get(stack(p, h, dtype=dtype), popped[1], length(p, popped[0]), length(p, h), length(p, h0))
        run(table, p)

    p = Program("tl_pop_empty", "TensorListPopBack")
    h = p.op("EmptyTensorList", element_shape=_i32([2]), max_num_elements=_i32(-1), element_dtype=f32)
    p.op("TensorListPopBack", input_handle=h, element_shape=_i32(-1), element_dtype=f32)
    run(table, p)

    p = Program("tl_pop_unset_known_shape", "TensorListPopBack")
    h = p.op("TensorListReserve", element_shape=_i32([-1, 3]), num_elements=_i32(1), element_dtype=f32)
    popped = p.op("TensorListPopBack", input_handle=h, element_shape=_i32([2, -1]), element_dtype=f32)
    p.get(popped[1], length(p, popped[0]))
    run(table, p)

    p = Program("tl_push_full", "TensorListPushBack")
    h = p.op("EmptyTensorList", element_shape=_i32(-1), max_num_elements=_i32(1), element_dtype=f32)
    h = p.op("TensorListPushBack", input_handle=h, tensor=_f32((1,)))
    p.op("TensorListPushBack", input_handle=h, tensor=_f32((1,)))
    run(table, p)

    p = Program("tl_push_shape_mismatch", "TensorListPushBack")
    h = p.op("EmptyTensorList", element_shape=_i32([2]), max_num_elements=_i32(-1), element_dtype=f32)
    p.op("TensorListPushBack", input_handle=h, tensor=_f32((2, 1)))
    run(table, p)

    p = Program("tl_stack_empty_unknown", "TensorListStack")
    h = p.op("EmptyTensorList", element_shape=_i32([-1]), max_num_elements=_i32(-1), element_dtype=f32)
    stack(p, h)
    run(table, p)

    p = Program("tl_stack_empty_known", "TensorListStack")
    h = p.op("EmptyTensorList", element_shape=_i32(-1), max_num_elements=_i32(-1), element_dtype=f32)
    p.get(stack(p, h, shape=[0, 2]))
    run(table, p)

    p = Program("tl_stack_num_elements", "TensorListStack")
    h = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(2), element_dtype=f32)
    stack(p, h, num_elements=3)
    run(table, p)

    p = Program("tl_stack_shape_conflict", "TensorListStack")
    h = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(2), element_dtype=f32)
    stack(p, h, shape=[3])
    run(table, p)

    # from tensor / gather / scatter
    p = Program("tl_from_tensor", "TensorListFromTensor")
    h = p.op("TensorListFromTensor", tensor=_f32((3, 2)), element_shape=_i32([-1]))
    p.get(get(p, h, 2), stack(p, h), length(p, h),
          p.op("TensorListGather", input_handle=h, indices=_i32([2, 0, 2]), element_shape=_i32(-1),
               element_dtype=f32),
          p.op("TensorListElementShape", input_handle=h, shape_type=tf.int32))
    run(table, p)

    p = Program("tl_from_tensor_shape_mismatch", "TensorListFromTensor")
    p.op("TensorListFromTensor", tensor=_f32((3, 2)), element_shape=_i32([3]))
    run(table, p)

    p = Program("tl_from_tensor_scalar", "TensorListFromTensor")
    p.op("TensorListFromTensor", tensor=np.float32(1), element_shape=_i32(-1))
    run(table, p)

    p = Program("tl_gather_out_of_range", "TensorListGather")
    h = p.op("TensorListFromTensor", tensor=_f32((2, 2)), element_shape=_i32(-1))
    p.op("TensorListGather", input_handle=h, indices=_i32([0, 2]), element_shape=_i32(-1), element_dtype=f32)
    run(table, p)

    p = Program("tl_gather_out_of_range_known_shape", "TensorListGather")
    h = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(2), element_dtype=f32)
    p.op("TensorListGather", input_handle=h, indices=_i32([1, 5]), element_shape=_i32(-1), element_dtype=f32)
    run(table, p)

    for name, op in [("set", "TensorListSetItem"), ("get", "TensorListGetItem")]:
        p = Program(f"tl_{name}_negative_index", op)
        h = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(2), element_dtype=f32)
        set_item(p, h, -1, _f32((2,))) if name == "set" else get(p, h, -1)
        run(table, p)

    p = Program("tl_gather_empty", "TensorListGather")
    h = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(2), element_dtype=f32)
    p.get(p.op("TensorListGather", input_handle=h, indices=_i32([]), element_shape=_i32(-1), element_dtype=f32),
          p.op("TensorListGather", input_handle=h, indices=_i32([1]), element_shape=_i32(-1), element_dtype=f32))
    run(table, p)

    p = Program("tl_gather_empty_unknown", "TensorListGather")
    h = p.op("TensorListReserve", element_shape=_i32(-1), num_elements=_i32(2), element_dtype=f32)
    p.op("TensorListGather", input_handle=h, indices=_i32([]), element_shape=_i32(-1), element_dtype=f32)
    run(table, p)

    p = Program("tl_scatter", "TensorListScatter")
    h = p.op("TensorListScatter", tensor=_f32((2, 2)), indices=_i32([3, 0]), element_shape=_i32([2]))
    p.get(length(p, h), stack(p, h))
    run(table, p)

    p = Program("tl_scatter_v2", "TensorListScatterV2")
    h = p.op("TensorListScatterV2", tensor=_f32((2, 2)), indices=_i32([1, 0]), element_shape=_i32([2]),
             num_elements=_i32(4))
    p.get(length(p, h), stack(p, h))
    run(table, p)

    for name, idx, num in [("negative", [0, -1], 4), ("past_num_elements", [0, 4], 4), ("rows", [0], 4)]:
        p = Program(f"tl_scatter_v2_{name}", "TensorListScatterV2")
        p.op("TensorListScatterV2", tensor=_f32((2, 2)), indices=_i32(idx), element_shape=_i32(-1),
             num_elements=_i32(num))
        run(table, p)

    # Scattering past the end grows the list, but TF 2.21 then misplaces rows and returns
    # uninitialised memory for the new slots (seen with eager raw ops too): only in-range
    # scatters are recorded; growth is tested against its documented meaning instead.
    p = Program("tl_scatter_into_existing", "TensorListScatterIntoExistingList")
    h = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(4), element_dtype=f32)
    h2 = p.op("TensorListScatterIntoExistingList", input_handle=h, tensor=_f32((2, 2)), indices=_i32([3, 1]))
    p.get(length(p, h2), stack(p, h2), length(p, h))
    run(table, p)

    # split / concat / resize
    p = Program("tl_split_concat", "TensorListSplit")
    h = p.op("TensorListSplit", tensor=_f32((4, 2)), element_shape=_i32([-1, 2]), lengths=_i64([1, 0, 3]))
    c = p.op("TensorListConcatV2", input_handle=h, element_shape=_i32([-1, 2]), leading_dims=_i64([]),
             element_dtype=f32)
    p.get(length(p, h), get(p, h, 2), c[0], c[1])
    run(table, p)

    for name, lengths in [("overrun", [3, 3]), ("unused", [1, 1]), ("negative", [-1, 5])]:
        p = Program(f"tl_split_{name}", "TensorListSplit")
        p.op("TensorListSplit", tensor=_f32((4, 2)), element_shape=_i32(-1), lengths=_i64(lengths))
        run(table, p)

    p = Program("tl_concat_leading_dims", "TensorListConcatV2")
    h = p.op("TensorListReserve", element_shape=_i32([-1, 2]), num_elements=_i32(3), element_dtype=f32)
    h = set_item(p, h, 1, _f32((3, 2)))
    c = p.op("TensorListConcatV2", input_handle=h, element_shape=_i32([-1, 2]), leading_dims=_i64([2, 9, 1]),
             element_dtype=f32)
    p.get(c[0], c[1])
    run(table, p)

    # no leading_dims: the unset element takes the leading dim all set elements agree on
    p = Program("tl_concat_inferred_leading_dim", "TensorListConcatV2")
    h = p.op("TensorListReserve", element_shape=_i32([-1, 2]), num_elements=_i32(2), element_dtype=f32)
    h = set_item(p, h, 0, _f32((3, 2)))
    c = p.op("TensorListConcatV2", input_handle=h, element_shape=_i32([-1, 2]), leading_dims=_i64([]),
             element_dtype=f32)
    p.get(c[0], c[1])
    run(table, p)

    p = Program("tl_concat_missing_leading_dims", "TensorListConcatV2")
    h = p.op("TensorListReserve", element_shape=_i32([-1, 2]), num_elements=_i32(3), element_dtype=f32)
    h = set_item(p, h, 0, _f32((3, 2)))
    h = set_item(p, h, 1, _f32((1, 2)))
    p.op("TensorListConcatV2", input_handle=h, element_shape=_i32([-1, 2]), leading_dims=_i64([]),
         element_dtype=f32)
    run(table, p)

    p = Program("tl_concat_v1", "TensorListConcat")
    h = p.op("TensorListFromTensor", tensor=_f32((2, 2, 3)), element_shape=_i32(-1))
    c = p.op("TensorListConcat", input_handle=h, element_dtype=f32, element_shape=tf.TensorShape(None))
    p.get(c[0], c[1])
    run(table, p)

    p = Program("tl_concat_scalars", "TensorListConcatV2")
    h = p.op("TensorListFromTensor", tensor=_f32((2,)), element_shape=_i32(-1))
    p.op("TensorListConcatV2", input_handle=h, element_shape=_i32(-1), leading_dims=_i64([]), element_dtype=f32)
    run(table, p)

    p = Program("tl_resize", "TensorListResize")
    h = p.op("TensorListFromTensor", tensor=_f32((3, 2)), element_shape=_i32([2]))
    grown = p.op("TensorListResize", input_handle=h, size=_i32(5))
    shrunk = p.op("TensorListResize", input_handle=h, size=_i32(1))
    p.get(stack(p, grown), stack(p, shrunk), length(p, h))
    run(table, p)

    p = Program("tl_resize_negative", "TensorListResize")
    h = p.op("TensorListFromTensor", tensor=_f32((3, 2)), element_shape=_i32([2]))
    p.op("TensorListResize", input_handle=h, size=_i32(-1))
    run(table, p)

    p = Program("tl_element_shape_unknown_rank", "TensorListElementShape")
    h = p.op("EmptyTensorList", element_shape=_i64(-1), max_num_elements=_i32(-1), element_dtype=f32)
    p.get(p.op("TensorListElementShape", input_handle=h, shape_type=tf.int32))
    run(table, p)

    p = Program("tl_bad_scalar_shape", "EmptyTensorList")
    p.op("EmptyTensorList", element_shape=_i32(3), max_num_elements=_i32(-1), element_dtype=f32)
    run(table, p)

    # variant arithmetic of list gradients: ZerosLike / AddN on DT_VARIANT
    p = Program("tl_zeros_like_add_n", "AddN")
    a = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(3), element_dtype=f32)
    a = set_item(p, a, 0, _f32((2,)))
    a = set_item(p, a, 1, _f32((2,), 3.0))
    b = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(3), element_dtype=f32)
    b = set_item(p, b, 1, _f32((2,), 10.0))
    b = set_item(p, b, 2, _f32((2,), 20.0))
    z = p.op("ZerosLike", x=a)
    total = p.op("AddN", inputs=[a, b, z])
    p.get(stack(p, total), stack(p, z), length(p, total))
    run(table, p)

    p = Program("tl_add_n_length_mismatch", "AddN")
    a = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(3), element_dtype=f32)
    b = p.op("TensorListReserve", element_shape=_i32([2]), num_elements=_i32(2), element_dtype=f32)
    p.op("AddN", inputs=[a, b])
    run(table, p)
