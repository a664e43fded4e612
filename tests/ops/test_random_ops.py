"""Random kernels reproduce TF's Philox streams exactly (tests/fixtures/ops/random.*):
several seeds, shapes and dtypes, and successive runs of one op in one session."""
from __future__ import annotations

import json
import types
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from orchestrator.dtypes import as_dtype
from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.exec.state import KernelContext, SessionState
from orchestrator.ops import philox, random_ops
from orchestrator.ops.registry import get_kernel, registered_op_types

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ops"
CASES = json.loads((FIXTURES / "random.json").read_text())
with np.load(FIXTURES / "random.npz") as _npz:
    ARRAYS = {k: _npz[k] for k in _npz.files}
TYPE_ATTRS = {"dtype", "Tout", "T"}


def expected(key: str) -> np.ndarray:
    a = ARRAYS[key]
    return a.view(ml_dtypes.bfloat16) if a.dtype.kind == "V" and a.dtype.itemsize == 2 else a


def attrs_of(case: dict) -> dict:
    kdef = get_kernel(case["op"])
    out = {k: as_dtype(v) if k in TYPE_ATTRS else v for k, v in case["attrs"].items()}
    return {k: v for k, v in out.items() if k in kdef.attr_names}


def ctx_for(state: SessionState, name: str = "dropout/random_uniform/RandomUniform") -> KernelContext:
    return KernelContext(node=types.SimpleNamespace(name=name), state=state)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_random_op_table_is_bit_exact(case):
    kdef = get_kernel(case["op"])
    inputs = [ARRAYS[k] for k in case["inputs"]]
    state = SessionState()
    for run, out_key in enumerate(case["outputs"]):
        if kdef.needs_ctx:
            got = kdef.fn(*inputs, ctx=ctx_for(state), **attrs_of(case))
        else:
            got = kdef.fn(*inputs, **attrs_of(case))
        want = expected(out_key)
        assert got.dtype == want.dtype and got.shape == want.shape, (run, got.dtype, got.shape)
        assert np.array_equal(got.reshape(-1).view(np.uint8), want.reshape(-1).view(np.uint8)), f"run {run} differs"


def test_every_random_kernel_is_in_the_table():
    ours = {t for t in registered_op_types() if get_kernel(t).fn.__module__ == random_ops.__name__}
    assert ours - {c["op"] for c in CASES} == set()


def test_counter_is_per_op_and_a_fresh_session_replays():
    kdef = get_kernel("RandomUniform")
    shape = np.array([6], np.int32)
    s1 = SessionState()
    a1 = kdef.fn(shape, ctx=ctx_for(s1, "a"), seed=1, seed2=2)
    b1 = kdef.fn(shape, ctx=ctx_for(s1, "b"), seed=1, seed2=2)   # another op, same seeds
    a2 = kdef.fn(shape, ctx=ctx_for(s1, "a"), seed=1, seed2=2)
    np.testing.assert_array_equal(a1, b1)
    assert not np.array_equal(a1, a2)
    assert s1.random_offsets == {"a": 2 * 6 * 256, "b": 6 * 256}
    replay = kdef.fn(shape, ctx=ctx_for(SessionState(), "a"), seed=1, seed2=2)
    np.testing.assert_array_equal(replay, a1)


def test_both_seeds_zero_is_nondeterministic_but_uniform():
    kdef = get_kernel("RandomUniform")
    state = SessionState()
    x = kdef.fn(np.array([20000]), ctx=ctx_for(state), seed=0, seed2=0)
    y = kdef.fn(np.array([20000]), ctx=ctx_for(state), seed=0, seed2=0)
    assert not np.array_equal(x, y) and not state.random_offsets
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() < 1
    assert abs(float(x.mean()) - 0.5) < 0.01
    n = get_kernel("TruncatedNormal").fn(np.array([20000]), ctx=ctx_for(state), seed=0, seed2=0)
    assert np.abs(n).max() < 2 and abs(float(n.std()) - 0.88) < 0.02


def test_counter_carries_into_the_high_half():
    words = philox.philox_words(key=9, counter_hi=4, first_block=2 ** 64 - 1, num_blocks=2)
    np.testing.assert_array_equal(words[1], philox.philox_words(9, 5, 0, 1)[0])


def test_packed_and_numpy_rounds_agree():
    """Few blocks run on packed Python integers, many as numpy arrays: same words, carries
    and all-ones counters included, and philox_words switches paths without a seam."""
    rng = np.random.default_rng(5)
    for n in (1, 3, philox.PACKED_MAX_BLOCKS + 5):
        lo = rng.integers(0, 2 ** 64, n, dtype=np.uint64)
        hi = rng.integers(0, 2 ** 64, n, dtype=np.uint64)
        lo[0] = hi[0] = 2 ** 64 - 1
        key = int(rng.integers(0, 2 ** 63)) * 2 + 1
        np.testing.assert_array_equal(philox._rounds_packed(lo, hi, key), philox._rounds_numpy(lo, hi, key))
    limit = philox.PACKED_MAX_BLOCKS
    many = philox.philox_words(key=7, counter_hi=3, first_block=2 ** 64 - 5, num_blocks=limit + 1)
    few = philox.philox_words(key=7, counter_hi=3, first_block=2 ** 64 - 5, num_blocks=limit)
    np.testing.assert_array_equal(many[:limit], few)


def test_bad_inputs():
    ctx = ctx_for(SessionState())
    with pytest.raises(InvalidArgumentError, match="minval < maxval"):
        get_kernel("RandomUniformInt").fn(np.array([2]), np.int32(3), np.int32(3), ctx=ctx, seed=1)
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        get_kernel("RandomUniform").fn(np.array([2, -1]), ctx=ctx, seed=1)
    with pytest.raises(UnimplementedError, match="algorithm 2"):
        get_kernel("StatelessRandomUniformV2").fn(np.array([2]), np.array([1], np.uint64),
                                                  np.array([0, 0], np.uint64), np.int32(2))


def test_without_libm_values_stay_close(monkeypatch):
    """The numpy fallback (no C library) is correctly rounded: within an ulp of TF."""
    case = next(c for c in CASES if c["op"] == "RandomStandardNormal" and c["attrs"]["dtype"] == "float32")
    monkeypatch.setattr(random_ops, "_libm", lambda: None)
    got = get_kernel(case["op"]).fn(*[ARRAYS[k] for k in case["inputs"]], ctx=ctx_for(SessionState()),
                                    **attrs_of(case))
    np.testing.assert_allclose(got, expected(case["outputs"][0]), rtol=1e-6, atol=1e-6)
