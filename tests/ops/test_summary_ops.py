"""Summary kernels return the bytes TF's kernels return (tests/fixtures/ops/summary.*)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops import summary_ops
from orchestrator.ops.registry import get_kernel, registered_op_types

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ops"
CASES = json.loads((FIXTURES / "summary.json").read_text())
with np.load(FIXTURES / "summary.npz") as _npz:
    ARRAYS = {k: _npz[k] for k in _npz.files}


@pytest.fixture
def pb():
    return pytest.importorskip("orchestrator.protos.summary_pb2",
                               reason="generated protos (orchestrator/protos) not in the checkout yet")


def as_string_tensor(blob: np.ndarray) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = blob.tobytes()
    return out


def case_inputs(case: dict) -> list:
    serialized = set(case.get("serialized_inputs", []))
    out = []
    for i, key in enumerate(case["inputs"]):
        a = ARRAYS[key]
        if i in serialized:
            a = as_string_tensor(a)
        elif a.dtype.kind == "S":
            a = a.astype(object)
        out.append(a)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_summary_op_table_is_byte_identical(case, pb):
    kdef = get_kernel(case["op"])
    attrs = {k: v for k, v in case["attrs"].items() if k in kdef.attr_names and k != "T"}
    got = kdef.fn(*case_inputs(case), **attrs)
    assert isinstance(got, np.ndarray) and got.dtype == object and got.shape == ()
    assert got[()] == ARRAYS[case["outputs"][0]].tobytes()


def test_every_summary_kernel_is_in_the_table():
    ours = {t for t in registered_op_types() if get_kernel(t).fn.__module__ == summary_ops.__name__}
    assert ours - {c["op"] for c in CASES} == set()


def test_default_bucket_limits_shape():
    limits = summary_ops.default_bucket_limits()
    assert np.all(np.diff(limits) > 0)
    assert limits[0] == -sys.float_info.max and limits[-1] == sys.float_info.max
    mid = limits.size // 2
    assert limits[mid] == 0.0 and limits[mid + 1] == 1e-12
    np.testing.assert_allclose(limits[mid + 2] / limits[mid + 1], 1.1)
    assert limits[-2] < 1e20 <= limits[-2] * 1.1


def test_histogram_rejects_nan_and_inf_naming_tag(pb):
    with pytest.raises(InvalidArgumentError, match="Nan in summary histogram for: w"):
        get_kernel("HistogramSummary").fn(np.array(b"w", object), np.array([1.0, np.nan]))
    with pytest.raises(InvalidArgumentError, match="Infinity in summary histogram for: w"):
        get_kernel("HistogramSummary").fn(np.array(b"w", object), np.array([np.inf], np.float32))


def test_scalar_summary_shape_mismatch(pb):
    with pytest.raises(InvalidArgumentError, match="not the same shape"):
        get_kernel("ScalarSummary").fn(np.array([b"a", b"b"], object), np.float32(1))


def test_merge_summary_takes_vectors_and_rejects_duplicate_tags(pb):
    one = get_kernel("ScalarSummary").fn(np.array(b"a", object), np.float32(1))
    two = get_kernel("ScalarSummary").fn(np.array(b"b", object), np.float32(2))
    both = np.array([one[()], two[()]], dtype=object)
    merged = pb.Summary.FromString(get_kernel("MergeSummary").fn(both)[()])
    assert [v.tag for v in merged.value] == ["a", "b"]
    with pytest.raises(InvalidArgumentError, match="duplicate tag 'a'"):
        get_kernel("MergeSummary").fn(one, one)
    with pytest.raises(InvalidArgumentError, match="could not parse input 1"):
        get_kernel("MergeSummary").fn(one, np.array(b"\xff\xff", object))


def test_merge_summary_keeps_only_values_as_tf_does(pb):
    """Parts are joined as re-serialized bytes; a part with a field Summary does not know
    loses it (TF copies values only), while unknown fields inside a value stay."""
    one = get_kernel("ScalarSummary").fn(np.array(b"a", object), np.float32(1))[()]
    hist = get_kernel("HistogramSummary").fn(np.array(b"h", object), np.arange(5.0))[()]
    value_extra = b"\xa0\x06\x07"                        # field 100, varint 7, inside the value
    odd_value = pb.Summary.FromString(one.replace(b"a", b"c", 1))
    odd_value.value[0].MergeFromString(value_extra)
    summary_extra = odd_value.SerializeToString() + b"\x10\x05"   # field 2 of Summary
    merged = get_kernel("MergeSummary").fn(np.array([hist, summary_extra], dtype=object))[()]
    expected = pb.Summary()
    for blob in (hist, summary_extra):
        expected.value.extend(pb.Summary.FromString(blob).value)
    assert merged == expected.SerializeToString()
    assert value_extra in merged and not merged.endswith(b"\x10\x05")
