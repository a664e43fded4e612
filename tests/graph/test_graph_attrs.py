"""AttrValue/TensorProto codec against TensorProtos made by real TF (tensor_protos.json)."""
from __future__ import annotations

import json

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graph_helpers import FIXTURES
from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.graph.attrs import (AttrValue, NameAttrList, TensorProto, attr_to_python, ndarray_to_tensor_proto,
                                      python_to_attr, shape_to_proto, tensor_proto_to_ndarray)

CASES = json.loads((FIXTURES / "tensor_protos.json").read_text())


def _expected(case):
    dtype = DType[{"float16": "HALF", "float32": "FLOAT", "float64": "DOUBLE"}.get(case["dtype"], case["dtype"].upper())]
    values = case["values"]
    if dtype == DType.STRING:
        arr = np.array([bytes.fromhex(v) for v in values] or np.empty(0), dtype=object)
    elif dtype in (DType.COMPLEX64, DType.COMPLEX128):
        arr = np.array([complex(r, i) for r, i in values], dtype=dtype.numpy)
    else:
        arr = np.array(values, dtype=dtype.numpy)
    return arr.reshape(case["shape"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_decode_matches_tf(name):
    case = CASES[name]
    proto = TensorProto()
    proto.ParseFromString(bytes.fromhex(case["proto"]))
    got = tensor_proto_to_ndarray(proto)
    want = _expected(case)
    assert got.dtype == want.dtype and got.shape == want.shape
    if got.dtype == object:
        assert got.tolist() == want.tolist()
    else:
        np.testing.assert_array_equal(got.reshape(-1).view(np.uint8), want.reshape(-1).view(np.uint8))   # bit-exact


@pytest.mark.parametrize("name", sorted(CASES))
def test_encode_then_decode_is_identity(name):
    want = _expected(CASES[name])
    back = tensor_proto_to_ndarray(ndarray_to_tensor_proto(want))
    assert back.dtype == want.dtype and back.shape == want.shape
    assert back.tolist() == want.tolist() if want.dtype == object else np.array_equal(back, want, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(st.sampled_from([np.float32, np.float64, np.int8, np.int32, np.int64, np.uint16, np.bool_,
                                   np.complex64, np.float16]),
                  hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
def test_round_trip_property(arr):
    back = tensor_proto_to_ndarray(ndarray_to_tensor_proto(arr))
    assert back.dtype == arr.dtype and back.shape == arr.shape
    np.testing.assert_array_equal(back.reshape(-1).view(np.uint8), np.ascontiguousarray(arr).reshape(-1).view(np.uint8))


def test_bfloat16_round_trip():
    arr = np.array([1.0, -2.5], dtype=ml_dtypes.bfloat16)
    proto = ndarray_to_tensor_proto(arr)
    assert proto.dtype == DType.BFLOAT16
    np.testing.assert_array_equal(tensor_proto_to_ndarray(proto), arr)


def test_tensor_content_size_mismatch_is_an_error():
    proto = ndarray_to_tensor_proto(np.zeros(4, np.float32))
    proto.tensor_content = proto.tensor_content[:-1]
    with pytest.raises(InvalidArgumentError, match="node 'c' attr 'value': tensor_content has 15 bytes, expected 16"):
        tensor_proto_to_ndarray(proto, "node 'c' attr 'value'")


def test_too_many_values_is_an_error():
    proto = TensorProto(dtype=DType.FLOAT, float_val=[1, 2, 3])
    proto.tensor_shape.dim.add().size = 2
    with pytest.raises(InvalidArgumentError, match="3 values for shape \\[2\\]"):
        tensor_proto_to_ndarray(proto)


@pytest.mark.parametrize("value, attr_type, field, back", [
    (b"abc", None, "s", b"abc"),
    ("abc", "string", "s", b"abc"),
    (3, None, "i", 3),
    (2.5, None, "f", 2.5),
    (True, None, "b", True),
    (DType.INT64, None, "type", DType.INT64),
    (9, "type", "type", DType.INT64),
    ((2, None), "shape", "shape", (2, None)),
    (None, "shape", "shape", None),
    ([1, 2], None, "list", [1, 2]),
    ([DType.FLOAT, DType.INT32], "list(type)", "list", [DType.FLOAT, DType.INT32]),
    ([(1,), ()], "list(shape)", "list", [(1,), ()]),
    ([], "list(int)", "list", []),
    ([b"loc:@w"], None, "list", [b"loc:@w"]),
])
def test_attr_round_trip(value, attr_type, field, back):
    attr = python_to_attr(value, attr_type)
    assert attr.WhichOneof("value") == field
    assert attr_to_python(attr) == back


def test_attr_tensor_func_and_ref_type():
    attr = python_to_attr(np.arange(3, dtype=np.int32))
    np.testing.assert_array_equal(attr_to_python(attr), np.arange(3, dtype=np.int32))
    func = NameAttrList(name="body")
    assert attr_to_python(python_to_attr(func)).name == "body"
    assert attr_to_python(AttrValue(type=101)) == DType.FLOAT   # DT_FLOAT_REF decodes to its base
    unknown = shape_to_proto(None)
    assert attr_to_python(AttrValue(shape=unknown)) is None
    assert attr_to_python(AttrValue()) is None


def test_attr_unencodable_value():
    with pytest.raises(InvalidArgumentError, match="cannot encode object"):
        python_to_attr(object())
