"""nn kernels (activations, softmax/losses, top-k, bias, conv, pooling, batch norm) against
TF's own results (tests/fixtures/ops/nn.*, made by scripts/tf_fixtures/ops_nn.py), plus the
properties a table cannot show."""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from orchestrator.dtypes import DType, as_dtype
from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.ops import (conv3d_ops, conv_ops, depthwise_ops, nn_ops, norm_ops, pool3d_ops,
                              pool_argmax_ops, pool_ops, topk_ops)
from orchestrator.ops.registry import get_kernel, registered_op_types

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ops"
CASES = json.loads((FIXTURES / "nn.json").read_text())
with np.load(FIXTURES / "nn.npz") as _npz:
    # npz keeps bfloat16 as 2-byte void; view it back
    ARRAYS = {k: _npz[k].view(ml_dtypes.bfloat16) if _npz[k].dtype.kind == "V" else _npz[k]
              for k in _npz.files}

TYPE_ATTRS = {"T", "index_type", "Tlabels", "U"}
ERRORS = {"InvalidArgumentError": InvalidArgumentError, "UnimplementedError": UnimplementedError}
# Default tolerances per output dtype; a case may widen them (float16: TF rounds
# intermediates to half where we may not).
TOL = {"float16": (2e-3, 2e-3), "float32": (1e-5, 1e-6), "float64": (1e-12, 1e-12),
       "bfloat16": (1.6e-2, 1e-2)}


def decode_attrs(attrs: dict) -> dict:
    """Attrs as the executor passes them: types as DType, strings as bytes, lists as lists."""
    out = {}
    for key, value in attrs.items():
        if key in TYPE_ATTRS:
            value = as_dtype(value)
        elif isinstance(value, str):
            value = value.encode()
        out[key] = value
    return out


def frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False   # kernels must never write into their inputs
    return a


def run(case: dict) -> list[np.ndarray]:
    kdef = get_kernel(case["op"])
    attrs = {k: v for k, v in decode_attrs(case["attrs"]).items() if k in kdef.attr_names}
    result = kdef.fn(*(frozen(ARRAYS[k]) for k in case["inputs"]), **attrs)
    return list(result) if kdef.multi else [result]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_nn_op_table(case):
    if "error" in case:
        with pytest.raises(ERRORS[case["error"]], match=case["op"]):
            run(case)
        return
    got = run(case)
    expected = [ARRAYS[k] for k in case["outputs"]]
    if case.get("unordered"):    # TopKV2 sorted=False: same values, any valid indices
        values, indices = got
        source = ARRAYS[case["inputs"][0]]
        np.testing.assert_array_equal(np.sort(values, -1), np.sort(expected[0], -1))
        np.testing.assert_array_equal(np.take_along_axis(source, indices.astype(np.int64), -1), values)
        assert indices.dtype == expected[1].dtype
        return
    assert len(got) == len(expected)
    unspecified = set(case.get("unspecified_outputs", ()))
    for slot, (g, e) in enumerate(zip(got, expected)):
        assert isinstance(g, np.ndarray), (slot, type(g))
        assert (g.dtype, g.shape) == (e.dtype, e.shape), (slot, g.dtype, g.shape, e.dtype, e.shape)
        if slot in unspecified:
            continue
        if e.dtype.kind == "f" or e.dtype == ml_dtypes.bfloat16:
            rtol, atol = TOL[e.dtype.name]
            np.testing.assert_allclose(g.astype(np.float64), e.astype(np.float64),
                                       rtol=case.get("rtol", rtol), atol=case.get("atol", atol),
                                       err_msg=f"output {slot}")
        else:
            np.testing.assert_array_equal(g, e, err_msg=f"output {slot}")


OUR_MODULES = {m.__name__ for m in (nn_ops, topk_ops, conv_ops, depthwise_ops, pool_ops,
                                    pool_argmax_ops, conv3d_ops, pool3d_ops, norm_ops)}


def test_every_nn_kernel_is_in_the_table():
    ours = {t for t in registered_op_types() if get_kernel(t).fn.__module__ in OUR_MODULES}
    tabled = {c["op"] for c in CASES if "error" not in c}
    assert ours - tabled == set()


def test_top_k_ties_go_to_the_lower_index_for_unsigned_input():
    values, indices = get_kernel("TopKV2").fn(np.array([2, 7, 7, 0, 7], np.uint8), np.int32(2))
    np.testing.assert_array_equal(values, [7, 7])
    np.testing.assert_array_equal(indices, [1, 2])
    assert indices.dtype == np.int32


def test_sparse_xent_error_names_the_op_and_the_label():
    with pytest.raises(InvalidArgumentError, match=r"SparseSoftmaxCrossEntropyWithLogits.* 9 .*\[0, 3\)"):
        get_kernel("SparseSoftmaxCrossEntropyWithLogits").fn(
            np.zeros((2, 3), np.float32), np.array([1, 9], np.int64))


def test_float32_stays_float32_with_python_float_attrs():
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    for op, attrs in (("LeakyRelu", {"alpha": 0.3}), ("Elu", {}), ("Selu", {}), ("Softplus", {})):
        assert get_kernel(op).fn(x, **attrs).dtype == np.float32, op


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.uint8, np.float16])
def test_top_k_partition_path_matches_a_full_stable_sort(dtype):
    # Rows much longer than k take the partition path; many ties straddle the k-th value.
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, (5, 7, 40)).astype(dtype)
    values, indices = get_kernel("TopKV2").fn(x, np.int32(6))
    order = np.argsort(-x.astype(np.float64), axis=-1, kind="stable")[..., :6]
    np.testing.assert_array_equal(indices, order)
    np.testing.assert_array_equal(values, np.take_along_axis(x, order, axis=-1))


def test_max_pool_grad_with_argmax_rejects_an_index_outside_the_image():
    # TF aborts the whole process on this input (a CHECK failure); we raise instead.
    with pytest.raises(InvalidArgumentError, match=r"MaxPoolGradWithArgmax.*\[0, 9\)"):
        get_kernel("MaxPoolGradWithArgmax").fn(
            np.zeros((1, 3, 3, 1), np.float32), np.ones((1, 2, 2, 1), np.float32),
            np.array([0, 1, 2, 9], np.int64).reshape(1, 2, 2, 1),
            ksize=[1, 2, 2, 1], strides=[1, 1, 1, 1], padding=b"VALID")


OP_DEFS = {c["op"]: c["op_def"] for c in CASES if "op_def" in c}   # TF's, recorded with the table


def _plain(value):
    """A kernel default in the form TF's op-def defaults were recorded (str, list, DType name)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, DType):
        return value.tf_name
    return value


@pytest.mark.parametrize("op_type", sorted(OP_DEFS))
def test_kernel_signature_matches_tf_op_def(op_type):
    """Inputs in TF's order, attrs under TF's names with TF's defaults: a misspelt attr would
    silently keep our default, since the executor passes only the attrs a kernel declares."""
    op_def = OP_DEFS[op_type]
    kdef = get_kernel(op_type)
    params = list(inspect.signature(kdef.fn).parameters.values())
    assert [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD] == op_def["inputs"]
    assert kdef.attr_names <= set(op_def["attrs"]), kdef.attr_names - set(op_def["attrs"])
    for p in params:
        tf_default = op_def["attrs"].get(p.name)
        if p.kind is not p.KEYWORD_ONLY or tf_default is None:
            continue
        assert p.default is not p.empty, f"{p.name}: TF has a default ({tf_default!r}), we do not"
        if isinstance(tf_default, float):
            assert p.default == pytest.approx(tf_default, rel=1e-6), p.name
        else:
            assert _plain(p.default) == tf_default, p.name


def test_every_kernel_has_its_tf_op_def_recorded():
    ours = {t for t in registered_op_types() if get_kernel(t).fn.__module__ in OUR_MODULES}
    assert ours <= set(OP_DEFS), ours - set(OP_DEFS)


def _random_geometries(count: int, seed: int) -> list[dict]:
    """Small conv/pool geometries: kernels up to 4, strides up to 3, dilations up to 2,
    SAME/VALID/EXPLICIT, inputs down to 1 pixel (kernel larger than the input)."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        kh, kw = rng.integers(1, 5, 2)
        sh, sw = rng.integers(1, 4, 2)
        dh, dw = rng.integers(1, 3, 2)
        h, w = rng.integers(1, 9, 2)
        padding = rng.choice(["SAME", "VALID", "EXPLICIT"])
        pads = [0, 0, *rng.integers(0, 3, 4).tolist(), 0, 0]
        eff_h, eff_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        if padding == "VALID" and (eff_h > h or eff_w > w):
            continue
        if padding == "EXPLICIT" and (eff_h > h + pads[2] + pads[3] or eff_w > w + pads[4] + pads[5]):
            continue
        out.append({"x": (2, int(h), int(w), 3), "k": (int(kh), int(kw)), "strides": [1, int(sh), int(sw), 1],
                    "dilations": [1, int(dh), int(dw), 1], "padding": str(padding).encode(),
                    "explicit_paddings": pads if padding == "EXPLICIT" else []})
    return out


@pytest.mark.parametrize("geo", _random_geometries(40, seed=5), ids=lambda g: str(g)[:60])
def test_conv_backprops_are_adjoints_of_the_forward_conv(geo):
    # <conv(x, w), dy> = <x, dx(dy)> = <w, dw(dy)> for every geometry the table does not cover.
    rng = np.random.default_rng(0)
    undilated = geo["dilations"] == [1, 1, 1, 1]
    attrs = {k: geo[k] for k in ("strides", "padding", "explicit_paddings", "dilations")}
    x = rng.standard_normal(geo["x"])
    w = rng.standard_normal(geo["k"] + (3, 4))
    y = get_kernel("Conv2D").fn(x, w, **attrs)
    dy = rng.standard_normal(y.shape)
    if not undilated:   # TF's CPU backprops reject dilations; so do ours
        with pytest.raises(InvalidArgumentError, match="dilation"):
            get_kernel("Conv2DBackpropInput").fn(np.array(x.shape), w, dy, **attrs)
        return
    dx = get_kernel("Conv2DBackpropInput").fn(np.array(x.shape), w, dy, **attrs)
    dw = get_kernel("Conv2DBackpropFilter").fn(x, np.array(w.shape), dy, **attrs)
    forward = np.vdot(y, dy)
    assert np.vdot(x, dx) == pytest.approx(forward, rel=1e-9, abs=1e-9)
    assert np.vdot(w, dw) == pytest.approx(forward, rel=1e-9, abs=1e-9)
    if geo["strides"][1] == geo["strides"][2]:
        wd = rng.standard_normal(geo["k"] + (3, 2))
        yd = get_kernel("DepthwiseConv2dNative").fn(x, wd, **attrs)
        dyd = rng.standard_normal(yd.shape)
        dxd = get_kernel("DepthwiseConv2dNativeBackpropInput").fn(np.array(x.shape), wd, dyd, **attrs)
        dwd = get_kernel("DepthwiseConv2dNativeBackpropFilter").fn(x, np.array(wd.shape), dyd, **attrs)
        assert np.vdot(x, dxd) == pytest.approx(np.vdot(yd, dyd), rel=1e-9, abs=1e-9)
        assert np.vdot(wd, dwd) == pytest.approx(np.vdot(yd, dyd), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("geo", [g for g in _random_geometries(60, seed=9)
                                 if g["dilations"] == [1, 1, 1, 1] and g["padding"] != b"EXPLICIT"][:25],
                         ids=lambda g: str(g)[:60])
def test_pool_gradients_are_adjoints_of_the_pooling(geo):
    rng = np.random.default_rng(1)
    attrs = {"ksize": [1, *geo["k"], 1], "strides": geo["strides"], "padding": geo["padding"]}
    x = rng.standard_normal(geo["x"])               # distinct values: no ties
    pooled = get_kernel("AvgPool").fn(x, **attrs)
    dy = rng.standard_normal(pooled.shape)
    dx = get_kernel("AvgPoolGrad").fn(np.array(x.shape), dy, **attrs)
    assert np.vdot(x, dx) == pytest.approx(np.vdot(pooled, dy), rel=1e-9, abs=1e-9)
    # Max pooling is linear in x around a point without ties: the gradient is its adjoint.
    pooled = get_kernel("MaxPool").fn(x, **attrs)
    dx = get_kernel("MaxPoolGrad").fn(x, pooled, dy, **attrs)
    assert np.vdot(x, dx) == pytest.approx(np.vdot(pooled, dy), rel=1e-9, abs=1e-9)
    routed = get_kernel("MaxPoolGradGrad").fn(x, pooled, x, **attrs)
    np.testing.assert_array_equal(routed, pooled)     # each output's own input element
