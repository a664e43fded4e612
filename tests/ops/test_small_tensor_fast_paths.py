"""Fast paths for kernels on tiny tensors give the bits of the checked numpy paths they
skip (TF's values themselves are checked by the TF-made op tables; here each fast path
is compared with its fallback on random inputs, edge values included), and bad input
still reaches the checked path's error."""
from __future__ import annotations

import types
import warnings

import numpy as np
import pytest

from orchestrator.errors import InvalidArgumentError
from orchestrator.exec.state import KernelContext, Ref, ResourceHandle, SessionState
from orchestrator.ops import training_loops
from orchestrator.ops.registry import get_kernel


def same_bits(got: np.ndarray, want: np.ndarray) -> bool:
    return (type(got) is np.ndarray and got.dtype == want.dtype and got.shape == want.shape
            and got.tobytes() == want.tobytes())


# ------------------------------------------------------------------ Adagrad

def _adagrad_case(rng: np.random.Generator, trial: int) -> tuple[str, np.ndarray, np.ndarray, tuple, bool]:
    dtype = (np.float32, np.float64)[trial % 2]
    shape = tuple(int(d) for d in rng.integers(1, 5, int(rng.integers(1, 4))))
    var = rng.standard_normal(shape).astype(dtype)
    accum = np.abs(rng.standard_normal(shape)).astype(dtype)
    if trial % 7 == 0:
        accum.reshape(-1)[0] = 0                     # rsqrt(0): inf, then NaN/inf updates
    if trial % 11 == 0:
        var.reshape(-1)[-1] = np.nan
    lr = np.array(rng.choice([0.1, 0.5, 1e-3, 3.7]), dtype)
    scale = 10.0 ** int(rng.integers(-4, 2))
    if trial % 3:
        n = int(rng.integers(0, 7))                  # repeats likely: rows are few
        indices = rng.integers(0, shape[0], n).astype((np.int32, np.int64)[trial % 4 // 2])
        grad = (rng.standard_normal((n,) + shape[1:]) * scale).astype(dtype)
        return "SparseApplyAdagrad", var, accum, (lr, grad, indices), bool(trial % 5)
    grad = (rng.standard_normal(shape) * scale).astype(dtype)
    return "ApplyAdagrad", var, accum, (lr, grad), bool(trial % 5)


def _run_adagrad(op: str, var: np.ndarray, accum: np.ndarray, rest: tuple, update_slots: bool) -> list:
    refs = [Ref("v"), Ref("a")]
    refs[0].set(var.copy())
    refs[1].set(accum.copy())
    aliases = [r.value for r in refs]
    get_kernel(op).fn(*refs, *rest, use_locking=False, update_slots=update_slots)
    assert all(r.value is a for r, a in zip(refs, aliases))      # updated in place
    state = SessionState()
    handles = [ResourceHandle("", f"slot{i}", a.dtype, a.shape) for i, a in enumerate((var, accum))]
    for h, init in zip(handles, (var, accum)):
        state.resource_variable(h, create=True).set(init.copy())
    ctx = KernelContext(node=types.SimpleNamespace(name=op), state=state)
    get_kernel("Resource" + op).fn(*handles, *rest, ctx=ctx, update_slots=update_slots)
    return [r.value for r in refs] + [state.resource_variable(h).get() for h in handles]


def test_adagrad_loops_match_numpy_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    cases = [_adagrad_case(rng, trial) for trial in range(240)]
    with np.errstate(all="ignore"):
        fast = [_run_adagrad(*case) for case in cases]
        monkeypatch.setattr(training_loops, "adagrad_in_place", lambda *a: False)
        monkeypatch.setattr(training_loops, "sparse_adagrad_in_place", lambda *a: False)
        slow = [_run_adagrad(*case) for case in cases]
    for case, got, want in zip(cases, fast, slow):
        assert all(same_bits(g, w) for g, w in zip(got, want)), case[0]


def test_adagrad_loops_take_the_usual_operands_only() -> None:
    var, accum = np.ones((3, 2), np.float32), np.ones((3, 2), np.float32)
    lr, grad = np.array(0.1, np.float32), np.ones((3, 2), np.float32)
    assert training_loops.adagrad_in_place(var.copy(), accum.copy(), lr, grad, True)
    assert not training_loops.adagrad_in_place(None, accum, lr, grad, True)
    assert not training_loops.adagrad_in_place(var, accum, np.float32(0.1), grad, True)   # not an array
    assert not training_loops.adagrad_in_place(var, accum, lr, grad.astype(np.float64), True)
    assert not training_loops.adagrad_in_place(var.astype(np.float16), accum.astype(np.float16),
                                               lr.astype(np.float16), grad.astype(np.float16), True)
    frozen = var.copy()
    frozen.flags.writeable = False
    assert not training_loops.adagrad_in_place(frozen, accum, lr, grad, True)
    assert not training_loops.adagrad_in_place(var, accum, lr, np.asfortranarray(grad), True)
    assert not training_loops.adagrad_in_place(var, accum, lr, var[:], True)   # shares var's memory
    assert np.array_equal(var, np.ones((3, 2), np.float32))                   # nothing written
    indices = np.array([0, 3])
    assert not training_loops.sparse_adagrad_in_place(var, accum, lr, grad[:2], indices, True)
    assert np.array_equal(var, np.ones((3, 2), np.float32)) and np.array_equal(accum, var)


def test_sparse_adagrad_out_of_range_index_still_reports() -> None:
    var, accum = Ref("emb"), Ref("emb/Adagrad")
    var.set(np.ones((3, 2), np.float32))
    accum.set(np.ones((3, 2), np.float32))
    grad = np.ones((2, 2), np.float32)
    with pytest.raises(InvalidArgumentError, match=r"Index 3 at offset 1.*emb"):
        get_kernel("SparseApplyAdagrad").fn(var, accum, np.array(0.1, np.float32), grad, np.array([0, 3]))
    assert np.array_equal(var.value, np.ones((3, 2), np.float32))


def test_adagrad_gradient_aliasing_a_slot_reads_old_values() -> None:
    """A gradient that is a view of the accumulator goes through the numpy path."""
    var, accum = Ref("v"), Ref("a")
    var.set(np.full((2, 2), 2.0, np.float32))
    accum.set(np.full((2, 2), 4.0, np.float32))
    get_kernel("ApplyAdagrad").fn(var, accum, np.array(1.0, np.float32), accum.value[:])
    assert np.array_equal(accum.value, np.full((2, 2), 20.0, np.float32))
    assert np.array_equal(var.value, np.full((2, 2), 2.0 - 4.0 / np.sqrt(np.float32(20.0)), np.float32))


# ------------------------------------------------------------------ UnsortedSegmentSum

def _segment_case(rng: np.random.Generator, trial: int) -> tuple[np.ndarray, np.ndarray, int]:
    dtype = (np.float32, np.float64, np.int32, np.int64)[trial % 4]
    ids_shape = tuple(int(d) for d in rng.integers(0, 5, int(rng.integers(0, 3))))
    tail = tuple(int(d) for d in rng.integers(0, 4, int(rng.integers(0, 3))))
    num = int(rng.integers(0, 6))
    low = -2 if trial % 3 == 0 or num == 0 else 0               # negative ids are dropped
    ids = rng.integers(low, max(num, low + 1) if num else 0, ids_shape).astype((np.int32, np.int64)[trial % 2])
    if dtype in (np.int32, np.int64):
        info = np.iinfo(dtype)                       # large values: sums wrap around
        data = rng.integers(info.min // 2, info.max // 2, ids_shape + tail, dtype=dtype)
    else:
        data = (rng.standard_normal(ids_shape + tail) * 10.0 ** int(rng.integers(-3, 4))).astype(dtype)
        if data.size and trial % 5 == 0:
            data.reshape(-1)[0] = (np.nan, np.inf, -0.0)[trial % 3]
    return np.asarray(data), np.asarray(ids), num       # 0-d draws come as numpy scalars


def test_unsorted_segment_sum_loop_matches_numpy_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.ops import segment_ops
    kernel_fn = get_kernel("UnsortedSegmentSum").fn
    rng = np.random.default_rng(11)
    cases = [_segment_case(rng, trial) for trial in range(400)]
    fast = [kernel_fn(data, ids, np.array(num, np.int32)) for data, ids, num in cases]
    assert all(segment_ops._unsorted_sum_fast(*case) is not None for case in cases)
    monkeypatch.setattr(segment_ops, "_unsorted_sum_fast", lambda *a: None)
    with np.errstate(all="ignore"):
        slow = [kernel_fn(data, ids, np.array(num, np.int32)) for data, ids, num in cases]
    for got, want in zip(fast, slow):
        assert same_bits(got, want)


def test_unsorted_segment_sum_errors_stay() -> None:
    kernel_fn = get_kernel("UnsortedSegmentSum").fn
    data = np.ones((3, 2), np.float32)
    with pytest.raises(InvalidArgumentError, match=r"segment_ids\[2\] = 4 is out of range \[0, 4\)"):
        kernel_fn(data, np.array([0, -1, 4]), np.array(4))
    with pytest.raises(InvalidArgumentError, match=r"does not start with segment_ids.shape = \[2\]"):
        kernel_fn(data, np.array([0, 1]), np.array(4))


# ------------------------------------------------------------------ FloorDiv / FloorMod

@pytest.mark.parametrize("op", ["FloorDiv", "FloorMod"])
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint64])
def test_floor_division_by_an_integer_scalar(op: str, dtype: type) -> None:
    """The unchecked path (divisor not 0/-1) and the checked one agree with floor semantics,
    without numpy warnings; a zero divisor is still an error."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(3)
    x = rng.integers(info.min, info.max, 50, dtype=dtype, endpoint=True)
    x[:2] = info.min, info.max
    divisors = [1, 2, 7, int(info.max)] + ([-2, -7, -1, int(info.min)] if info.min < 0 else [])
    kernel_fn = get_kernel(op).fn
    span = int(info.max) - int(info.min) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for divisor in divisors:
            got = kernel_fn(x, np.array(divisor, dtype))
            exact = [int(v) // divisor if op == "FloorDiv" else int(v) % divisor for v in x]
            wrapped = [(w - int(info.min)) % span + int(info.min) for w in exact]   # min // -1
            assert got.dtype == dtype and got.tolist() == wrapped
            assert kernel_fn(x[:1].reshape(()), np.array(divisor, dtype)).shape == ()
    with pytest.raises(InvalidArgumentError, match=f"{op}: Integer division by zero"):
        kernel_fn(x, np.array(0, dtype))


# ------------------------------------------------------------------ StridedSlice

def test_strided_slice_repeat_calls_match_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second call of a signature reuses the validated spec: same values, dtype, shape."""
    from orchestrator.ops import slicing_ops
    kernel_fn = get_kernel("StridedSlice").fn
    rng = np.random.default_rng(4)
    checked = 0
    for trial in range(300):
        shape = tuple(int(d) for d in rng.integers(1, 5, int(rng.integers(1, 4))))
        x = rng.standard_normal(shape).astype(np.float32)
        n = int(rng.integers(1, len(shape) + 1))
        index_type = (np.int32, np.int64)[trial % 2]
        begin = rng.integers(-4, 4, n).astype(index_type)
        end = rng.integers(-4, 5, n).astype(index_type)
        strides = rng.choice([1, 2, -1, -2], n).astype(index_type)
        masks = {"begin_mask": int(rng.integers(0, 1 << n)), "end_mask": int(rng.integers(0, 1 << n)),
                 "new_axis_mask": int(rng.choice([0, 1 << int(rng.integers(0, n))])),
                 "shrink_axis_mask": int(rng.choice([0, 1])) if begin[0] >= 0 else 0}
        if masks["shrink_axis_mask"]:
            strides[0], end[0] = 1, begin[0] + 1
        monkeypatch.setattr(slicing_ops, "_FAST_SPECS", {})
        try:
            first = kernel_fn(x, begin, end, strides, **masks)
        except InvalidArgumentError:
            assert slicing_ops._FAST_SPECS == {}                 # failures are not remembered
            continue
        again = kernel_fn(x, begin, end, strides, **masks)
        assert len(slicing_ops._FAST_SPECS) == 1 and same_bits(again, first)
        plain = np.array(x[slicing_ops.strided_slice_spec(
            "StridedSlice", x.shape, begin, end, strides, **masks).index])
        assert np.array_equal(first.reshape(-1), plain.reshape(-1))
        checked += 1
    assert checked > 150


def test_strided_slice_element_of_strings_stays_an_object_array() -> None:
    kernel_fn = get_kernel("StridedSlice").fn
    names = np.array([b"a.tfrecord", b"b.tfrecord"], dtype=object)
    one = np.array([1], np.int32)
    for _ in range(2):                                        # spec computed, then reused
        got = kernel_fn(names, one, one + 1, one, shrink_axis_mask=1)
        assert got.dtype == object and got.shape == () and got[()] == b"b.tfrecord"


def test_strided_slice_cached_signature_still_checks_new_values() -> None:
    kernel_fn = get_kernel("StridedSlice").fn
    x = np.arange(4, dtype=np.int32)
    one = np.array([1], np.int32)
    kernel_fn(x, one, one + 1, one, shrink_axis_mask=1)
    with pytest.raises(InvalidArgumentError, match="slice index 7 of dimension 0 out of bounds"):
        kernel_fn(x, one * 7, one * 8, one, shrink_axis_mask=1)


# ------------------------------------------------------------------ Sum / Mean

def _reduction_case(rng: np.random.Generator, trial: int) -> tuple[np.ndarray, np.ndarray, bool]:
    dtype = (np.float32, np.float64)[trial % 2]
    shape = tuple(int(d) for d in rng.choice([1, 2, 3, 4, 5, 7, 8, 9], int(rng.integers(1, 5))))
    x = (rng.standard_normal(shape) * 10.0 ** int(rng.integers(-3, 5))).astype(dtype)
    if trial % 5 == 0:
        x.reshape(-1)[int(rng.integers(0, x.size))] = (np.nan, np.inf, -np.inf)[trial % 3]
    if trial % 7 == 0:
        x[...] = -0.0                          # sums of -0.0 columns start from +0.0
    axes = np.unique(rng.integers(-x.ndim, x.ndim, int(rng.integers(1, x.ndim + 1))) % x.ndim)
    rng.shuffle(axes)
    return x, axes.astype((np.int32, np.int64)[trial % 4 // 2]), bool(trial % 3 == 0)


@pytest.mark.parametrize("op", ["Sum", "Mean"])
def test_small_sums_match_the_tf_order_path(monkeypatch: pytest.MonkeyPatch, op: str) -> None:
    from orchestrator.ops import reduction_ops
    kernel_fn = get_kernel(op).fn
    rng = np.random.default_rng(17)
    cases = [_reduction_case(rng, trial) for trial in range(400)]
    fast = [kernel_fn(x, axes, keep_dims=keep) for x, axes, keep in cases]
    taken = sum(reduction_ops._small_sum(op, x, axes, keep) is not None for x, axes, keep in cases)
    assert taken > 150                                      # the loop really ran on many
    monkeypatch.setattr(reduction_ops, "_small_sum", lambda *a: None)
    slow = [kernel_fn(x, axes, keep_dims=keep) for x, axes, keep in cases]
    for got, want in zip(fast, slow):
        assert same_bits(got, want)


def test_small_sums_keep_the_errors() -> None:
    x = np.ones((2, 3), np.float32)
    get_kernel("Sum").fn(x, np.array([1], np.int32))        # a remembered signature ...
    with pytest.raises(InvalidArgumentError, match=r"Invalid reduction dimension \(2 for input with 2"):
        get_kernel("Sum").fn(x, np.array([2], np.int32))    # ... does not cover other axes
    with pytest.raises(InvalidArgumentError, match="duplicate dimension: 1"):
        get_kernel("Mean").fn(x, np.array([1, -1], np.int32))


# ------------------------------------------------------------------ FusedBatchNorm

def _batch_norm_case(rng: np.random.Generator, trial: int) -> tuple[np.ndarray, ...]:
    dtype = (np.float32, np.float64)[trial % 2]
    shape = (int(rng.integers(1, 5)), int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(2, 9)))
    x = (rng.standard_normal(shape) * 10.0 ** int(rng.integers(-2, 3)) + rng.standard_normal()).astype(dtype)
    if trial % 7 == 0:
        x.reshape(-1)[0] = (np.nan, np.inf, -0.0)[trial % 3]
    if trial % 11 == 0:
        x[...] = 1.5                                   # zero variance: 1/sqrt(epsilon)
    vectors = [rng.standard_normal(shape[3]).astype(dtype) for _ in range(3)]
    variance = np.abs(rng.standard_normal(shape[3])).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    return x, vectors[0], vectors[1], vectors[2], variance, dy


def _run_batch_norm(case: tuple, trial: int) -> list[np.ndarray]:
    x, scale, offset, mean, variance, dy = case
    factor = (1.0, 0.9, 0.01)[trial % 3]
    training = trial % 5 != 0
    forward = get_kernel("FusedBatchNormV3").fn(x, scale, offset, mean, variance, epsilon=1e-3,
                                                exponential_avg_factor=factor, is_training=training)
    grad = get_kernel("FusedBatchNormGradV3").fn(dy, x, scale, forward[3], forward[4], forward[5],
                                                 epsilon=1e-3, is_training=training)
    return list(forward) + list(grad)


def test_batch_norm_loops_match_numpy_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.ops import norm_ops
    rng = np.random.default_rng(23)
    cases = [_batch_norm_case(rng, trial) for trial in range(150)]
    assert all(norm_ops._loops_apply(case[0], (case[0].shape[3],), *case[1:]) for case in cases)
    with np.errstate(all="ignore"):
        fast = [_run_batch_norm(case, trial) for trial, case in enumerate(cases)]
        monkeypatch.setattr(norm_ops, "_loops_apply", lambda *a: False)
        slow = [_run_batch_norm(case, trial) for trial, case in enumerate(cases)]
    for got, want in zip(fast, slow):
        assert len(got) == len(want) and all(same_bits(g, w) for g, w in zip(got, want))


def test_batch_norm_loops_leave_one_channel_and_nchw_to_numpy() -> None:
    from orchestrator.ops import norm_ops
    x = np.ones((2, 3, 3, 1), np.float32)
    one = np.ones(1, np.float32)
    assert not norm_ops._loops_apply(x, (1,), one, one)          # pairwise sums in numpy there
    assert not norm_ops._loops_apply(np.ones((2, 4, 3, 3), np.float32), (4, 1, 1), one)
    assert not norm_ops._loops_apply(np.ones((2, 3, 3, 4), np.float16), (4,), one)


# ------------------------------------------------------------------ RealDiv / DivNoNan on scalars

def _random_float(rng: np.random.Generator, dtype: type) -> np.ndarray:
    """Any bit pattern of the type (NaNs, infinities, subnormals, extremes included)."""
    bits = rng.integers(0, 2 ** (8 * np.dtype(dtype).itemsize), dtype=np.uint64)
    return np.frombuffer(bits.astype(np.uint32 if dtype == np.float32 else np.uint64).tobytes(), dtype)[0]


@pytest.mark.parametrize("op", ["RealDiv", "DivNoNan"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scalar_division_matches_numpy_bits(op: str, dtype: type) -> None:
    rng = np.random.default_rng(5)
    kernel_fn = get_kernel(op).fn
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, 3.0, 7.0, 1e-45, 3.4e38, 1e-300, 1e300]
    with np.errstate(all="ignore"):                      # 1e300 overflows float32: inf
        values = [np.array(v, dtype) for v in specials]
        values += [np.array(_random_float(rng, dtype)) for _ in range(300)]
    pairs = [(a, b) for a in values[:40] for b in values[:40]] + list(zip(values, values[::-1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no numpy warnings leak out
        for x, y in pairs:
            got = kernel_fn(x, y)
            with np.errstate(all="ignore"):
                want = np.divide(x, y)
                if op == "DivNoNan" and y == 0:
                    want = np.zeros((), dtype)
            assert same_bits(got, np.asarray(want)), (x, y)


# ------------------------------------------------------------------ pooling

def _pool_case(rng: np.random.Generator, trial: int) -> tuple[np.ndarray, dict, np.ndarray, np.ndarray]:
    dtype = (np.float32, np.float64)[trial % 2]
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    shape = (int(rng.integers(1, 3)), int(rng.integers(kh, 9)), int(rng.integers(kw, 9)), int(rng.integers(1, 4)))
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    if trial % 4 == 0:
        x = np.maximum(np.round(x), 0)               # ReLU-like: many tied zeros
    if trial % 6 == 0:
        x.reshape(-1)[rng.integers(0, x.size, 3)] = (np.nan, np.inf, -np.inf)[trial % 3]
    if trial % 10 == 0:
        x.reshape(-1)[rng.integers(0, x.size, 2)] = -0.0  # MaxPool leaves these to numpy
    strides = (kh, kw) if trial % 3 == 0 else (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    attrs = {"ksize": [1, kh, kw, 1], "strides": [1, *strides, 1], "padding": (b"SAME", b"VALID")[trial % 2]}
    grads = [(rng.standard_normal(shape) * 2).astype(dtype) for _ in range(2)]    # cut to size below
    for g in grads:
        g.reshape(-1)[0] = (-0.0, np.inf, 1.0)[trial % 3]
    return x, attrs, grads[0], grads[1]


def _run_pools(x: np.ndarray, attrs: dict, g1: np.ndarray, g2: np.ndarray) -> list[np.ndarray]:
    pooled = get_kernel("MaxPool").fn(x, **attrs)
    if not pooled.size:
        return [pooled]
    grad = g1.reshape(-1)[:pooled.size].reshape(pooled.shape)
    averaged = get_kernel("AvgPool").fn(x, **attrs)
    avg_grad = g2.reshape(-1)[:averaged.size].reshape(averaged.shape)
    return [pooled, get_kernel("MaxPoolGrad").fn(x, pooled, grad, **attrs), averaged,
            get_kernel("AvgPoolGrad").fn(np.array(x.shape, np.int32), avg_grad, **attrs)]


def test_pool_loops_match_numpy_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.ops import pool_loops
    rng = np.random.default_rng(29)
    cases = [_pool_case(rng, trial) for trial in range(300)]
    fast = [_run_pools(*case) for case in cases]
    monkeypatch.setattr(pool_loops, "applies", lambda *a: False)
    slow = [_run_pools(*case) for case in cases]
    for got, want in zip(fast, slow):
        assert len(got) == len(want) and all(same_bits(g, w) for g, w in zip(got, want))


def test_max_pool_grad_routes_to_tf_scan_pick() -> None:
    """A leading NaN sticks (TF's scan never replaces it); ties go to the first element."""
    x = np.array([np.nan, 5.0, 2.0, 2.0, 1.0, 1.0, 3.0, 3.0], np.float32).reshape(1, 2, 4, 1)
    attrs = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": b"VALID"}
    pooled = get_kernel("MaxPool").fn(x, **attrs)
    assert pooled.reshape(-1).tolist() == [5.0, 3.0]
    grad = get_kernel("MaxPoolGrad").fn(x, pooled, np.array([10.0, 20.0], np.float32).reshape(1, 1, 2, 1), **attrs)
    assert grad.reshape(2, 4).tolist() == [[10.0, 0.0, 0.0, 0.0], [0.0, 0.0, 20.0, 0.0]]


# ------------------------------------------------------------------ SparseSoftmaxCrossEntropyWithLogits

def test_sparse_softmax_cross_entropy_loops_match_numpy_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.ops import nn_loops
    kernel_fn = get_kernel("SparseSoftmaxCrossEntropyWithLogits").fn
    rng = np.random.default_rng(13)
    cases = []
    for trial in range(300):
        dtype = (np.float32, np.float64)[trial % 2]
        classes = int(rng.integers(1, 12)) if trial % 3 else int(rng.integers(1, 129))   # pairwise blocks
        logits = (rng.standard_normal((int(rng.integers(1, 9)), classes)) * 10.0 ** int(rng.integers(-3, 3)))
        logits = np.round(logits) if trial % 5 == 0 else logits                         # tied maxima
        labels = rng.integers(0, classes, logits.shape[0]).astype((np.int32, np.int64)[trial % 4 // 2])
        cases.append((logits.astype(dtype), labels))
    assert all(nn_loops.sparse_softmax_cross_entropy(*case) is not None for case in cases)
    fast = [kernel_fn(*case) for case in cases]
    monkeypatch.setattr(nn_loops, "sparse_softmax_cross_entropy", lambda *a: None)
    slow = [kernel_fn(*case) for case in cases]
    for got, want in zip(fast, slow):
        assert same_bits(got[0], want[0]) and same_bits(got[1], want[1])


def test_sparse_softmax_cross_entropy_loops_leave_bad_input_to_the_checks() -> None:
    from orchestrator.ops import nn_loops
    logits = np.zeros((2, 3), np.float32)
    assert nn_loops.sparse_softmax_cross_entropy(logits, np.array([0, 3], np.int32)) is None
    assert nn_loops.sparse_softmax_cross_entropy(np.array([[0, np.inf, 1]], np.float32),
                                                      np.array([0], np.int32)) is None
    with pytest.raises(InvalidArgumentError, match=r"label value of 3 which is outside the valid range of \[0, 3\)"):
        get_kernel("SparseSoftmaxCrossEntropyWithLogits").fn(logits, np.array([0, 3], np.int32))


@pytest.mark.parametrize("op", ["RealDiv", "DivNoNan"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tensor_by_scalar_division_matches_numpy_bits(op: str, dtype: type) -> None:
    rng = np.random.default_rng(6)
    kernel_fn = get_kernel(op).fn
    with np.errstate(all="ignore"):
        x = np.array([_random_float(rng, dtype) for _ in range(200)], dtype).reshape(4, 50)
        divisors = [np.array(v, dtype) for v in (3.0, -0.5, 1e-38, 1e-45, np.inf, np.nan, 0.0, -0.0)]
        divisors += [np.array(_random_float(rng, dtype)) for _ in range(20)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for y in divisors:
            got = kernel_fn(x, y)
            with np.errstate(all="ignore"):
                want = np.zeros_like(x) if op == "DivNoNan" and y == 0 else np.divide(x, y)
            assert same_bits(got, want), y


# ------------------------------------------------------------------ BiasAddGrad

def test_bias_add_grad_loop_matches_numpy_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.ops import nn_ops
    kernel_fn = get_kernel("BiasAddGrad").fn
    rng = np.random.default_rng(15)
    cases = []
    for trial in range(200):
        shape = tuple(int(d) for d in rng.integers(1, 9, int(rng.integers(2, 5))))
        grad = rng.standard_normal(shape) * 10.0 ** int(rng.integers(-3, 4))
        grad = grad.astype((np.float32, np.float64)[trial % 2])
        if trial % 7 == 0:
            grad[...] = -0.0                         # column sums start from +0
        cases.append(grad)
    fast = [kernel_fn(grad) for grad in cases]
    monkeypatch.setattr(nn_ops, "_COLUMN_SUM_DTYPES", frozenset())
    slow = [kernel_fn(grad) for grad in cases]
    for got, want in zip(fast, slow):
        assert same_bits(got, want)


def test_softmax_cross_entropy_loops_match_numpy_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.ops import nn_loops
    kernel_fn = get_kernel("SoftmaxCrossEntropyWithLogits").fn
    rng = np.random.default_rng(19)
    cases = []
    for trial in range(300):
        dtype = (np.float32, np.float64)[trial % 2]
        classes = int(rng.integers(1, 12)) if trial % 3 else int(rng.integers(1, 129))
        logits = rng.standard_normal((int(rng.integers(1, 9)), classes)) * 10.0 ** int(rng.integers(-3, 3))
        labels = rng.random(logits.shape)
        labels /= labels.sum(axis=1, keepdims=True)
        if trial % 5 == 0:
            labels.reshape(-1)[0] = (np.nan, np.inf, -0.0, 2.0, -1.0)[trial % 5 // 1 % 5]
        cases.append((logits.astype(dtype), labels.astype(dtype)))
    assert all(nn_loops.softmax_cross_entropy(*case) is not None for case in cases)
    with np.errstate(all="ignore"):
        fast = [kernel_fn(*case) for case in cases]
        monkeypatch.setattr(nn_loops, "softmax_cross_entropy", lambda *a: None)
        slow = [kernel_fn(*case) for case in cases]
    for got, want in zip(fast, slow):
        assert same_bits(got[0], want[0]) and same_bits(got[1], want[1])


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_softmax_loops_match_numpy_bits(monkeypatch: pytest.MonkeyPatch, op: str) -> None:
    from orchestrator.ops import nn_loops
    kernel_fn = get_kernel(op).fn
    rng = np.random.default_rng(21)
    cases = []
    for trial in range(200):
        classes = int(rng.integers(1, 12)) if trial % 3 else int(rng.integers(1, 129))
        shape = tuple(int(d) for d in rng.integers(1, 5, int(rng.integers(0, 3)))) + (classes,)
        logits = rng.standard_normal(shape) * 10.0 ** int(rng.integers(-3, 3))
        if trial % 4 == 0:
            logits = np.round(logits)                 # tied maxima, zeros
            logits[..., 0] = -0.0
        cases.append(logits.astype((np.float32, np.float64)[trial % 2]))
    fast = [kernel_fn(logits) for logits in cases]
    monkeypatch.setattr(nn_loops, "_as_rows", lambda logits: None)
    slow = [kernel_fn(logits) for logits in cases]
    for got, want in zip(fast, slow):
        assert same_bits(got, want)


@pytest.mark.parametrize("op", ["ReluGrad", "Relu6Grad"])
def test_relu_gradient_loop_matches_numpy_bits(monkeypatch: pytest.MonkeyPatch, op: str) -> None:
    from orchestrator.ops import nn_loops
    kernel_fn = get_kernel(op).fn
    rng = np.random.default_rng(25)
    cases = []
    for trial in range(100):
        dtype = (np.float32, np.float64)[trial % 2]
        shape = tuple(int(d) for d in rng.integers(1, 6, int(rng.integers(1, 4))))
        with np.errstate(all="ignore"):
            gradients = np.array([_random_float(rng, dtype) for _ in range(int(np.prod(shape)))], dtype)
        features = (rng.standard_normal(shape) * 5).astype(dtype)
        features.reshape(-1)[0] = (6.0, 0.0, -0.0, np.inf, np.nan)[trial % 5]
        cases.append((gradients.reshape(shape), features))
    with np.errstate(all="ignore"):
        fast = [kernel_fn(*case) for case in cases]
        monkeypatch.setattr(nn_loops, "relu_gradients", lambda *a: None)
        slow = [kernel_fn(*case) for case in cases]
    for got, want in zip(fast, slow):
        assert same_bits(got, want)
