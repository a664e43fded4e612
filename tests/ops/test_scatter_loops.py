"""ScatterAdd/ScatterSub's compiled row loop gives np.add.at's / np.subtract.at's bits (updates
applied index after index, duplicates included); other cases keep the ufunc path."""
from __future__ import annotations

import numpy as np
import pytest

from orchestrator.ops import state_ops


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode,ufunc_at", [("add", np.add.at), ("sub", np.subtract.at)])
@pytest.mark.parametrize("shape,index_shape", [((10, 4), (30,)), ((7,), (20,)), ((5, 2, 3), (3, 3)), ((6, 5), (0,))])
def test_row_loop_matches_ufunc_at(dtype, mode, ufunc_at, shape, index_shape):
    rng = np.random.default_rng(len(shape) * 7 + len(index_shape))
    target = rng.standard_normal(shape).astype(dtype) * 100
    index = rng.integers(0, shape[0], index_shape)
    updates = rng.standard_normal(index_shape + shape[1:]).astype(dtype)
    got, want = target.copy(), target.copy()
    state_ops._apply_scatter(mode, got, index, updates)
    ufunc_at(want, index, updates)
    assert np.array_equal(got.view(np.uint8), want.view(np.uint8))


def test_row_loop_declines_what_it_does_not_cover():
    target = np.zeros((4, 2), np.float32)
    index = np.array([0, 1])
    assert not state_ops._rows_in_place(target, index, np.ones((2, 2), np.float64), False)      # dtype
    assert not state_ops._rows_in_place(target, index, np.float32(1), False)                    # scalar update
    assert not state_ops._rows_in_place(target, index, target[:2], False)                       # aliasing
    assert not state_ops._rows_in_place(target.astype(np.int32), index, np.ones((2, 2), np.int32), False)
    assert target.sum() == 0
