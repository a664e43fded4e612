"""TensorArray / Stack / TensorList kernels against programs run by real TF
(tests/fixtures/ops/collections.*, made by scripts/tf_fixtures/ops_collections.py), plus
what a table cannot show: per-run arrays, value semantics of lists, read-only inputs, and
that every such op in the RNN/while fixture models has a kernel."""
from __future__ import annotations

import json
import re
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.dtypes import DType, as_dtype
from orchestrator.errors import InvalidArgumentError, OrchestratorError, UnimplementedError
from orchestrator.exec.state import KernelContext, SessionState
from orchestrator.graph.meta_io import read_meta_graph
from orchestrator.ops import collection_ops, list_edit_ops, list_ops, tensor_array_ops
from orchestrator.ops.list_ops import TensorList, as_variant
from orchestrator.ops.registry import get_kernel, has_kernel, registered_op_types

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = json.loads((FIXTURES / "ops" / "collections.json").read_text())
with np.load(FIXTURES / "ops" / "collections.npz") as _npz:
    ARRAYS = {k: _npz[k] for k in _npz.files}

ERRORS = {"InvalidArgumentError": InvalidArgumentError, "UnimplementedError": UnimplementedError}

# Where our error intentionally differs from TF's, and why.
ERROR_DIFFERS = {
    # TF prints the dtype enum numbers ("Must have type 1 but got 3"); we print names.
    "stack_push_wrong_dtype": {"message"},
    # TF's StackPopV2 kernel does not check elem_type: its executor then rejects the output
    # (InternalError); our kernel checks and raises InvalidArgumentError naming both dtypes.
    "stack_pop_wrong_dtype": {"type", "message"},
}


def frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False   # kernels must never write into their inputs
    return a


def decode_attr(value):
    if isinstance(value, dict):
        if "type" in value:
            return as_dtype(value["type"])
        if "shape" in value:
            dims = value["shape"]
            return None if dims is None else tuple(None if d < 0 else d for d in dims)
        if "s" in value:
            return value["s"].encode()
    return value


def run_program(case: dict) -> tuple[list, tuple[int, Exception] | None]:
    """Run the case's steps in order with one SessionState; returns (fetched, error)."""
    state = SessionState()
    consts = {f"in{k}": ARRAYS[key] for k, key in enumerate(case["inputs"])}
    values: dict[str, object] = {}

    def resolve(ref):
        if isinstance(ref, list):
            return [resolve(r) for r in ref]
        return frozen(consts[ref]) if ref.startswith("in") else values[ref]

    for i, step in enumerate(case["steps"]):
        args = []
        for ref in step["inputs"]:   # a list input (AddN's) is spread over positional args
            args.extend(resolve(ref) if isinstance(ref, list) else [resolve(ref)])
        kdef = get_kernel(step["op"])
        attrs = {k: decode_attr(v) for k, v in step["attrs"].items() if k in kdef.attr_names}
        if kdef.needs_ctx:
            attrs["ctx"] = KernelContext(node=types.SimpleNamespace(name=f"s{i}"), state=state)
        try:
            result = kdef.fn(*args, **attrs)
            outs = result if kdef.multi else (result,)
        except OrchestratorError as e:
            return [], (i, e)
        for j, v in enumerate(outs):
            values[f"s{i}:{j}"] = v
    assert not state.resources, "per-step resources must not accumulate in the session state"
    return [values[r] for r in case["fetch"]], None


def message_pattern(tf_message: str) -> str:
    """TF's message as a regex: resource names (``s0_12``, ``s0_3@gradients``) carry process-wide
    counters, so any name matches."""
    text = re.escape(tf_message.replace("PartialTensorShape: ", ""))
    return re.sub(r"s\d+_\d+(?:@\w+)?", r"\\S+", text)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_collection_op_table(case):
    fetched, error = run_program(case)
    expected = case.get("error")
    if expected is None:
        assert error is None, f"TF ran the program, we failed at step {error and error[0]}: {error}"
        assert len(fetched) == len(case["outputs"])
        for ref, got, key in zip(case["fetch"], fetched, case["outputs"]):
            want = ARRAYS[key]
            got = np.asarray(got)
            assert (got.dtype, got.shape) == (want.dtype, want.shape), ref
            np.testing.assert_array_equal(got, want, err_msg=ref)
        return
    assert error is not None, f"TF failed at step {expected['step']} ({expected['message']}), we did not"
    step, exc = error
    differs = ERROR_DIFFERS.get(case["id"], set())
    assert step == expected["step"]
    if "type" not in differs:
        assert isinstance(exc, ERRORS[expected["type"]]), (type(exc), expected)
    if "message" not in differs:
        assert re.search(message_pattern(expected["message"]), str(exc)), (str(exc), expected["message"])
    assert str(exc).startswith(case["steps"][step]["op"]), "the error names the op"


MODULES = {m.__name__ for m in (collection_ops, tensor_array_ops, list_ops, list_edit_ops)}
TABLE_EXEMPT = {"TensorListPushBackBatch"}   # batched variant vectors: tested below


def test_every_collection_kernel_is_in_the_table():
    ours = {t for t in registered_op_types() if get_kernel(t).fn.__module__ in MODULES}
    tabled = {s["op"] for c in CASES for s in c["steps"]}
    assert ours - tabled - TABLE_EXEMPT == set()


@pytest.mark.parametrize("model", ["lstm_v1", "gru_v1", "while_v1", "lstm_v2"])
def test_fixture_models_collection_ops_have_kernels(model):
    meta = read_meta_graph(str(FIXTURES / "models" / model / "model.meta"))
    nodes = list(meta.graph_def.node) + [n for f in meta.graph_def.library.function for n in f.node_def]
    used = {n.op for n in nodes if any(k in n.op for k in ("TensorArray", "Stack", "TensorList"))}
    assert used, f"{model} should use collection ops"
    assert {op for op in used if not has_kernel(op)} == set()


# ------------------------------------------------------------------ semantics

def ctx(name: str = "ta") -> KernelContext:
    return KernelContext(node=types.SimpleNamespace(name=name), state=SessionState())


def test_each_run_of_tensor_array_v3_makes_a_fresh_array():
    make = get_kernel("TensorArrayV3").fn
    write = get_kernel("TensorArrayWriteV3").fn
    read = get_kernel("TensorArrayReadV3").fn
    c = ctx()
    h1, flow = make(np.int32(2), ctx=c, dtype=DType.FLOAT, element_shape=(2,))
    h2, _ = make(np.int32(2), ctx=c, dtype=DType.FLOAT, element_shape=(2,))
    assert flow.dtype == np.float32 and flow.shape == ()
    write(h1, np.int32(0), frozen(np.ones(2, np.float32)), flow)
    # The second run's array is untouched: index 0 is unwritten there and reads as zeros.
    np.testing.assert_array_equal(read(h2, np.int32(0), flow, dtype=DType.FLOAT), np.zeros(2, np.float32))
    np.testing.assert_array_equal(read(h1, np.int32(0), flow, dtype=DType.FLOAT), np.ones(2, np.float32))
    assert h1 != h2 and not c.state.resources


def test_grad_array_is_created_once_per_source():
    c = ctx()
    h, flow = get_kernel("TensorArrayV3").fn(np.int32(3), ctx=c, dtype=DType.FLOAT, element_shape=(2,))
    grad = get_kernel("TensorArrayGradV3").fn
    g1, _ = grad(h, flow, source=b"gradients")
    g2, _ = grad(h, flow, source=b"gradients")
    g3, _ = grad(h, flow, source=b"gradients_1")
    assert g1.resource is g2.resource and g3.resource is not g1.resource
    assert get_kernel("TensorArraySizeV3").fn(g3, flow) == 3


def test_aggregated_writes_never_touch_the_written_arrays():
    c = ctx()
    h, flow = get_kernel("TensorArrayV3").fn(np.int32(1), ctx=c, dtype=DType.FLOAT, element_shape=(2,))
    g, gflow = get_kernel("TensorArrayGradV3").fn(h, flow, source=b"g")
    first = frozen(np.array([1.0, 2.0], np.float32))
    write = get_kernel("TensorArrayWriteV3").fn
    for _ in range(3):
        write(g, np.int32(0), first, gflow)
    got = get_kernel("TensorArrayReadV3").fn(g, np.int32(0), gflow, dtype=DType.FLOAT)
    np.testing.assert_array_equal(got, [3.0, 6.0])
    np.testing.assert_array_equal(first, [1.0, 2.0])


def test_stack_is_lifo_and_per_run():
    c = ctx("stack")
    make, push, pop = (get_kernel(op).fn for op in ("StackV2", "StackPushV2", "StackPopV2"))
    s1 = make(np.int32(-1), ctx=c, elem_type=DType.FLOAT)
    s2 = make(np.int32(-1), ctx=c, elem_type=DType.FLOAT)
    a, b = frozen(np.float32([1])), frozen(np.float32([2]))
    assert push(s1, a) is a
    push(s1, b)
    assert pop(s1, elem_type=DType.FLOAT) is b and pop(s1, elem_type=DType.FLOAT) is a
    push(s1, a)
    with pytest.raises(InvalidArgumentError, match="StackPopV2.*empty"):
        pop(s2, elem_type=DType.FLOAT)


def test_list_ops_leave_their_input_list_unchanged():
    base = get_kernel("TensorListFromTensor").fn(frozen(np.arange(6, dtype=np.float32).reshape(3, 2)),
                                                 frozen(np.int32([2])), element_dtype=DType.FLOAT)
    before = list(base[()].tensors)
    get_kernel("TensorListSetItem").fn(base, np.int32(0), frozen(np.float32([9, 9])), element_dtype=DType.FLOAT)
    get_kernel("TensorListPushBack").fn(base, frozen(np.float32([7, 7])), element_dtype=DType.FLOAT)
    get_kernel("TensorListPopBack").fn(base, np.int32(-1), element_dtype=DType.FLOAT)
    get_kernel("TensorListResize").fn(base, np.int32(1))
    assert base[()].tensors == before and len(base[()]) == 3
    stacked = get_kernel("TensorListStack").fn(base, np.int32(-1), element_dtype=DType.FLOAT)
    np.testing.assert_array_equal(stacked, np.arange(6, dtype=np.float32).reshape(3, 2))


def test_variant_values_are_0d_object_arrays():
    out = get_kernel("EmptyTensorList").fn(np.int32(-1), np.int32(-1), element_dtype=DType.INT32)
    assert isinstance(out, np.ndarray) and out.dtype == object and out.shape == ()
    assert isinstance(out[()], TensorList)
    with pytest.raises(InvalidArgumentError, match="TensorListLength: Input handle is not a list"):
        get_kernel("TensorListLength").fn(np.array(3.0))


def test_push_back_batch_appends_one_row_per_list():
    empty = get_kernel("EmptyTensorList").fn(np.int32([2]), np.int32(-1), element_dtype=DType.FLOAT)
    handles = np.empty(2, dtype=object)
    handles[0], handles[1] = empty[()], empty[()]
    rows = frozen(np.float32([[1, 2], [3, 4]]))
    out = get_kernel("TensorListPushBackBatch").fn(handles, rows, element_dtype=DType.FLOAT)
    assert out.shape == (2,) and [len(tl) for tl in out] == [1, 1] and len(empty[()]) == 0
    np.testing.assert_array_equal(out[1].tensors[0], [3, 4])
    with pytest.raises(InvalidArgumentError, match="TensorListPushBackBatch: Expected tensor.shape"):
        get_kernel("TensorListPushBackBatch").fn(handles, frozen(np.float32([[1, 2]])),
                                                 element_dtype=DType.FLOAT)


def test_get_item_with_wrong_dtype_names_both():
    tl = as_variant(TensorList([None], (2,), np.dtype(np.float32)))
    with pytest.raises(InvalidArgumentError, match="TensorListGetItem: Invalid data types; op elements "
                                                   "int32 but list elements float"):
        get_kernel("TensorListGetItem").fn(tl, np.int32(0), np.int32(-1), element_dtype=DType.INT32)


def test_a_handle_of_the_wrong_kind_is_rejected():
    s = get_kernel("StackV2").fn(np.int32(-1), ctx=ctx(), elem_type=DType.FLOAT)
    with pytest.raises(InvalidArgumentError, match="TensorArrayReadV3: input 0 must be a TensorArray handle"):
        get_kernel("TensorArrayReadV3").fn(s, np.int32(0), np.float32(0), dtype=DType.FLOAT)


def test_scatter_into_existing_list_grows_it():
    # TF 2.21 misplaces rows when this grows the list (see the fixture generator); the
    # documented meaning: the list grows to max(indices) + 1, new slots unset (zeros).
    tl = get_kernel("TensorListReserve").fn(np.int32([2]), np.int32(2), element_dtype=DType.FLOAT)
    rows = frozen(np.float32([[1, 2], [3, 4]]))
    out = get_kernel("TensorListScatterIntoExistingList").fn(tl, rows, frozen(np.int32([3, 1])),
                                                             element_dtype=DType.FLOAT)
    stacked = get_kernel("TensorListStack").fn(out, np.int32(-1), element_dtype=DType.FLOAT)
    np.testing.assert_array_equal(stacked, [[0, 0], [3, 4], [0, 0], [1, 2]])
    assert len(tl[()]) == 2


# ------------------------------------------------- value semantics, property-based

LIST_EDITS = st.lists(st.one_of(
    st.tuples(st.just("push"), st.integers(0, 99)),
    st.tuples(st.just("pop"), st.just(0)),
    st.tuples(st.just("set"), st.integers(0, 6)),
    st.tuples(st.just("resize"), st.integers(0, 6)),
    st.tuples(st.just("scatter"), st.integers(0, 6)),
), max_size=25)


@settings(max_examples=60, deadline=None)
@given(LIST_EDITS)
def test_every_list_keeps_its_value_after_later_edits(edits):
    """Apply random edits, each to the latest list, next to a python model; at the end every
    intermediate list must still stack to its model (no edit changed an earlier list)."""
    shape = np.int32([2])
    current = get_kernel("EmptyTensorList").fn(shape, np.int32(-1), element_dtype=DType.FLOAT)
    model: list = []
    history = [(current, list(model))]
    for kind, arg in edits:
        row = frozen(np.full(2, arg, np.float32))
        if kind == "push":
            current = get_kernel("TensorListPushBack").fn(current, row, element_dtype=DType.FLOAT)
            model.append(arg)
        elif kind == "pop" and model:
            current, item = get_kernel("TensorListPopBack").fn(current, np.int32(-1), element_dtype=DType.FLOAT)
            assert item.tolist() == [model.pop() or 0.0] * 2
        elif kind == "set" and arg < len(model):
            current = get_kernel("TensorListSetItem").fn(current, np.int32(arg), row, element_dtype=DType.FLOAT)
            model[arg] = arg
        elif kind == "resize":
            current = get_kernel("TensorListResize").fn(current, np.int32(arg))
            model = (model + [0] * arg)[:arg]
        elif kind == "scatter":
            current = get_kernel("TensorListScatterIntoExistingList").fn(
                current, frozen(row[None]), frozen(np.int32([arg])), element_dtype=DType.FLOAT)
            model = model + [0] * (arg + 1 - len(model))
            model[arg] = arg
        history.append((current, list(model)))
    for tl, expected in history:
        got = get_kernel("TensorListStack").fn(tl, shape, element_dtype=DType.FLOAT)
        np.testing.assert_array_equal(got, np.repeat(np.float32(expected)[:, None], 2, axis=1).reshape(-1, 2))
