"""Math kernels against TF's own results (tests/fixtures/ops/math.*, made by
scripts/tf_fixtures/ops_math.py): every case runs through ``get_kernel(op).fn`` on
read-only inputs; dtypes and shapes must match exactly, integer/bool/string values
exactly, float32/float64 results of BIT_EXACT_OPS bit for bit, other floats within about
an ulp of their type (DTYPE_TOLERANCE; a case may widen it where TF's own algorithm
differs, with the reason in the generator). Cases where TF raised must raise our error
naming the op."""
from __future__ import annotations

import json
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from orchestrator.dtypes import as_dtype
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops import logic_ops, math_ops, matmul_ops, reduction_ops, segment_ops
from orchestrator.ops.registry import get_kernel, registered_op_types

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ops"
CASES = json.loads((FIXTURES / "math.json").read_text())
with np.load(FIXTURES / "math.npz") as _npz:
    ARRAYS = {k: _npz[k] for k in _npz.files}
TYPE_ATTRS = {"DstT", "SrcT", "Tout", "output_type", "T"}
OUR_MODULES = {m.__name__ for m in (math_ops, logic_ops, matmul_ops, reduction_ops, segment_ops)}

# (rtol, atol) per output dtype: about one ulp of the type (float32: a few ulps, as
# Eigen's vectorised exp/log/tanh and numpy's differ in the last bits).
DTYPE_TOLERANCE = {
    "float64": (1e-12, 1e-14),
    "float32": (2e-6, 1e-6),
    "float16": (1e-3, 1e-4),
    "bfloat16": (8e-3, 1e-3),
}
# Ops whose float32/float64 results are TF's bits exactly (same order of operations as
# TF's CPU kernels, see the kernel modules; Exp/Tanh/Sigmoid follow Eigen's vectorised
# algorithms in eigen_math.py); the rest (other transcendentals, where Eigen's
# approximations differ from numpy's in the last bits, and BLAS-vs-Eigen matmuls) are held
# to DTYPE_TOLERANCE. AccumulateNV2 is not exact: TF rewrites it into
# AssignAdds that run in any order, so TF itself does not fix the order.
BIT_EXACT_OPS = {
    "Abs", "Add", "AddN", "AddV2", "Cast", "Ceil", "ClipByValue", "Cumprod", "Cumsum", "Div",
    "DivNoNan", "EuclideanNorm", "Floor", "FloorDiv", "FloorMod", "InvGrad", "Max", "Maximum",
    "Mean", "Min", "Minimum", "Mod", "Mul", "MulNoNan", "Neg", "Prod", "RealDiv",
    "ReciprocalGrad", "Rint", "Round", "RsqrtGrad", "Select", "SelectV2", "SigmoidGrad", "Sign",
    "Sqrt", "SqrtGrad", "Square", "SquaredDifference", "Sub", "Sum", "TanhGrad", "TruncateDiv",
    "TruncateMod", "Xdivy", "Xlogy", "Xlog1py", "Bincount", "DenseBincount",
    *(() if math_ops.FAST_MATH else ("Exp", "Tanh", "Sigmoid")),
}
FAST_MATH_OPS = {"Exp", "Tanh", "Sigmoid", "Log", "Log1p"}
# float32 only (float64 Log/Log1p are numpy's, within an ulp).
BIT_EXACT_F32_OPS = {
    *(() if math_ops.FAST_MATH else ("Log", "Log1p")),
    "SegmentSum", "SegmentMean", "SegmentMax", "SegmentMin", "SegmentProd",
    "UnsortedSegmentSum", "UnsortedSegmentMax", "UnsortedSegmentMin", "UnsortedSegmentProd",
    *(f"SparseSegment{kind}{suffix}" for kind in ("Sum", "Mean", "SqrtN")
      for suffix in ("", "WithNumSegments", "Grad", "GradV2")),
}
# TF error class -> ours. TF reports an integer TruncateDiv/TruncateMod by zero as an
# InternalError; we have no such class and raise InvalidArgumentError.
ERRORS = {"InvalidArgumentError": InvalidArgumentError, "InternalError": InvalidArgumentError}


def restore(a: np.ndarray) -> np.ndarray:
    """npz keeps bfloat16 as 2-byte void; view it back."""
    return a.view(ml_dtypes.bfloat16) if a.dtype.kind == "V" and a.dtype.itemsize == 2 else a


def frozen(a: np.ndarray) -> np.ndarray:
    """A read-only copy (kernels must never write into their inputs), strings as the
    executor holds them: object arrays of bytes."""
    a = np.array(restore(a), dtype=object if a.dtype.kind == "S" else None)
    a.flags.writeable = False
    return a


def attrs_of(case: dict) -> dict:
    kdef = get_kernel(case["op"])
    out = {}
    for k, v in case["attrs"].items():
        if k in TYPE_ATTRS and isinstance(v, str):
            v = as_dtype(v)
        elif isinstance(v, list):
            v = tuple(v)
        out[k] = v
    return {k: v for k, v in out.items() if k in kdef.attr_names}


def run(case: dict) -> list[np.ndarray]:
    kdef = get_kernel(case["op"])
    result = kdef.fn(*[frozen(ARRAYS[k]) for k in case["inputs"]], **attrs_of(case))
    return list(result) if kdef.multi else [result]


def assert_matches(got: np.ndarray, want: np.ndarray, case: dict) -> None:
    assert isinstance(got, np.ndarray), type(got)
    if want.dtype.kind == "S":
        want = want.astype(object)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    if (case["op"] in BIT_EXACT_OPS and want.dtype in (np.float32, np.float64)
            or case["op"] in BIT_EXACT_F32_OPS and want.dtype == np.float32):
        np.testing.assert_array_equal(got, want)        # NaNs compare equal here
    elif want.dtype.kind in "fV" or want.dtype == ml_dtypes.bfloat16:
        rtol, atol = DTYPE_TOLERANCE[want.dtype.name]
        rtol, atol = case.get("rtol", rtol), case.get("atol", atol)
        g, w = got.astype(np.float64), want.astype(np.float64)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
        # Infinities must agree in sign, NaN positions exactly.
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        np.testing.assert_array_equal(g[np.isinf(w)], w[np.isinf(w)])
    elif want.dtype == object:
        assert got.tolist() == want.tolist()
    else:
        np.testing.assert_array_equal(got, want)


# Hot kernels (Add, Mul, Sum, ...) skip np.errstate for speed, so inf/NaN inputs may raise
# numpy RuntimeWarnings; the values are still TF's.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_math_op_table(case):
    if "error" in case:
        tf_class, tf_message = case["error"]
        with pytest.raises(ERRORS[tf_class]) as info:
            run(case)
        assert case["op"] in str(info.value), f"message does not name the op: {info.value}"
        return
    if math_ops.FAST_MATH and case["op"] in FAST_MATH_OPS and "_edges_" in case["id"]:
        pytest.skip("numpy's exp/log family does not flush denormals like TF (ORCH_FAST_MATH=1)")
    outputs = run(case)
    expected = [restore(ARRAYS[k]) for k in case["outputs"]]
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        assert_matches(got, want, case)


def test_every_math_kernel_is_in_the_table():
    ours = {t for t in registered_op_types() if get_kernel(t).fn.__module__ in OUR_MODULES}
    assert ours - {c["op"] for c in CASES} == set()


def test_table_covers_error_and_edge_cases():
    ids = {c["id"] for c in CASES}
    for needed in ("Div_int32_by_zero", "FloorMod_int32", "Sum_dup_axis", "Select_rows", "AddN_17",
                   "UnsortedSegmentSum_out_of_range", "Cast_truncate_to_bfloat16", "Mean_int32_truncates"):
        assert needed in ids
    assert sum("error" in c for c in CASES) > 40


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_results_do_not_depend_on_input_memory_layout():
    """Other kernels hand over transposed views and Fortran-ordered arrays: every table case
    must give the same bits for them as for C-ordered inputs."""
    checked = 0
    for case in CASES:
        if "error" in case or not any(ARRAYS[k].ndim >= 2 for k in case["inputs"]):
            continue
        kdef = get_kernel(case["op"])
        inputs = [frozen(ARRAYS[k]) for k in case["inputs"]]
        fortran = []
        for a in inputs:
            f = np.asfortranarray(a) if a.ndim >= 2 else a   # (it would make 0-d arrays 1-d)
            f.flags.writeable = False
            fortran.append(f)
        want = kdef.fn(*inputs, **attrs_of(case))
        got = kdef.fn(*fortran, **attrs_of(case))
        for g, w in zip(got if kdef.multi else [got], want if kdef.multi else [want]):
            assert g.shape == w.shape and g.dtype == w.dtype, case["id"]
            if w.dtype.kind in "fV":           # float types, bfloat16 included (kind V)
                g, w = g.astype(np.float64), w.astype(np.float64)
            assert np.array_equal(g, w, equal_nan=w.dtype.kind == "f"), case["id"]
        checked += 1
    assert checked > 300


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("op", sorted(math_ops._UNARY))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_unary_kernels_keep_scalar_shape_and_dtype(op, dtype):
    """0-d inputs (a loss, a learning rate) come back as 0-d arrays of the same type, and a
    size that leaves a scalar tail after the packets keeps its shape."""
    fn = get_kernel(op).fn
    for shape in ((), (3, 5)):
        x = frozen(np.full(shape, 0.75, dtype))
        got = fn(x)
        want_dtype = np.bool_ if op in ("IsFinite", "IsNan", "IsInf") else dtype
        assert isinstance(got, np.ndarray) and got.shape == shape and got.dtype == want_dtype
