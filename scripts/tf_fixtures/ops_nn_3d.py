"""3-D convolution and pooling cases of the nn op table (see ops_nn.py, which runs them)."""
from __future__ import annotations

import numpy as np

# (id, input NDHWC, filter DHWIO, strides (D, H, W), padding)
CONVS = [
    ("2x3x3_same", (2, 3, 5, 4, 2), (2, 3, 3, 2, 3), (1, 1, 1), "SAME"),
    ("3x2x2_valid_s2", (1, 6, 5, 5, 3), (3, 2, 2, 3, 2), (2, 2, 2), "VALID"),
    ("3x3x3_same_s2", (1, 5, 6, 4, 1), (3, 3, 3, 1, 2), (2, 2, 1), "SAME"),
]

# (id, input NDHWC, ksize (D, H, W), strides (D, H, W), padding)
POOLS = [
    ("2x2x2_valid_s2", (2, 4, 4, 6, 2), (2, 2, 2), (2, 2, 2), "VALID"),
    ("3x3x3_same_s2", (1, 5, 5, 4, 2), (3, 3, 3), (2, 2, 2), "SAME"),
    ("2x2x1_same_s1", (1, 3, 4, 3, 1), (2, 2, 1), (1, 1, 1), "SAME"),
]


def _five(triple: tuple) -> list[int]:
    return [1, *triple, 1]


def conv3d(c) -> None:
    for cid, in_shape, f_shape, strides, padding in CONVS:
        attrs = {"strides": _five(strides), "padding": padding}
        x, w = c.normal(in_shape), c.normal(f_shape)
        outs = c.run(f"conv3d_{cid}", "Conv3D", {"input": x, "filter": w}, attrs)
        dy = c.normal(outs[0].shape)
        c.run(f"conv3d_backprop_input_{cid}", "Conv3DBackpropInputV2",
              {"input_sizes": np.array(in_shape, np.int32), "filter": w, "out_backprop": dy}, attrs)
        c.run(f"conv3d_backprop_filter_{cid}", "Conv3DBackpropFilterV2",
              {"input": x, "filter_sizes": np.array(f_shape, np.int32), "out_backprop": dy}, attrs)
    x, w = c.normal((1, 3, 3, 3, 2)), c.normal((2, 2, 2, 2, 2))
    same = {"strides": [1, 1, 1, 1, 1], "padding": "SAME"}
    c.run("conv3d_f64", "Conv3D", {"input": x.astype(np.float64), "filter": w.astype(np.float64)}, same)
    c.run("conv3d_dilated_rejected", "Conv3D", {"input": x, "filter": w},
          {**same, "dilations": [1, 2, 2, 2, 1]})
    c.run("conv3d_channel_mismatch", "Conv3D", {"input": x, "filter": c.normal((2, 2, 2, 1, 2))}, same)
    c.run("conv3d_ncdhw_rejected", "Conv3D", {"input": x, "filter": w}, {**same, "data_format": "NCDHW"})


def pool3d(c) -> None:
    for pid, shape, ksize, strides, padding in POOLS:
        attrs = {"ksize": _five(ksize), "strides": _five(strides), "padding": padding}
        x = c.rng.integers(0, 3, shape).astype(np.float32)     # many ties inside windows
        outs = c.run(f"max_pool3d_{pid}", "MaxPool3D", {"input": x}, attrs)
        c.run(f"max_pool3d_grad_{pid}", "MaxPool3DGrad",
              {"orig_input": x, "orig_output": outs[0], "grad": c.normal(outs[0].shape)}, attrs)
        c.run(f"max_pool3d_grad_grad_{pid}", "MaxPool3DGradGrad",
              {"orig_input": x, "orig_output": outs[0], "grad": c.normal(shape)}, attrs)
        xr = c.normal(shape)
        outs = c.run(f"avg_pool3d_{pid}", "AvgPool3D", {"input": xr}, attrs)
        c.run(f"avg_pool3d_grad_{pid}", "AvgPool3DGrad",
              {"orig_input_shape": np.array(shape, np.int32), "grad": c.normal(outs[0].shape)}, attrs)
    attrs = {"ksize": [1, 2, 2, 2, 1], "strides": [1, 1, 1, 1, 1], "padding": "VALID"}
    odd = np.array([np.nan, 1, 3, 3, -np.inf, 2, np.nan, 0], np.float32).reshape(1, 2, 2, 2, 1)
    # TF's MaxPool3D of this window is 0 (its vectorised reduction is order-dependent with
    # NaN): not a contract, so only the gradient, which matches the pooled value it is given.
    c.run("max_pool3d_grad_nan", "MaxPool3DGrad",
          {"orig_input": odd, "orig_output": np.zeros((1, 1, 1, 1, 1), np.float32),
           "grad": np.ones((1, 1, 1, 1, 1), np.float32)}, attrs)
    c.run("max_pool3d_all_neg_inf", "MaxPool3D", {"input": np.full((1, 2, 2, 2, 1), -np.inf, np.float32)},
          attrs)
    x = c.normal((1, 3, 3, 3, 2))
    c.run("max_pool3d_ncdhw_rejected", "MaxPool3D", {"input": x},
          {**attrs, "data_format": "NCDHW"})
    c.run("avg_pool3d_depth_window", "AvgPool3D", {"input": x},
          {"ksize": [1, 1, 1, 1, 2], "strides": [1, 1, 1, 1, 1], "padding": "VALID"})


def add_cases(c) -> None:
    conv3d(c)
    pool3d(c)
