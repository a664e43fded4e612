"""Variable kernels against TF's own results (tests/fixtures/ops/state.*), plus the
semantics a table cannot show: in-place vs replace, uninitialized reads, bad indices."""
from __future__ import annotations

import types

import numpy as np
import pytest

from orchestrator.dtypes import DType
from orchestrator.errors import FailedPreconditionError, InvalidArgumentError
from orchestrator.exec.state import KernelContext, Ref, ResourceHandle, SessionState
from orchestrator.ops import state_ops
from orchestrator.ops.registry import get_kernel, registered_op_types

from optable import decode_attrs, frozen, load_table   # tests/ops/optable.py

TYPE_ATTRS = {"T", "dtype", "out_type", "Tindices", "Tidx"}








def ctx_for(state: SessionState, name: str = "v") -> KernelContext:
    return KernelContext(node=types.SimpleNamespace(name=name), state=state)


def run_case(case: dict, arrays: dict) -> tuple[list[np.ndarray], np.ndarray]:
    """Run one stateful case; returns (op outputs, variable value after)."""
    kdef = get_kernel(case["op"])
    attrs = {k: v for k, v in decode_attrs(case["attrs"], TYPE_ATTRS).items() if k in kdef.attr_names}
    init, *args = [arrays[k] for k in case["inputs"]]
    args = [frozen(a) for a in args]
    state = SessionState()
    if kdef.ref_inputs:
        ref = Ref("v", init.dtype)
        ref.set(init.copy())
        result = kdef.fn(ref, *args, **attrs)
    else:
        handle = ResourceHandle("", "v", init.dtype, init.shape)
        ref = state.resource_variable(handle, create=True)
        ref.set(frozen(init))
        result = kdef.fn(handle, *args, ctx=ctx_for(state), **attrs)
    outs = [] if result is None else [result.value if isinstance(result, Ref) else result]
    return outs, ref.value


CASES, ARRAYS = load_table("state")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_state_op_table(case):
    outs, after = run_case(case, ARRAYS)
    expected = [ARRAYS[k] for k in case["outputs"]]
    n_out = case["state"]["op_outputs"]
    got = outs[:n_out] + [after]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        g = np.asarray(g)
        assert g.dtype == e.dtype and g.shape == e.shape
        if e.dtype.kind == "f":
            np.testing.assert_allclose(g, e, rtol=case.get("rtol", 1e-6), atol=case.get("atol", 1e-6))
        else:
            np.testing.assert_array_equal(g, e)


TABLE_EXEMPT = {   # ops with no inputs to tabulate: covered by the tests below
    "VariableV2", "Variable", "VarHandleOp", "DestroyResourceOp",
    "TemporaryVariable", "DestroyTemporaryVariable",
}


def test_every_state_kernel_is_in_the_table():
    ours = {t for t in registered_op_types() if get_kernel(t).fn.__module__ == state_ops.__name__}
    tabled = {c["op"] for c in CASES}
    assert ours - tabled - TABLE_EXEMPT == set()
    assert TABLE_EXEMPT <= ours


def test_variable_v2_is_one_ref_per_op_per_session():
    state = SessionState()
    ctx = ctx_for(state, "w")
    kdef = get_kernel("VariableV2")
    a = kdef.fn(ctx=ctx, shape=(2, 3), dtype=DType.FLOAT)
    b = kdef.fn(ctx=ctx, shape=(2, 3), dtype=DType.FLOAT)
    assert a is b and a.dtype == np.float32 and a.shape == (2, 3)
    with pytest.raises(FailedPreconditionError, match="w"):
        a.get()


def test_assign_updates_in_place_so_aliases_see_it():
    ref = Ref("w", np.dtype(np.float32), (3,))
    get_kernel("Assign").fn(ref, frozen(np.zeros(3, np.float32)))
    alias = ref.value
    get_kernel("AssignAdd").fn(ref, frozen(np.ones(3, np.float32)))
    get_kernel("ScatterSub").fn(ref, frozen(np.array([0, 0])), frozen(np.float32(5)))
    assert ref.value is alias
    np.testing.assert_array_equal(alias, [-9, 1, 1])


def test_assign_validates_shape_and_rebinds_without_validation():
    ref = Ref("w", np.dtype(np.float32), (3,))
    with pytest.raises(InvalidArgumentError, match=r"w.*\[2\].*\[3\]"):
        get_kernel("Assign").fn(ref, np.zeros(2, np.float32))
    get_kernel("Assign").fn(ref, np.zeros(2, np.float32), validate_shape=False)
    assert ref.value.shape == (2,)


def test_assign_copies_a_read_only_value_and_then_writes_a_fresh_array():
    ref = Ref("w", np.dtype(np.float32), (2,))
    src = frozen(np.ones(2, np.float32))
    get_kernel("Assign").fn(ref, src)
    assert ref.value is not src and ref.value.flags.writeable
    ref.value.flags.writeable = False      # e.g. restored from a read-only buffer
    get_kernel("Assign").fn(ref, frozen(np.zeros(2, np.float32)))
    np.testing.assert_array_equal(ref.value, [0, 0])


def test_resource_updates_replace_so_earlier_reads_keep_their_value():
    state = SessionState()
    ctx = ctx_for(state, "v")
    handle = get_kernel("VarHandleOp").fn(ctx=ctx, shared_name=b"", dtype=DType.FLOAT, shape=(2,))
    assert handle.shared_name == "v"
    assert not get_kernel("VarIsInitializedOp").fn(handle, ctx=ctx)
    with pytest.raises(FailedPreconditionError, match="'v'"):
        get_kernel("ReadVariableOp").fn(handle, ctx=ctx)
    get_kernel("AssignVariableOp").fn(handle, np.array([1, 2], np.float32), ctx=ctx)
    before = get_kernel("ReadVariableOp").fn(handle, ctx=ctx)
    get_kernel("AssignAddVariableOp").fn(handle, np.array([10, 10], np.float32), ctx=ctx)
    get_kernel("ResourceScatterUpdate").fn(handle, np.array([0]), np.array([7], np.float32), ctx=ctx)
    np.testing.assert_array_equal(before, [1, 2])
    np.testing.assert_array_equal(get_kernel("ReadVariableOp").fn(handle, ctx=ctx), [7, 12])
    get_kernel("DestroyResourceOp").fn(handle, ctx=ctx)
    assert not get_kernel("VarIsInitializedOp").fn(handle, ctx=ctx)
    with pytest.raises(FailedPreconditionError):
        get_kernel("DestroyResourceOp").fn(handle, ctx=ctx, ignore_lookup_error=False)


def test_handle_may_arrive_wrapped_in_an_object_array():
    state = SessionState()
    ctx = ctx_for(state, "v")
    handle = get_kernel("VarHandleOp").fn(ctx=ctx, shared_name=b"shared", dtype=DType.INT32, shape=())
    wrapped = np.empty((), dtype=object)
    wrapped[()] = handle
    get_kernel("AssignVariableOp").fn(wrapped, np.int32(4), ctx=ctx)
    assert get_kernel("ReadVariableOp").fn(handle, ctx=ctx).dtype == np.int32
    with pytest.raises(InvalidArgumentError, match="resource handle"):
        get_kernel("ReadVariableOp").fn(np.float32(1), ctx=ctx)


@pytest.mark.parametrize("op", ["ScatterAdd", "ScatterUpdate"])
def test_scatter_rejects_out_of_range_index_naming_variable(op):
    ref = Ref("layer/w")
    ref.set(np.zeros((3, 2), np.float32))
    with pytest.raises(InvalidArgumentError, match=r"layer/w.*indices\[1\] = 3 is not in \[0, 3\)"):
        get_kernel(op).fn(ref, np.array([0, 3]), np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(ref.value, 0)   # nothing applied


def test_scatter_rejects_wrong_update_shape():
    ref = Ref("w")
    ref.set(np.zeros((3, 2), np.float32))
    with pytest.raises(InvalidArgumentError, match="updates shape"):
        get_kernel("ScatterAdd").fn(ref, np.array([0, 1]), np.ones((2, 3), np.float32))


def test_temporary_variable_round_trip():
    state = SessionState()
    ctx = ctx_for(state, "tmp")
    ref = get_kernel("TemporaryVariable").fn(ctx=ctx, shape=(2,), dtype=DType.FLOAT, var_name=b"acc")
    get_kernel("AssignAdd").fn(ref, np.array([1, 2], np.float32))
    value = get_kernel("DestroyTemporaryVariable").fn(ref, ctx=ctx, var_name=b"acc")
    np.testing.assert_array_equal(value, [1, 2])
    assert not state.ref_variables


def test_is_variable_initialized_before_init():
    case = next(c for c in CASES if c["op"] == "IsVariableInitialized")
    assert case["uninitialized_output"] is False     # what TF answered before running the initializer
    assert get_kernel("IsVariableInitialized").fn(Ref("w")).item() is False
