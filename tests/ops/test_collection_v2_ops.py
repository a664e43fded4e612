"""TensorArray*V2 and TensorListConcatLists beyond the collections table (their TF-made
programs run in test_collection_ops.py): every kernel of their modules is tabled, V2 ops
share the V3 arrays, and concatenating lists leaves both inputs as they were."""
from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.exec.state import KernelContext, SessionState
from orchestrator.ops import list_concat_ops, tensor_array_v2_ops
from orchestrator.ops.list_ops import TensorList, as_variant
from orchestrator.ops.registry import get_kernel, registered_op_types

CASES = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "ops" / "collections.json").read_text())


def kernel(op: str):
    return get_kernel(op).fn


def test_every_v2_and_concat_lists_kernel_is_in_the_table():
    tabled = {s["op"] for c in CASES for s in c["steps"]}
    errors = {c["steps"][c["error"]["step"]]["op"] for c in CASES if "error" in c}
    for module in (tensor_array_v2_ops, list_concat_ops):
        ours = {t for t in registered_op_types() if get_kernel(t).fn.__module__ == module.__name__}
        assert ours and ours - tabled == set(), module.__name__
    assert {"TensorArrayV2", "TensorArrayWriteV2", "TensorArrayReadV2", "TensorListConcatLists"} <= errors


def test_v2_creation_returns_only_the_handle_and_v3_ops_can_use_it():
    ctx = KernelContext(node=types.SimpleNamespace(name="old/ta"), state=SessionState())
    handle = kernel("TensorArrayV2")(np.int32(2), ctx=ctx, dtype=DType.FLOAT, element_shape=(2,))
    flow = np.float32(0)
    value = np.array([1.5, 2.5], np.float32)
    value.flags.writeable = False
    flow = kernel("TensorArrayWriteV2")(handle, np.int32(1), value, flow)
    # The same array behind both op generations (TF registers one kernel for both names).
    np.testing.assert_array_equal(kernel("TensorArrayReadV3")(handle, np.int32(1), flow, dtype=DType.FLOAT), value)
    grad = kernel("TensorArrayGradV2")(handle, flow, source=b"gradients")
    assert grad.resource is not handle.resource and grad.resource.is_grad
    assert kernel("TensorArraySizeV2")(grad, flow) == 2
    assert not ctx.state.resources   # per-step: nothing left in the session


def test_v2_errors_name_the_v2_op():
    ctx = KernelContext(node=types.SimpleNamespace(name="ta"), state=SessionState())
    with pytest.raises(InvalidArgumentError, match=r"^TensorArrayV2 ta: Size should be >= 0"):
        kernel("TensorArrayV2")(np.int32(-2), ctx=ctx, dtype=DType.FLOAT)
    handle = kernel("TensorArrayV2")(np.int32(1), ctx=ctx, dtype=DType.FLOAT)
    kernel("TensorArrayCloseV2")(handle)
    with pytest.raises(InvalidArgumentError, match=r"^TensorArraySizeV2: TensorArray \S+ has already been closed"):
        kernel("TensorArraySizeV2")(handle, np.float32(0))


def test_concat_lists_leaves_its_inputs_unchanged():
    a = as_variant(TensorList([np.ones(2, np.float32)], (2,), np.dtype(np.float32)))
    b = as_variant(TensorList([None, np.zeros(2, np.float32)], (2,), np.dtype(np.float32), 7))
    out = kernel("TensorListConcatLists")(a, b, element_dtype=DType.FLOAT)
    assert out.shape == () and len(out[()]) == 3 and out[()].tensors[1] is None
    assert out[()].max_num_elements == -1   # a's, as TF copies input_a
    assert len(a[()]) == 1 and len(b[()]) == 2


def test_concat_lists_batches_element_by_element():
    def batch(*lists):
        out = np.empty(len(lists), dtype=object)
        for i, tl in enumerate(lists):
            out[i] = tl
        return out

    f32 = np.dtype(np.float32)
    row = np.arange(3, dtype=np.float32)
    a = batch(TensorList([row], (3,), f32), TensorList([], (3,), f32))
    b = batch(TensorList([], (3,), f32), TensorList([row, row], (3,), f32))
    out = kernel("TensorListConcatLists")(a, b, element_dtype=DType.FLOAT)
    assert out.shape == (2,) and [len(tl) for tl in out] == [1, 2]
    with pytest.raises(InvalidArgumentError, match=r"TensorListConcatLists: input_b is not a TensorList at index 1"):
        kernel("TensorListConcatLists")(a, batch(TensorList([], (3,), f32), "x"), element_dtype=DType.FLOAT)


def test_an_old_graph_with_tensor_array_v2_runs_as_in_tf():
    """A producer-21 meta graph made by TF (ops_collections_v2_cases.old_graph_case): the V2
    ops import (string handle, no flow output) and run through a Session as TF ran them."""
    import orchestrator.compat.v1 as tf

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "ops"
    with np.load(fixtures / "ta_v2_graph.npz") as npz:
        expected = {k: npz[k] for k in npz.files}
    graph = tf.Graph()
    with graph.as_default():
        tf.train.import_meta_graph(str(fixtures / "ta_v2_graph.meta"))
        assert graph.get_tensor_by_name("ta:0").dtype == DType.STRING
        fetches = [k for k in expected if k != "x:0"]
        with tf.Session() as sess:
            got = sess.run(fetches, {"x:0": expected["x:0"]})
    for name, value in zip(fetches, got):
        value = np.asarray(value)
        assert (value.dtype, value.shape) == (expected[name].dtype, expected[name].shape), name
        np.testing.assert_array_equal(value, expected[name], err_msg=name)
