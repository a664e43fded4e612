"""LowerBound/UpperBound and UniqueV2/UniqueWithCountsV2 beyond TF's table (their table
cases run in test_array_ops.py): the vectorised halving loop against C++'s
lower_bound/upper_bound written out per value, and slice-wise unique against a Python walk."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.registry import get_kernel


def cpp_bound(row: list, value, upper: bool) -> int:
    """libstdc++'s std::lower_bound / std::upper_bound, one value at a time."""
    first, length = 0, len(row)
    while length > 0:
        half = length // 2
        middle = first + half
        advance = not (value < row[middle]) if upper else row[middle] < value
        if advance:
            first, length = middle + 1, length - half - 1
        else:
            length = half
    return first


FLOATS = st.one_of(st.integers(-5, 5).map(float), st.just(float("nan")))


@settings(max_examples=120, deadline=None)
@given(batch=st.integers(1, 3), data=st.data(), sort=st.booleans())
def test_bounds_follow_cpp_binary_search_even_with_nan_or_unsorted_rows(batch, data, sort):
    n, m = data.draw(st.integers(0, 9)), data.draw(st.integers(0, 6))
    rows = [data.draw(st.lists(FLOATS, min_size=n, max_size=n)) for _ in range(batch)]
    if sort:
        rows = [sorted(r, key=lambda v: (v != v, v)) for r in rows]   # NaNs last, as tf.sort puts them
    values = [data.draw(st.lists(FLOATS, min_size=m, max_size=m)) for _ in range(batch)]
    sorted_inputs = np.array(rows, np.float32).reshape(batch, n)
    vals = np.array(values, np.float32).reshape(batch, m)
    sorted_inputs.flags.writeable = vals.flags.writeable = False
    for op, upper in (("LowerBound", False), ("UpperBound", True)):
        got = get_kernel(op).fn(sorted_inputs, vals, out_type=DType.INT64)
        want = [[cpp_bound(sorted_inputs[b].tolist(), v, upper) for v in vals[b].tolist()] for b in range(batch)]
        assert got.dtype == np.int64 and got.shape == (batch, m)
        assert got.tolist() == want


def test_bounds_on_sorted_rows_equal_numpy_searchsorted():
    rng = np.random.default_rng(5)
    sorted_inputs = np.sort(rng.integers(0, 50, (4, 300)), axis=1).astype(np.int32)
    values = rng.integers(-2, 53, (4, 200)).astype(np.int32)
    for op, side in (("LowerBound", "left"), ("UpperBound", "right")):
        got = get_kernel(op).fn(sorted_inputs, values)
        assert got.dtype == np.int32
        want = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(sorted_inputs, values)])
        np.testing.assert_array_equal(got, want)


def python_unique_slices(x: np.ndarray, axis: int) -> tuple[list, list, list]:
    slices = [np.take(x, i, axis=axis) for i in range(x.shape[axis])]
    firsts: list[int] = []
    idx: list[int] = []
    for i, s in enumerate(slices):
        for g, f in enumerate(firsts):
            if np.array_equal(slices[f], s):   # NaN != NaN, -0.0 == 0.0: TF's element ==
                idx.append(g)
                break
        else:
            idx.append(len(firsts))
            firsts.append(i)
    counts = [idx.count(g) for g in range(len(firsts))]
    return firsts, idx, counts


@settings(max_examples=80, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3), data=st.data())
def test_unique_with_counts_v2_matches_a_python_walk_over_slices(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = int(np.prod(shape))
    values = data.draw(st.lists(st.sampled_from([0.0, -0.0, 1.0, float("nan")]), min_size=size, max_size=size))
    x = np.array(values, np.float32).reshape(shape)
    x.flags.writeable = False
    y, idx, counts = get_kernel("UniqueWithCountsV2").fn(x, np.array([axis], np.int64), out_idx=DType.INT64)
    firsts, want_idx, want_counts = python_unique_slices(x, axis % len(shape))
    np.testing.assert_array_equal(y, np.take(x, firsts, axis=axis))
    assert idx.tolist() == want_idx and counts.tolist() == want_counts
    assert idx.dtype == counts.dtype == np.int64


def test_unique_v2_without_axis_is_unique():
    x = np.array([3, 1, 3, 2, 1], np.int32)
    y, idx = get_kernel("UniqueV2").fn(x, np.array([], np.int64))
    y1, idx1 = get_kernel("Unique").fn(x)
    np.testing.assert_array_equal(y, y1)
    np.testing.assert_array_equal(idx, idx1)
    with pytest.raises(InvalidArgumentError, match=r"UniqueV2: unique expects a 1D vector\. Found shape \[1,5\]"):
        get_kernel("UniqueV2").fn(x[None], np.array([], np.int64))
