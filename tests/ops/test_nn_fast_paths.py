"""The nn kernels' fast paths (cached gathers, tiled pooling, row reductions) give the same
bits as their general forms: each case runs both and compares bytes, on inputs made to
hit the awkward spots (padding, ties, -inf, NaN, integer types, odd sizes)."""
from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from orchestrator.ops import conv_ops, norm_ops, pool_ops
from orchestrator.ops.conv_gather import flipped_index, gather_columns, im2col_index
from orchestrator.ops.registry import get_kernel


def _same_bytes(a: np.ndarray, b: np.ndarray) -> None:
    assert (a.dtype, a.shape) == (b.dtype, b.shape)
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def _tiled_pool_cases(count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    dtypes = [np.float32, np.float64, np.float16, np.int32, np.int8]
    while len(cases) < count:
        kh, kw = (int(v) for v in rng.integers(1, 4, 2))
        h, w = (int(v) for v in rng.integers(1, 10, 2))
        padding = [b"SAME", b"VALID"][len(cases) % 2]
        if padding == b"VALID" and (kh > h or kw > w):
            continue
        dtype = dtypes[len(cases) % len(dtypes)]
        x = rng.integers(-3, 3, (2, h, w, 3)) if len(cases) % 3 else rng.standard_normal((2, h, w, 3)) * 4
        x = x.astype(dtype)           # small integers: many ties inside windows
        if x.dtype.kind == "f" and len(cases) % 4 == 1:
            x[0, 0, 0, 0] = -np.inf   # ties with the padding
        if x.dtype.kind == "f" and len(cases) % 5 == 2:
            x[1, -1, -1, 2] = np.nan  # TF's scan keeps a leading NaN
        if dtype == np.int8 and len(cases) % 2:
            x[0, 0, 0, 1] = -128      # the integer padding value itself
        cases.append({"x": x, "attrs": {"ksize": [1, kh, kw, 1], "strides": [1, kh, kw, 1],
                                        "padding": padding}})
    return cases


@pytest.mark.parametrize("case", _tiled_pool_cases(60, seed=2), ids=lambda c: f"{c['x'].dtype}{c['x'].shape}"
                         f"{c['attrs']['ksize'][1:3]}{c['attrs']['padding'].decode()}")
def test_tiled_max_pool_grad_equals_the_offset_loop(case, monkeypatch):
    x, attrs = case["x"], case["attrs"]
    pooled = get_kernel("MaxPool").fn(x, **attrs)
    rng = np.random.default_rng(7)
    grad = (rng.standard_normal(pooled.shape) * 8).astype(x.dtype)
    fast = get_kernel("MaxPoolGrad").fn(x, pooled, grad, **attrs)
    monkeypatch.setattr(pool_ops, "SMALL", 0)          # every size takes the general loop
    general = get_kernel("MaxPoolGrad").fn(x, pooled, grad, **attrs)
    _same_bytes(fast, general)


def _conv_geometries(count: int, seed: int) -> list[tuple]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        kh, kw = (int(v) for v in rng.integers(1, 4, 2))
        sh, sw = (int(v) for v in rng.integers(1, 4, 2))
        h, w = (int(v) for v in rng.integers(1, 9, 2))
        padding = [b"SAME", b"VALID"][len(out) % 2]
        if padding == b"VALID" and (kh > h or kw > w):
            continue
        out.append(((2, h, w, 3), (kh, kw, 3, 4), [1, sh, sw, 1], padding))
    return out


@pytest.mark.parametrize("geometry", _conv_geometries(30, seed=4), ids=str)
def test_gathered_columns_equal_the_padded_windows(geometry):
    x_shape, f_shape, strides, padding = geometry
    x = np.random.default_rng(1).standard_normal(x_shape).astype(np.float32)
    rows, cols = conv_ops.window_geometry("Conv2D", x_shape[1:3], f_shape[:2], strides, padding)
    padded = conv_ops.pad_input(x, rows, cols)
    windows = sliding_window_view(padded, f_shape[:2], axis=(1, 2))[:, ::rows.stride, ::cols.stride]
    windows = windows[:, :rows.out, :cols.out].transpose(0, 1, 2, 4, 5, 3)     # [N, OH, OW, KH, KW, C]
    expected = windows.reshape(-1, f_shape[0] * f_shape[1] * x_shape[3])
    _same_bytes(gather_columns(x, *im2col_index(rows, cols), f_shape[0] * f_shape[1]), expected)


@pytest.mark.parametrize("geometry", [g for g in _conv_geometries(30, seed=4) if g[2] == [1, 1, 1, 1]]
                         + [((2, 5, 4, 3), (3, 2, 3, 4), [1, 1, 1, 1], b"SAME")], ids=str)
def test_flipped_gather_reads_the_output_gradient_k_minus_1_padded(geometry):
    x_shape, f_shape, strides, padding = geometry
    rows, cols = conv_ops.window_geometry("Conv2D", x_shape[1:3], f_shape[:2], strides, padding)
    dy = np.random.default_rng(2).standard_normal((2, rows.out, cols.out, 4)).astype(np.float32)
    kh, kw = f_shape[:2]
    full = np.pad(dy, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    full = full[:, rows.pad_before:rows.pad_before + x_shape[1] + kh - 1,
                cols.pad_before:cols.pad_before + x_shape[2] + kw - 1]
    windows = sliding_window_view(full, (kh, kw), axis=(1, 2))[:, :x_shape[1], :x_shape[2]]
    expected = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw * 4)
    _same_bytes(gather_columns(dy, *flipped_index(rows, cols), kh * kw), expected)


@pytest.mark.parametrize("geometry", [g for g in _conv_geometries(80, seed=6)
                                      if g[2][1] >= g[1][0] and g[2][2] >= g[1][1] and g[2][1] > 1][:15],
                         ids=str)
def test_disjoint_col2im_equals_the_summing_col2im(geometry, monkeypatch):
    x_shape, f_shape, strides, padding = geometry
    rng = np.random.default_rng(3)
    attrs = {"strides": strides, "padding": padding}
    w = rng.standard_normal(f_shape).astype(np.float32)
    dy = rng.standard_normal(get_kernel("Conv2D").fn(np.zeros(x_shape, np.float32), w, **attrs).shape)
    dy = dy.astype(np.float32)
    dy[0, 0, 0, :] = -0.0                             # a summing col2im turns -0.0 into +0.0
    fast = get_kernel("Conv2DBackpropInput").fn(np.array(x_shape), w, dy, **attrs)
    monkeypatch.setattr(conv_ops, "col2im_targets", lambda *args: None)
    general = get_kernel("Conv2DBackpropInput").fn(np.array(x_shape), w, dy, **attrs)
    _same_bytes(fast, general)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4, 8, 8, 6), (3, 5, 7), (1000, 3), (2, 1, 1, 5), (64, 9, 9, 32)])
def test_row_reductions_equal_numpys_multi_axis_sum(dtype, shape):
    # BiasAddGrad and the batch-norm channel sums reduce a [-1, C] view with add.reduce;
    # numpy's sum over all leading axes of the same array must give the same bits.
    x = (np.random.default_rng(4).standard_normal(shape) * 50).astype(dtype)
    leading = tuple(range(len(shape) - 1))
    acc = np.float32 if dtype == np.float16 else dtype
    _same_bytes(get_kernel("BiasAddGrad").fn(x), x.sum(axis=leading, dtype=acc).astype(dtype))
    _same_bytes(norm_ops._channel_sum(x, leading, np.dtype(acc)), x.sum(axis=leading, dtype=acc))


def test_filter_gradient_over_zero_channels_is_an_empty_filter():
    x = np.zeros((2, 4, 4, 0), np.float32)
    dy = np.ones((2, 4, 4, 3), np.float32)
    attrs = {"strides": [1, 1, 1, 1], "padding": b"SAME"}
    dw = get_kernel("Conv2DBackpropFilter").fn(x, np.array([2, 2, 0, 3]), dy, **attrs)
    dx = get_kernel("Conv2DBackpropInput").fn(np.array([2, 4, 4, 0]), np.zeros((2, 2, 0, 3), np.float32),
                                              dy, **attrs)
    assert dw.shape == (2, 2, 0, 3) and dx.shape == (2, 4, 4, 0)


@pytest.mark.parametrize("geometry", [((3, 2, 2, 4), [1, 2, 2, 1], [1, 1, 1, 1], b"VALID"),     # cnn's pool2
                                      ((2, 3, 5, 2), [1, 3, 2, 1], [1, 1, 2, 1], b"VALID"),
                                      ((2, 2, 3, 3), [1, 3, 3, 1], [1, 4, 3, 1], b"SAME"),
                                      ((1, 4, 1, 2), [1, 2, 1, 1], [1, 2, 3, 1], b"SAME")], ids=str)
def test_single_window_axes_take_the_tiled_paths_with_the_loops_bits(geometry, monkeypatch):
    shape, ksize, strides, padding = geometry
    rng = np.random.default_rng(9)
    x = rng.integers(-2, 3, shape).astype(np.float32)      # ties inside windows
    attrs = {"ksize": ksize, "strides": strides, "padding": padding}
    pooled = get_kernel("MaxPool").fn(x, **attrs)
    grad = rng.standard_normal(pooled.shape).astype(np.float32)
    fast = [get_kernel("MaxPoolGrad").fn(x, pooled, grad, **attrs),
            get_kernel("AvgPoolGrad").fn(np.array(shape), grad, **attrs)]
    monkeypatch.setattr(pool_ops, "is_tiled", lambda rows, cols: False)
    general = [get_kernel("MaxPoolGrad").fn(x, pooled, grad, **attrs),
               get_kernel("AvgPoolGrad").fn(np.array(shape), grad, **attrs)]
    for a, b in zip(fast, general):
        _same_bytes(a, b)
