"""Array kernels against TF's own results (tests/fixtures/ops/array.*, made by
scripts/tf_fixtures/ops_array.py), TF's error messages included, plus what a table
cannot show: aliasing vs copying, read-only inputs, StridedSlice against numpy slicing."""
from __future__ import annotations

import types

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.exec.state import KernelContext, Ref, SessionState
from orchestrator.graph.op_defs import builtin_op_defs
from orchestrator.ops import (array_ops, diag_ops, index_ops, join_ops, partition_ops, shape_ops,
                              slicing_ops, space_ops)
from orchestrator.ops.registry import get_kernel, registered_op_types

from optable import decode_attrs, load_table   # tests/ops/optable.py

TYPE_ATTRS = {"T", "dtype", "type", "out_type", "Tidx", "out_idx", "Tindices", "Index", "Tshape"}
SHAPE_ATTRS = {"shape"}
MODULES = {m.__name__ for m in (array_ops, shape_ops, join_ops, slicing_ops, index_ops, partition_ops,
                                space_ops, diag_ops)}






def stored(key: str, case: dict) -> np.ndarray:
    a = ARRAYS[key]
    if case.get("bfloat16_bits") and a.dtype == np.uint16:   # npz cannot hold bfloat16
        a = a.view(ml_dtypes.bfloat16)
    return a


def as_tensor(a: np.ndarray) -> np.ndarray:
    """A stored array as the executor hands it over: strings as object arrays of bytes, read-only."""
    if a.dtype.kind == "S":
        a = np.array([bytes(v) for v in a.reshape(-1)], dtype=object).reshape(a.shape)
    else:
        a = np.array(a)
    a.flags.writeable = False   # kernels must never write into their inputs
    return a


def ctx_for(name: str) -> KernelContext:
    return KernelContext(node=types.SimpleNamespace(name=name, inputs=()), state=SessionState())


def run(case: dict):
    kdef = get_kernel(case["op"])
    attrs = {k: v for k, v in decode_attrs(case["attrs"], TYPE_ATTRS).items() if k in kdef.attr_names}
    inputs = [as_tensor(stored(k, case)) for k in case["inputs"]]
    if kdef.needs_ctx:
        attrs["ctx"] = ctx_for(case.get("node", case["id"]))
    result = kdef.fn(*inputs, **attrs)
    if kdef.multi:
        return list(result)
    return [] if result is None else [result]


def assert_same(got, expected: np.ndarray, case: dict) -> None:
    got = np.asarray(got)
    if expected.dtype.kind == "S":
        assert got.dtype == object, f"string output came back as {got.dtype}"
        got = np.array([bytes(v) for v in got.reshape(-1)], dtype=expected.dtype).reshape(got.shape)
    assert got.dtype == expected.dtype, f"dtype {got.dtype}, TF gave {expected.dtype}"
    assert got.shape == expected.shape, f"shape {got.shape}, TF gave {expected.shape}"
    if "rtol" in case or "atol" in case:
        np.testing.assert_allclose(got, expected, rtol=case.get("rtol", 0), atol=case.get("atol", 0))
    else:   # array ops move values: bit-exact (NaN positions included)
        np.testing.assert_array_equal(got, expected)


CASES, ARRAYS = load_table("array")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_array_op_table(case, capsys):
    if "error" in case:
        with pytest.raises(InvalidArgumentError) as info:
            run(case)
        message = str(info.value)
        for part in case["match"]:
            assert part in message, f"TF said {case['error']!r}"
        assert case["op"] in message or case.get("node", case["id"]) in message   # names the op/node
        return
    got = run(case)
    expected = [stored(k, case) for k in case["outputs"]]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert_same(g, e, case)
    if "printed" in case:   # tf.Print: the line TF wrote to stderr
        assert capsys.readouterr().err == case["printed"]


TABLE_EXEMPT = {"Const", "PlaceholderV2", "RefIdentity"}   # no value inputs to tabulate: tested below


def test_every_array_kernel_is_in_the_table():
    ours = {t for t in registered_op_types() if get_kernel(t).fn.__module__ in MODULES}
    tabled = {c["op"] for c in CASES}
    assert ours - tabled - TABLE_EXEMPT == set()
    assert TABLE_EXEMPT <= ours


def test_kernel_signatures_match_tf_op_defs():
    """Declared attrs are TF's attr names (the executor passes only those), multi-output kernels
    are exactly the ops with several or list outputs, and ref_inputs are TF's ref inputs."""
    recorded = {c["op"]: c["op_signature"] for c in CASES if "op_signature" in c}
    op_defs = builtin_op_defs()
    for op in ("RefIdentity", "PlaceholderV2", "Const"):   # not tabulated: from the fallback table
        if op in op_defs:
            op_def = op_defs[op]
            recorded[op] = {"attrs": [a.name for a in op_def.attr],
                            "multi": len(op_def.output_arg) > 1,
                            "ref_inputs": [i for i, a in enumerate(op_def.input_arg) if a.is_ref]}
    ours = [t for t in registered_op_types() if get_kernel(t).fn.__module__ in MODULES]
    assert set(ours) - set(recorded) <= {"PlaceholderV2"}   # not in TF 2.21's registry
    for op_type in ours:
        kdef, signature = get_kernel(op_type), recorded.get(op_type)
        if signature is None:
            continue
        assert kdef.attr_names <= set(signature["attrs"]), op_type
        assert kdef.multi == signature["multi"], op_type
        assert list(kdef.ref_inputs) == signature["ref_inputs"], op_type


def test_table_covers_errors_for_most_families():
    erroring = {c["op"] for c in CASES if "error" in c}
    for op in ("Reshape", "StridedSlice", "GatherV2", "GatherNd", "ScatterNd", "ConcatV2", "SplitV",
               "Range", "Placeholder", "CheckNumerics", "Assert", "DynamicPartition", "DynamicStitch"):
        assert op in erroring


# ----------------------------------------------------------------- beyond the table

def test_const_returns_its_value_attr():
    value = np.arange(6, dtype=np.int64).reshape(2, 3)
    assert get_kernel("Const").fn(value=value, dtype=DType.INT64) is value


def test_placeholder_v2_and_unknown_shape_dims():
    with pytest.raises(InvalidArgumentError, match=r"tensor 'x' with dtype double and shape \[\?,\?\]$"):
        get_kernel("PlaceholderV2").fn(ctx=ctx_for("x"), dtype=DType.DOUBLE, shape=(None, -1))


def test_identity_forwards_and_snapshot_copies():
    x = np.ones(3, np.float32)
    assert get_kernel("Identity").fn(x) is x
    snap = get_kernel("Snapshot").fn(x)
    x[0] = 5            # a ref variable updated in place later in the step
    assert snap[0] == 1


def test_ref_identity_forwards_the_reference():
    kdef = get_kernel("RefIdentity")
    assert kdef.ref_inputs == (0,)
    ref = Ref("w", np.dtype(np.float32), (2,))
    assert kdef.fn(ref) is ref


def test_copying_kernels_do_not_alias_their_input():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    outs = [get_kernel("Transpose").fn(x, np.array([1, 0])),
            get_kernel("ReverseV2").fn(x, np.array([0])),
            get_kernel("StridedSlice").fn(x, np.array([1]), np.array([3]), np.array([1])),
            get_kernel("Slice").fn(x, np.array([0, 1]), np.array([2, 2])),
            get_kernel("BroadcastTo").fn(x[:1], np.array([2, 4]))]
    for out in outs:
        assert not np.shares_memory(out, x)
        assert out.flags.writeable


def test_print_honours_first_n_per_op_and_session(capsys):
    kdef = get_kernel("Print")
    ctx = ctx_for("p")
    x = np.zeros(2, np.float32)
    for _ in range(3):
        assert kdef.fn(x, np.array([7]), ctx=ctx, message=b"m", first_n=2, summarize=3) is x
    assert capsys.readouterr().err == "m[7]\n" * 2
    kdef.fn(x, np.array([8]), ctx=ctx_for("p"), message=b"m", first_n=2)   # a new session
    assert capsys.readouterr().err == "m[8]\n"


def test_assert_passes_silently_and_fails_with_data():
    kdef = get_kernel("Assert")
    assert kdef.stateful
    assert kdef.fn(np.array(True), np.array(b"unused"), ctx=ctx_for("a")) is None
    with pytest.raises(InvalidArgumentError, match=r"assertion failed: \[x = \] \[1 2 3\]"):
        kdef.fn(np.array(False), np.array(b"x = "), np.array([1, 2, 3]), ctx=ctx_for("check/Assert"))


def test_dynamic_stitch_last_write_wins_over_many_duplicates():
    idx = np.array([2, 0, 2, 2, 1, 0], np.int32)
    data = np.arange(6, dtype=np.float32)
    out = get_kernel("DynamicStitch").fn(idx[:3], idx[3:], data[:3], data[3:], N=2)
    np.testing.assert_array_equal(out, [5, 4, 3])


@pytest.mark.parametrize("n", [12, 3 * partition_ops._UNIQUE_DICT_MAX])
def test_dynamic_stitch_matches_a_loop_short_and_long(n):
    """Few indices are checked in Python, many with numpy: both equal TF's loop (gaps zero,
    the last write to an index wins), and a negative index is named in either."""
    rng = np.random.default_rng(n)
    idx = [rng.integers(0, n // 2, size) for size in (n // 3, n - n // 3)]
    data = [rng.standard_normal((i.size, 2)).astype(np.float32) for i in idx]
    expected = np.zeros((max(int(i.max()) for i in idx) + 1, 2), np.float32)
    for i, d in zip(idx, data):
        for row, value in zip(i, d):
            expected[row] = value
    np.testing.assert_array_equal(get_kernel("ParallelDynamicStitch").fn(*idx, *data), expected)
    idx[1][3] = -2
    with pytest.raises(InvalidArgumentError, match=r"indices\[3\] is out of range"):
        get_kernel("DynamicStitch").fn(*idx, *data, N=2)


def test_tile_broadcast_and_general_paths_match_np_tile():
    """Repeating only unit dims is one broadcast copy, anything else goes through np.tile:
    both give np.tile's values in a fresh writable buffer."""
    rng = np.random.default_rng(11)
    for shape in [(3,), (1,), (8, 1, 4), (1, 1, 1, 6), (2, 0, 3), (1, 0)]:
        x = rng.standard_normal(shape).astype(np.float32)
        for _ in range(8):
            reps = rng.integers(0, 4, len(shape))
            out = get_kernel("Tile").fn(x, reps.astype(np.int32))
            np.testing.assert_array_equal(out, np.tile(x, reps))
            assert out.shape == np.tile(x, reps).shape and out.dtype == x.dtype
            assert out.flags.writeable and not np.shares_memory(out, x)


def test_gather_batch_dims_matches_a_loop():
    rng = np.random.default_rng(3)
    params = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    indices = rng.integers(0, 5, (2, 3, 6))
    out = get_kernel("GatherV2").fn(params, indices, np.int32(2), batch_dims=2)
    expected = np.stack([np.stack([params[b, c][indices[b, c]] for c in range(3)]) for b in range(2)])
    np.testing.assert_array_equal(out, expected)


@settings(max_examples=150, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=3),
       data=st.data())
def test_strided_slice_matches_numpy_basic_slicing(shape, data):
    x = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
    n = data.draw(st.integers(1, len(shape)))
    begin = data.draw(st.lists(st.integers(-7, 7), min_size=n, max_size=n))
    end = data.draw(st.lists(st.integers(-7, 7), min_size=n, max_size=n))
    strides = data.draw(st.lists(st.integers(-3, 3).filter(bool), min_size=n, max_size=n))
    begin_mask, end_mask = data.draw(st.integers(0, 2 ** n - 1)), data.draw(st.integers(0, 2 ** n - 1))
    index = tuple(slice(None if begin_mask >> i & 1 else begin[i], None if end_mask >> i & 1 else end[i],
                        strides[i]) for i in range(n))
    out = get_kernel("StridedSlice").fn(x, np.array(begin), np.array(end), np.array(strides),
                                        begin_mask=begin_mask, end_mask=end_mask)
    np.testing.assert_array_equal(out, x[index])
    assert out.shape == x[index].shape
    grad = get_kernel("StridedSliceGrad").fn(np.array(shape), np.array(begin), np.array(end),
                                             np.array(strides), np.ones(out.shape, np.float32),
                                             begin_mask=begin_mask, end_mask=end_mask)
    hit = np.zeros(shape, np.float32)
    hit[index] = 1
    np.testing.assert_array_equal(grad, hit)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(-4, 4), max_size=30))
def test_unique_keeps_first_occurrence_order(values):
    x = np.array(values, dtype=np.int64)
    y, idx, count = get_kernel("UniqueWithCounts").fn(x, out_idx=DType.INT64)
    expected = list(dict.fromkeys(values))
    assert y.tolist() == expected
    np.testing.assert_array_equal(y[idx], x)
    assert count.tolist() == [values.count(v) for v in expected]
    assert idx.dtype == count.dtype == np.int64


@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.float16, ml_dtypes.bfloat16, object])
def test_unique_dict_and_sort_paths_agree(dtype):
    """Short inputs take a dict walk, long ones a sort: both give TF's first-occurrence
    order, NaNs distinct, -0.0 and 0.0 one value (the first one seen)."""
    rng = np.random.default_rng(7)
    values = rng.integers(-6, 6, 400).astype(np.float32)
    if dtype is object:
        x = np.array([str(v).encode() for v in values], dtype=object)
    else:
        if dtype is not np.int64:
            values[::9], values[::13], values[::17] = -0.0, 0.0, np.nan
        x = values.astype(dtype)
    for n in (1, 7, partition_ops._UNIQUE_DICT_MAX, partition_ops._UNIQUE_DICT_MAX + 1, 400):
        by_dict = partition_ops._unique_by_dict(x[:n])
        by_sort = partition_ops._unique_by_sort(x[:n])
        for a, b in zip(by_dict, by_sort):
            np.testing.assert_array_equal(a, b)
        first, idx = by_dict
        y = x[:n][first]
        as_compared = (lambda a: a) if dtype is object else (lambda a: a.astype(np.float32))
        np.testing.assert_array_equal(as_compared(y[idx]), as_compared(x[:n]))   # NaN == NaN, -0 == 0
        if dtype is not object:
            assert np.isnan(y.astype(np.float32)).sum() == np.isnan(x[:n].astype(np.float32)).sum()
            zeros = first[y.astype(np.float32) == 0]
            if zeros.size:   # one zero, signed as the first zero of the input
                assert zeros.size == 1
                first_zero = np.flatnonzero(x[:n].astype(np.float32) == 0)[0]
                assert zeros[0] == first_zero


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.integers(0, 3), max_size=20))
def test_dynamic_partition_then_stitch_round_trips(parts):
    p = np.array(parts, dtype=np.int32)
    data = np.arange(p.size, dtype=np.float32) * 1.5
    pieces = get_kernel("DynamicPartition").fn(data, p, num_partitions=4)
    positions = get_kernel("DynamicPartition").fn(np.arange(p.size, dtype=np.int32), p, num_partitions=4)
    if p.size:
        back = get_kernel("DynamicStitch").fn(*positions, *pieces, N=4)
        np.testing.assert_array_equal(back, data)


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 6), before=st.integers(0, 5), after=st.integers(0, 5),
       mode=st.sampled_from([b"REFLECT", b"SYMMETRIC"]))
def test_mirror_pad_grad_is_the_adjoint_of_mirror_pad(rows, before, after, mode):
    limit = rows - (mode == b"REFLECT")
    before, after = min(before, limit), min(after, limit)
    pads = np.array([[before, after]])
    x = np.random.default_rng(rows).standard_normal(rows)
    y = np.random.default_rng(rows + 1).standard_normal(rows + before + after)
    padded = get_kernel("MirrorPad").fn(x, pads, mode=mode)
    folded = get_kernel("MirrorPadGrad").fn(y, pads, mode=mode)
    # <pad(x), y> == <x, grad(y)> for the linear map and its adjoint
    assert np.isclose(padded @ y, x @ folded)
