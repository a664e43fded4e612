"""Optimizer kernels against TF's ResourceApply*/ResourceSparseApply* results
(tests/fixtures/ops/train.*): every case runs through our resource kernel and through
the ref twin (TF's Apply*/SparseApply* share one C++ kernel with the resource op)."""
from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest

from orchestrator.errors import FailedPreconditionError, InvalidArgumentError
from orchestrator.exec.state import KernelContext, Ref, ResourceHandle, SessionState
from orchestrator.ops import training_ops
from orchestrator.ops.registry import get_kernel, has_kernel, registered_op_types

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ops"
CASES = json.loads((FIXTURES / "train.json").read_text())
with np.load(FIXTURES / "train.npz") as _npz:
    ARRAYS = {k: _npz[k] for k in _npz.files}

# float32/64 tolerances: TF's rsqrt (hardware estimate + Newton step) is not correctly rounded.
TOL = {"float16": (2e-3, 1e-3), "float32": (1e-5, 1e-6), "float64": (1e-12, 1e-12)}


def frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False
    return a


def run_resource(case: dict, inputs: list[np.ndarray]) -> list[np.ndarray]:
    n = case["state"]["variables"]
    state = SessionState()
    handles = []
    for i, init in enumerate(inputs[:n]):
        h = ResourceHandle("", f"slot{i}", init.dtype, init.shape)
        state.resource_variable(h, create=True).set(frozen(init))
        handles.append(h)
    ctx = KernelContext(node=types.SimpleNamespace(name=case["op"]), state=state)
    kdef = get_kernel(case["op"])
    attrs = {k: v for k, v in case["attrs"].items() if k in kdef.attr_names}
    assert kdef.fn(*handles, *map(frozen, inputs[n:]), ctx=ctx, **attrs) is None
    return [state.resource_variable(h).get() for h in handles]


def run_ref(op: str, case: dict, inputs: list[np.ndarray], writable: bool = True) -> list[np.ndarray]:
    n = case["state"]["variables"]
    refs = []
    for i, init in enumerate(inputs[:n]):
        r = Ref(f"slot{i}", init.dtype, init.shape)
        r.set(init.copy() if writable else frozen(init))
        refs.append(r)
    aliases = [r.value for r in refs]
    kdef = get_kernel(op)
    assert kdef.ref_inputs == tuple(range(n))
    attrs = {k: v for k, v in case["attrs"].items() if k in kdef.attr_names}
    assert kdef.fn(*refs, *map(frozen, inputs[n:]), **attrs) is refs[0]
    if writable:   # ref semantics: the update lands in the arrays other tensors alias
        assert all(r.value is a for r, a in zip(refs, aliases))
    return [r.value for r in refs]


def check(case: dict, got: list[np.ndarray]) -> None:
    expected = [ARRAYS[k] for k in case["outputs"]]
    rtol, atol = TOL[expected[0].dtype.name]
    for slot, (g, e) in enumerate(zip(got, expected)):
        assert g.dtype == e.dtype and g.shape == e.shape, (slot, g.dtype, g.shape)
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"slot {slot}")


def ref_twin(op: str) -> str:
    return op.removeprefix("Resource")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_train_op_table(case):
    inputs = [ARRAYS[k] for k in case["inputs"]]
    check(case, run_resource(case, inputs))
    if has_kernel(ref_twin(case["op"])):
        check(case, run_ref(ref_twin(case["op"]), case, inputs))


def test_ref_kernels_rebind_read_only_storage():
    case = next(c for c in CASES if c["op"] == "ResourceSparseApplyAdagrad")
    inputs = [ARRAYS[k] for k in case["inputs"]]
    check(case, run_ref("SparseApplyAdagrad", case, inputs, writable=False))
    case = next(c for c in CASES if c["op"] == "ResourceApplyAdam")
    check(case, run_ref("ApplyAdam", case, [ARRAYS[k] for k in case["inputs"]], writable=False))


def test_most_float32_results_are_bit_exact():
    """Order of operations follows TF's kernels: apart from rsqrt, results match to the bit."""
    exact = total = 0
    for case in CASES:
        inputs = [ARRAYS[k] for k in case["inputs"]]
        for g, k in zip(run_resource(case, inputs), case["outputs"]):
            if g.dtype == np.float32:
                exact += int(np.sum(g == ARRAYS[k]))
                total += g.size
    assert exact / total > 0.97, exact / total


def test_every_training_kernel_is_in_the_table():
    ours = {t for t in registered_op_types() if get_kernel(t).fn.__module__ == training_ops.__name__}
    covered = {c["op"] for c in CASES} | {ref_twin(c["op"]) for c in CASES}
    assert ours - covered == set()


def test_duplicate_indices_apply_in_order():
    """Two updates of one row equal two separate steps, not one summed step."""
    var = Ref("emb")
    var.set(np.ones((3, 2), np.float32))
    acc = Ref("emb/Adagrad")
    acc.set(np.full((3, 2), 0.1, np.float32))
    grad = np.array([[1, 2], [3, 4]], np.float32)
    get_kernel("SparseApplyAdagrad").fn(var, acc, np.float32(0.5), grad, np.array([1, 1]))
    v2, a2 = np.ones((3, 2), np.float32), np.full((3, 2), 0.1, np.float32)
    for g in grad:
        a2[1] += g * g
        v2[1] -= g * np.float32(0.5) / np.sqrt(a2[1])
    np.testing.assert_allclose(var.value, v2, rtol=1e-6)
    np.testing.assert_allclose(acc.value, a2, rtol=1e-6)


@pytest.mark.parametrize("n", [5, training_ops._SET_CHECK_MAX + 1])
def test_duplicate_indices_apply_in_order_short_and_long(n):
    """Short index lists are checked in Python, long ones with a sort: both apply each
    occurrence of a row in turn, exactly as a loop over the indices does."""
    rng = np.random.default_rng(n)
    indices = rng.integers(0, 4, n)
    grad = rng.standard_normal((n, 3)).astype(np.float32)
    var, acc = Ref("emb"), Ref("emb/Adagrad")
    var.set(rng.standard_normal((4, 3)).astype(np.float32))
    acc.set(np.full((4, 3), 0.1, np.float32))
    v2, a2 = var.value.copy(), acc.value.copy()
    lr = np.float32(0.5)
    get_kernel("SparseApplyAdagrad").fn(var, acc, lr, grad, indices)
    for i, g in zip(indices, grad):
        a2[i] = a2[i] + g * g
        v2[i] = v2[i] - g * lr * np.reciprocal(np.sqrt(a2[i]))
    np.testing.assert_array_equal(acc.value, a2)
    np.testing.assert_array_equal(var.value, v2)
    indices[-1] = -1
    with pytest.raises(InvalidArgumentError, match=rf"Index -1 at offset {n - 1}.*emb"):
        get_kernel("SparseApplyAdagrad").fn(var, acc, lr, grad, indices)


def test_errors_name_the_variable():
    var, acc = Ref("dense/kernel"), Ref("dense/kernel/Momentum")
    var.set(np.zeros((2, 2), np.float32))
    with pytest.raises(FailedPreconditionError, match="dense/kernel/Momentum"):
        get_kernel("ApplyMomentum").fn(var, acc, np.float32(0.1), np.zeros((2, 2), np.float32), np.float32(0.9))
    acc.set(np.zeros((2, 3), np.float32))
    with pytest.raises(InvalidArgumentError, match=r"dense/kernel.*\[2, 2\].*\[2, 3\]"):
        get_kernel("ApplyMomentum").fn(var, acc, np.float32(0.1), np.zeros((2, 2), np.float32), np.float32(0.9))
    acc.set(np.zeros((2, 2), np.float32))
    with pytest.raises(InvalidArgumentError, match="lr must be a scalar"):
        get_kernel("ApplyMomentum").fn(var, acc, np.ones(2, np.float32), np.zeros((2, 2), np.float32), np.float32(0.9))
    with pytest.raises(InvalidArgumentError, match=r"Index 5 at offset 1.*dense/kernel"):
        get_kernel("SparseApplyMomentum").fn(var, acc, np.float32(0.1), np.zeros((2, 2), np.float32),
                                             np.array([0, 5]), np.float32(0.9))
    np.testing.assert_array_equal(var.value, 0)   # nothing applied before the error
