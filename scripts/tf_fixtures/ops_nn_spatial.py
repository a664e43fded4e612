"""Convolution, pooling and batch-norm cases of the nn op table (see ops_nn.py, which runs them).

Backprop cases feed an ``out_backprop`` of the shape TF's own forward op produced, so
every configuration (padding, strides, dilations) is checked both ways.
"""
from __future__ import annotations

import numpy as np

# (id, input NHWC, filter HWIO, strides, padding, dilations, explicit_paddings)
CONVS = [
    ("3x3_same", (2, 5, 5, 3), (3, 3, 3, 4), (1, 1), "SAME", (1, 1), None),
    ("3x3_valid_s2", (2, 7, 6, 2), (3, 3, 2, 3), (2, 2), "VALID", (1, 1), None),
    ("3x3_same_s2_even", (1, 6, 6, 2), (3, 3, 2, 2), (2, 2), "SAME", (1, 1), None),
    ("2x2_same_s1", (1, 4, 5, 2), (2, 2, 2, 3), (1, 1), "SAME", (1, 1), None),
    ("5x3_same_s3x1", (2, 8, 7, 1), (5, 3, 1, 2), (3, 1), "SAME", (1, 1), None),
    ("1x1", (2, 3, 4, 5), (1, 1, 5, 2), (1, 1), "VALID", (1, 1), None),
    ("dilated", (1, 9, 8, 2), (3, 2, 2, 3), (1, 1), "SAME", (2, 3), None),
    ("dilated_valid_s2", (1, 9, 9, 2), (2, 2, 2, 2), (2, 2), "VALID", (2, 2), None),
    ("explicit", (1, 5, 4, 2), (3, 3, 2, 2), (1, 2), "EXPLICIT", (1, 1), (0, 0, 1, 2, 0, 3, 0, 0)),
    ("grouped", (2, 4, 4, 4), (3, 3, 2, 6), (1, 1), "SAME", (1, 1), None),
    ("filter_bigger_than_input_same", (1, 2, 2, 1), (3, 3, 1, 1), (1, 1), "SAME", (1, 1), None),
]

# (id, input NHWC, ksize, strides, padding)
POOLS = [
    ("2x2_valid_s2", (2, 4, 6, 3), (2, 2), (2, 2), "VALID"),
    ("3x3_same_s2", (1, 5, 6, 2), (3, 3), (2, 2), "SAME"),
    ("3x3_same_s1", (1, 4, 4, 2), (3, 3), (1, 1), "SAME"),
    ("2x3_valid_s1x2", (2, 5, 7, 1), (2, 3), (1, 2), "VALID"),
    ("window_bigger_than_input_same", (1, 2, 3, 2), (4, 4), (1, 1), "SAME"),
    # Non-overlapping windows (stride == window) take a reshape fast path; with padding:
    ("2x2_same_s2_odd", (2, 5, 5, 2), (2, 2), (2, 2), "SAME"),
    ("3x3_same_s3", (1, 7, 8, 2), (3, 3), (3, 3), "SAME"),
    ("3x2_valid_s3x2_leftover", (1, 7, 5, 1), (3, 2), (3, 2), "VALID"),
]


def _hwc(pair: tuple) -> list[int]:
    return [1, pair[0], pair[1], 1]


def conv(c) -> None:
    for cid, in_shape, f_shape, strides, padding, dilations, explicit in CONVS:
        attrs = {"strides": _hwc(strides), "padding": padding, "dilations": _hwc(dilations)}
        if explicit:
            attrs["explicit_paddings"] = list(explicit)
        x, w = c.normal(in_shape), c.normal(f_shape)
        outs = c.run(f"conv2d_{cid}", "Conv2D", {"input": x, "filter": w}, attrs)
        if not outs:
            continue
        dy = c.normal(outs[0].shape)
        c.run(f"conv2d_backprop_input_{cid}", "Conv2DBackpropInput",
              {"input_sizes": np.array(in_shape, np.int32), "filter": w, "out_backprop": dy}, attrs)
        c.run(f"conv2d_backprop_filter_{cid}", "Conv2DBackpropFilter",
              {"input": x, "filter_sizes": np.array(f_shape, np.int32), "out_backprop": dy}, attrs)
    same = {"strides": [1, 1, 1, 1], "padding": "SAME"}
    for dt, tol in ((np.float64, {}), (np.float16, {"rtol": 5e-3, "atol": 5e-3})):
        name = np.dtype(dt).name
        x, w = c.normal((1, 4, 4, 2), dt), c.normal((3, 3, 2, 2), dt)
        c.run(f"conv2d_{name}", "Conv2D", {"input": x, "filter": w}, same, **tol)
        dy = c.normal((1, 4, 4, 2), dt)
        c.run(f"conv2d_backprop_input_{name}", "Conv2DBackpropInput",
              {"input_sizes": np.array([1, 4, 4, 2], np.int32), "filter": w, "out_backprop": dy},
              same, **tol)
        c.run(f"conv2d_backprop_filter_{name}", "Conv2DBackpropFilter",
              {"input": x, "filter_sizes": np.array([3, 3, 2, 2], np.int32), "out_backprop": dy},
              same, **tol)
    x, w = c.normal((2, 4, 4, 3)), c.normal((2, 2, 3, 2))
    c.run("conv2d_empty_batch", "Conv2D", {"input": x[:0], "filter": w}, same)
    c.run("conv2d_nchw_rejected", "Conv2D",
          {"input": np.ascontiguousarray(x.transpose(0, 3, 1, 2)), "filter": w},
          {**same, "data_format": "NCHW"})
    c.run("conv2d_depth_mismatch", "Conv2D", {"input": x, "filter": c.normal((2, 2, 2, 2))}, same)
    c.run("conv2d_negative_output", "Conv2D", {"input": x, "filter": c.normal((5, 2, 3, 2))},
          {"strides": [1, 1, 1, 1], "padding": "VALID"})
    c.run("conv2d_batch_stride", "Conv2D", {"input": x, "filter": w},
          {"strides": [2, 1, 1, 1], "padding": "SAME"})
    c.run("conv2d_rank3_input", "Conv2D", {"input": x[0], "filter": w}, same)
    c.run("conv2d_backprop_input_wrong_out_backprop", "Conv2DBackpropInput",
          {"input_sizes": np.array([2, 4, 4, 3], np.int32), "filter": w,
           "out_backprop": c.normal((2, 3, 3, 2))}, same)
    c.run("conv2d_backprop_input_nchw_rejected", "Conv2DBackpropInput",
          {"input_sizes": np.array([2, 3, 4, 4], np.int32), "filter": w,
           "out_backprop": c.normal((2, 2, 4, 4))}, {**same, "data_format": "NCHW"})


DEPTHWISE = [
    ("3x3_same_m2", (2, 5, 5, 3), (3, 3, 3, 2), (1, 1), "SAME", (1, 1)),
    ("3x3_valid_s2_m1", (1, 7, 6, 4), (3, 3, 4, 1), (2, 2), "VALID", (1, 1)),
    ("2x2_same_s2_m3", (1, 6, 5, 2), (2, 2, 2, 3), (2, 2), "SAME", (1, 1)),
    ("dilated", (1, 8, 8, 2), (3, 3, 2, 2), (1, 1), "SAME", (2, 2)),
]


def depthwise(c) -> None:
    for cid, in_shape, f_shape, strides, padding, dilations in DEPTHWISE:
        attrs = {"strides": _hwc(strides), "padding": padding, "dilations": _hwc(dilations)}
        x, w = c.normal(in_shape), c.normal(f_shape)
        outs = c.run(f"depthwise_{cid}", "DepthwiseConv2dNative", {"input": x, "filter": w}, attrs)
        if not outs:
            continue
        dy = c.normal(outs[0].shape)
        c.run(f"depthwise_backprop_input_{cid}", "DepthwiseConv2dNativeBackpropInput",
              {"input_sizes": np.array(in_shape, np.int32), "filter": w, "out_backprop": dy}, attrs)
        c.run(f"depthwise_backprop_filter_{cid}", "DepthwiseConv2dNativeBackpropFilter",
              {"input": x, "filter_sizes": np.array(f_shape, np.int32), "out_backprop": dy}, attrs)
    c.run("depthwise_unequal_strides_rejected", "DepthwiseConv2dNative",
          {"input": c.normal((1, 5, 4, 2)), "filter": c.normal((3, 2, 2, 2))},
          {"strides": [1, 2, 1, 1], "padding": "VALID"})
    explicit = {"strides": [1, 2, 2, 1], "padding": "EXPLICIT",
                "explicit_paddings": [0, 0, 1, 2, 0, 1, 0, 0]}
    x, w = c.normal((1, 5, 4, 2)), c.normal((3, 2, 2, 2))
    outs = c.run("depthwise_explicit", "DepthwiseConv2dNative", {"input": x, "filter": w}, explicit)
    dy = c.normal(outs[0].shape)
    c.run("depthwise_backprop_input_explicit", "DepthwiseConv2dNativeBackpropInput",
          {"input_sizes": np.array(x.shape, np.int32), "filter": w, "out_backprop": dy}, explicit)
    c.run("depthwise_backprop_filter_explicit", "DepthwiseConv2dNativeBackpropFilter",
          {"input": x, "filter_sizes": np.array(w.shape, np.int32), "out_backprop": dy}, explicit)
    same = {"strides": [1, 1, 1, 1], "padding": "SAME"}
    for dt, tol in ((np.float64, {}), (np.float16, {"rtol": 5e-3, "atol": 5e-3})):
        name = np.dtype(dt).name
        xd, wd = c.normal((1, 4, 4, 2), dt), c.normal((3, 3, 2, 2), dt)
        outs = c.run(f"depthwise_{name}", "DepthwiseConv2dNative", {"input": xd, "filter": wd}, same, **tol)
        dy = c.normal(outs[0].shape, dt)
        c.run(f"depthwise_backprop_input_{name}", "DepthwiseConv2dNativeBackpropInput",
              {"input_sizes": np.array(xd.shape, np.int32), "filter": wd, "out_backprop": dy}, same, **tol)
        c.run(f"depthwise_backprop_filter_{name}", "DepthwiseConv2dNativeBackpropFilter",
              {"input": xd, "filter_sizes": np.array(wd.shape, np.int32), "out_backprop": dy}, same,
              **tol)
    x = c.normal((1, 4, 4, 3))
    c.run("depthwise_depth_mismatch", "DepthwiseConv2dNative",
          {"input": x, "filter": c.normal((2, 2, 2, 1))}, {"strides": [1, 1, 1, 1], "padding": "SAME"})
    c.run("depthwise_nchw_rejected", "DepthwiseConv2dNative",
          {"input": np.ascontiguousarray(x.transpose(0, 3, 1, 2)),
           "filter": c.normal((2, 2, 3, 1))},
          {"strides": [1, 1, 1, 1], "padding": "SAME", "data_format": "NCHW"})


def pool(c) -> None:
    for pid, shape, ksize, strides, padding in POOLS:
        attrs = {"ksize": _hwc(ksize), "strides": _hwc(strides), "padding": padding}
        # Small integers stored as floats: many equal values in a window (gradient ties).
        x = c.rng.integers(0, 4, shape).astype(np.float32)
        outs = c.run(f"max_pool_{pid}", "MaxPool", {"input": x}, attrs)
        dy = c.normal(outs[0].shape)
        c.run(f"max_pool_grad_{pid}", "MaxPoolGrad",
              {"orig_input": x, "orig_output": outs[0], "grad": dy}, attrs)
        c.run(f"max_pool_grad_grad_{pid}", "MaxPoolGradGrad",
              {"orig_input": x, "orig_output": outs[0], "grad": c.normal(shape)}, attrs)
        xr = c.normal(shape)
        outs = c.run(f"avg_pool_{pid}", "AvgPool", {"value": xr}, attrs)
        c.run(f"avg_pool_grad_{pid}", "AvgPoolGrad",
              {"orig_input_shape": np.array(shape, np.int32), "grad": c.normal(outs[0].shape)}, attrs)
    attrs = {"ksize": [1, 3, 3, 1], "strides": [1, 2, 2, 1], "padding": "SAME"}
    x = c.normal((1, 5, 5, 2))
    outs = c.run("max_pool_v2", "MaxPoolV2", {"input": x, "ksize": np.array(attrs["ksize"], np.int32),
                                              "strides": np.array(attrs["strides"], np.int32)},
                 {"padding": "SAME"})
    c.run("max_pool_grad_v2", "MaxPoolGradV2",
          {"orig_input": x, "orig_output": outs[0], "grad": c.normal(outs[0].shape),
           "ksize": np.array(attrs["ksize"], np.int32), "strides": np.array(attrs["strides"], np.int32)},
          {"padding": "SAME"})
    explicit = {"ksize": [1, 2, 3, 1], "strides": [1, 1, 2, 1], "padding": "EXPLICIT",
                "explicit_paddings": [0, 0, 1, 0, 2, 1, 0, 0]}
    outs = c.run("max_pool_explicit", "MaxPool", {"input": x}, explicit)
    c.run("max_pool_grad_explicit", "MaxPoolGrad",
          {"orig_input": x, "orig_output": outs[0], "grad": c.normal(outs[0].shape)}, explicit)
    neg = -np.abs(c.normal((1, 3, 3, 1))) - 1
    c.run("max_pool_negative_same", "MaxPool", {"input": neg}, attrs)
    for dt, tol in ((np.float64, {}), (np.float16, {"rtol": 2e-3, "atol": 2e-3})):
        name = np.dtype(dt).name
        xd = c.normal((1, 5, 5, 2), dt)
        outs = c.run(f"max_pool_{name}", "MaxPool", {"input": xd}, attrs)
        c.run(f"max_pool_grad_{name}", "MaxPoolGrad",
              {"orig_input": xd, "orig_output": outs[0], "grad": c.normal(outs[0].shape, dt)}, attrs)
        outs = c.run(f"avg_pool_{name}", "AvgPool", {"value": xd}, attrs, **tol)
        c.run(f"avg_pool_grad_{name}", "AvgPoolGrad",
              {"orig_input_shape": np.array(xd.shape, np.int32), "grad": c.normal(outs[0].shape, dt)},
              attrs, **tol)
    c.run("max_pool_int32", "MaxPool", {"input": c.rng.integers(-50, 50, (1, 4, 4, 2)).astype(np.int32)},
          attrs)
    c.run("max_pool_nan", "MaxPool",
          {"input": np.array([1, np.nan, 3, 2], np.float32).reshape(1, 2, 2, 1)},
          {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "VALID"})
    valid2 = {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "VALID"}
    nan_first = np.array([np.nan, 1, 3, 2, 5, np.nan, 3, 4, 0], np.float32).reshape(1, 3, 3, 1)
    tiled = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "SAME"}
    for pid, x_odd, pool_attrs in (("nan", nan_first, valid2),
                                   ("nan_tiled", nan_first, tiled),
                                   ("neg_inf_same", np.full((1, 3, 3, 1), -np.inf, np.float32), attrs),
                                   ("neg_inf_tiled", np.full((1, 3, 3, 1), -np.inf, np.float32), tiled),
                                   ("inf_grad", c.normal((1, 4, 4, 1)), valid2),
                                   ("inf_grad_tiled", c.normal((1, 4, 4, 1)), tiled)):
        outs = c.run(f"max_pool_{pid}_for_grad", "MaxPool", {"input": x_odd}, pool_attrs)
        grad = c.normal(outs[0].shape)
        if pid.startswith("inf_grad"):
            grad.reshape(-1)[:2] = (np.inf, np.nan)
        c.run(f"max_pool_grad_{pid}", "MaxPoolGrad",
              {"orig_input": x_odd, "orig_output": outs[0], "grad": grad}, pool_attrs)
        c.run(f"max_pool_grad_grad_{pid}", "MaxPoolGradGrad",
              {"orig_input": x_odd, "orig_output": outs[0], "grad": c.normal(x_odd.shape)}, pool_attrs)
    for pid, shape, ksize, strides, padding in POOLS[:3]:
        attrs_a = {"ksize": _hwc(ksize), "strides": _hwc(strides), "padding": padding}
        x_tied = c.rng.integers(0, 3, shape).astype(np.float32)
        for batch_index in (False, True):
            outs = c.run(f"max_pool_with_argmax_{pid}_{batch_index}", "MaxPoolWithArgmax",
                         {"input": x_tied}, {**attrs_a, "include_batch_in_index": batch_index})
            c.run(f"max_pool_grad_with_argmax_{pid}_{batch_index}", "MaxPoolGradWithArgmax",
                  {"input": x_tied, "grad": c.normal(outs[0].shape), "argmax": outs[1]},
                  {**attrs_a, "include_batch_in_index": batch_index})
    outs = c.run("max_pool_with_argmax_int32_index", "MaxPoolWithArgmax", {"input": nan_first},
                 {**valid2, "Targmax": "int32"})
    # An out-of-range argmax aborts TF's process (CHECK failure): tested in pytest only.
    c.run("max_pool_nchw_rejected", "MaxPool", {"input": x}, {**attrs, "data_format": "NCHW"})
    c.run("avg_pool_nchw_rejected", "AvgPool", {"value": x}, {**attrs, "data_format": "NCHW"})
    x6 = c.normal((2, 3, 2, 6))
    depth = {"ksize": [1, 1, 1, 3], "strides": [1, 1, 1, 3], "padding": "VALID"}
    outs = c.run("max_pool_depth", "MaxPool", {"input": x6}, depth)
    c.run("max_pool_depth_same", "MaxPool", {"input": x6}, {**depth, "padding": "SAME"})
    c.run("max_pool_v2_depth", "MaxPoolV2", {"input": x6, "ksize": np.array([1, 1, 1, 2], np.int32),
                                             "strides": np.array([1, 1, 1, 2], np.int32)},
          {"padding": "VALID"})
    c.run("max_pool_depth_stride_differs", "MaxPool", {"input": x6},
          {**depth, "strides": [1, 1, 1, 2]})
    c.run("max_pool_depth_not_dividing", "MaxPool", {"input": x6},
          {"ksize": [1, 1, 1, 4], "strides": [1, 1, 1, 4], "padding": "VALID"})
    c.run("max_pool_grad_depth_rejected", "MaxPoolGrad",
          {"orig_input": x6, "orig_output": outs[0], "grad": outs[0]}, depth)
    c.run("max_pool_depth_and_space", "MaxPool", {"input": x},
          {"ksize": [1, 2, 2, 2], "strides": [1, 1, 1, 2], "padding": "VALID"})
    c.run("max_pool_window_too_big_valid", "MaxPool", {"input": x},
          {"ksize": [1, 6, 1, 1], "strides": [1, 1, 1, 1], "padding": "VALID"})
    c.run("avg_pool_batch_window", "AvgPool", {"value": x},
          {"ksize": [2, 1, 1, 1], "strides": [1, 1, 1, 1], "padding": "VALID"})


def batch_norm(c) -> None:
    x4 = c.normal((3, 4, 2, 5), scale=2) + 1
    scale, offset = c.normal((5,)) + 1, c.normal((5,))
    mean, var = c.normal((5,)), np.abs(c.normal((5,))) + 0.5
    for op in ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"):
        grad_op = op.replace("Norm", "NormGrad")
        low = op.lower().replace("fusedbatchnorm", "fbn")
        for training in (True, False):
            mode = "train" if training else "infer"
            for factor in ((1.0, 0.25) if training else (1.0,)):
                attrs = {"is_training": training, "epsilon": 1e-3, "exponential_avg_factor": factor}
                unspecified = {} if training else {"unspecified_outputs": [3, 4]}
                outs = c.run(f"{low}_{mode}_f{factor}", op,
                             {"x": x4, "scale": scale, "offset": offset, "mean": mean,
                              "variance": var}, attrs, **unspecified)
            reserve = outs[3:] if training else [mean, var] + outs[5:]
            dy = c.normal(x4.shape)
            grad_inputs = {"y_backprop": dy, "x": x4, "scale": scale,
                           "reserve_space_1": reserve[0], "reserve_space_2": reserve[1]}
            if op.endswith("V3"):
                grad_inputs["reserve_space_3"] = reserve[2]
            c.run(f"{low}_grad_{mode}", grad_op, grad_inputs,
                  {"is_training": training, "epsilon": 1e-3})
    one = c.normal((1, 1, 1, 5))
    outs = c.run("fbn_v3_train_single_element", "FusedBatchNormV3",
                 {"x": one, "scale": scale, "offset": offset, "mean": mean, "variance": var},
                 {"is_training": True, "exponential_avg_factor": 0.5})
    c.run("fbn_v3_grad_train_single_element", "FusedBatchNormGradV3",
          {"y_backprop": c.normal(one.shape), "x": one, "scale": scale, "reserve_space_1": outs[3],
           "reserve_space_2": outs[4], "reserve_space_3": outs[5]}, {"is_training": True})
    empty = np.zeros((0,), np.float32)
    c.run("fbn_v3_train_no_running_stats", "FusedBatchNormV3",
          {"x": x4, "scale": scale, "offset": offset, "mean": empty, "variance": empty},
          {"is_training": True})
    xc = np.ascontiguousarray(np.transpose(x4, (0, 3, 1, 2)))
    outs = c.run("fbn_v3_nchw_train", "FusedBatchNormV3",
                 {"x": xc, "scale": scale, "offset": offset, "mean": mean, "variance": var},
                 {"is_training": True, "data_format": "NCHW"})
    c.run("fbn_v3_grad_nchw_train", "FusedBatchNormGradV3",
          {"y_backprop": c.normal(xc.shape), "x": xc, "scale": scale, "reserve_space_1": outs[3],
           "reserve_space_2": outs[4], "reserve_space_3": outs[5]},
          {"is_training": True, "data_format": "NCHW"})
    c.run("fbn_v3_nchw_infer", "FusedBatchNormV3",
          {"x": xc, "scale": scale, "offset": offset, "mean": mean, "variance": var},
          {"is_training": False, "data_format": "NCHW"}, unspecified_outputs=[3, 4])
    x16 = x4.astype(np.float16)
    tol16 = {"rtol": 5e-3, "atol": 5e-3}
    outs = c.run("fbn_v3_f16_train", "FusedBatchNormV3",
                 {"x": x16, "scale": scale, "offset": offset, "mean": mean, "variance": var},
                 {"is_training": True, "exponential_avg_factor": 0.5}, **tol16)
    c.run("fbn_v3_grad_f16_train", "FusedBatchNormGradV3",
          {"y_backprop": c.normal(x4.shape, np.float16), "x": x16, "scale": scale,
           "reserve_space_1": outs[3], "reserve_space_2": outs[4], "reserve_space_3": outs[5]},
          {"is_training": True}, **tol16)
    c.run("fbn_v2_f16_infer", "FusedBatchNormV2",
          {"x": x16, "scale": scale, "offset": offset, "mean": mean, "variance": var},
          {"is_training": False}, unspecified_outputs=[3, 4], **tol16)
    x5 = c.normal((2, 3, 2, 2, 4))
    outs = c.run("fbn_v3_5d_train", "FusedBatchNormV3",
                 {"x": x5, "scale": scale[:4], "offset": offset[:4], "mean": mean[:4],
                  "variance": var[:4]}, {"is_training": True, "data_format": "NDHWC"})
    c.run("fbn_v3_grad_5d_train", "FusedBatchNormGradV3",
          {"y_backprop": c.normal(x5.shape), "x": x5, "scale": scale[:4], "reserve_space_1": outs[3],
           "reserve_space_2": outs[4], "reserve_space_3": outs[5]},
          {"is_training": True, "data_format": "NDHWC"})
    image = c.normal((2, 3, 3, 7), scale=2)
    for lid, lrn_attrs in (("default", {}),
                           ("r2_b1", {"depth_radius": 2, "bias": 2.0, "alpha": 1e-2, "beta": 0.75}),
                           ("r1_beta1", {"depth_radius": 1, "bias": 1.0, "alpha": 0.5, "beta": 1.0}),
                           ("r0", {"depth_radius": 0, "bias": 0.5, "alpha": 2.0, "beta": 0.5})):
        outs = c.run(f"lrn_{lid}", "LRN", {"input": image}, lrn_attrs)
        c.run(f"lrn_grad_{lid}", "LRNGrad", {"input_grads": c.normal(image.shape),
                                              "input_image": image, "output_image": outs[0]},
              lrn_attrs)
    c.run("lrn_rank3_rejected", "LRN", {"input": image[0]})
    x2 = c.normal((6, 3))
    c.run("fbn_v3_rank2_rejected", "FusedBatchNormV3",
          {"x": x2, "scale": scale[:3], "offset": offset[:3], "mean": mean[:3], "variance": var[:3]},
          {"is_training": True})
    c.run("fbn_v3_scale_wrong_size", "FusedBatchNormV3",
          {"x": x4, "scale": scale[:3], "offset": offset, "mean": mean, "variance": var},
          {"is_training": True})


def empty(c) -> None:
    """Zero-sized batches through every family: shapes and dtypes must still be TF's."""
    e4 = np.zeros((0, 4, 4, 2), np.float32)
    pool = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "SAME"}
    overlap = {"ksize": [1, 3, 3, 1], "strides": [1, 1, 1, 1], "padding": "SAME"}
    for pid, attrs in (("tiled", pool), ("overlap", overlap)):
        outs = c.run(f"max_pool_empty_{pid}", "MaxPool", {"input": e4}, attrs)
        c.run(f"max_pool_grad_empty_{pid}", "MaxPoolGrad",
              {"orig_input": e4, "orig_output": outs[0], "grad": outs[0]}, attrs)
        outs = c.run(f"avg_pool_empty_{pid}", "AvgPool", {"value": e4}, attrs)
        c.run(f"avg_pool_grad_empty_{pid}", "AvgPoolGrad",
              {"orig_input_shape": np.array(e4.shape, np.int32), "grad": outs[0]}, attrs)
    same = {"strides": [1, 1, 1, 1], "padding": "SAME"}
    w = c.normal((3, 3, 2, 3))
    outs = c.run("conv2d_backprop_input_empty", "Conv2DBackpropInput",
                 {"input_sizes": np.array(e4.shape, np.int32), "filter": w,
                  "out_backprop": np.zeros((0, 4, 4, 3), np.float32)}, same)
    c.run("conv2d_backprop_filter_empty", "Conv2DBackpropFilter",
          {"input": e4, "filter_sizes": np.array(w.shape, np.int32),
           "out_backprop": np.zeros((0, 4, 4, 3), np.float32)}, same)
    c.run("depthwise_empty", "DepthwiseConv2dNative", {"input": e4, "filter": c.normal((3, 3, 2, 2))},
          same)
    c.run("sparse_xent_empty", "SparseSoftmaxCrossEntropyWithLogits",
          {"features": np.zeros((0, 5), np.float32), "labels": np.zeros((0,), np.int32)})
    c.run("top_k_empty_rows", "TopKV2", {"input": np.zeros((0, 5), np.float32), "k": np.int32(2)})


def add_cases(c) -> None:
    empty(c)
    conv(c)
    depthwise(c)
    pool(c)
    batch_norm(c)
