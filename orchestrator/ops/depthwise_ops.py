"""Depthwise 2-D convolution (NHWC) and its two backprops, as TF's CPU kernels.

Output channel ``c * multiplier + m`` is input channel ``c`` convolved with
``filter[:, :, c, m]``. With only a handful of taps per channel a matmul per channel is
tiny, so these kernels loop over the KH*KW kernel offsets instead, each a vectorised
multiply-add over the whole batch (3-4x faster than batched per-channel matmuls here).
TF's CPU kernels support neither NCHW, dilations nor unequal row/column strides; neither do
these (same error classes).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.ops.conv_ops import Axis, check_nhwc, pad_input, window_geometry, window_slice
from orchestrator.ops.nn_ops import data_format_str
from orchestrator.ops.registry import kernel


def _rank4(op: str, name: str, value: np.ndarray) -> None:
    if value.ndim != 4:
        raise InvalidArgumentError(f"{op}: {name} must be 4-dimensional, found shape {list(value.shape)}")


def _sizes(op: str, name: str, sizes: np.ndarray) -> tuple[int, ...]:
    values = [int(v) for v in np.asarray(sizes).reshape(-1)]
    if len(values) != 4 or min(values) < 0:
        raise InvalidArgumentError(f"{op}: {name} must be 4 non-negative sizes, found {values}")
    return tuple(values)


def _geometry(op: str, x_shape: tuple[int, ...], f_shape: tuple[int, ...], strides, padding,
              dilations, explicit_paddings, data_format) -> tuple[Axis, Axis]:
    depth = x_shape[1 if data_format_str(data_format) == "NCHW" else 3]   # TF checks it first
    if depth != f_shape[2]:
        raise InvalidArgumentError(f"{op}: input and filter must have the same depth: "
                                   f"{depth} vs {f_shape[2]}")
    check_nhwc(op, data_format, UnimplementedError)
    strides = [int(v) for v in strides]
    if len(strides) == 4 and strides[1] != strides[2]:
        raise InvalidArgumentError(f"{op}: only equal strides in the row and column dimensions "
                                   f"are supported (as by TF); strides = {strides}")
    if any(int(d) != 1 for d in dilations):
        raise UnimplementedError(f"{op}: dilations are not supported by TF's CPU depthwise "
                                 f"kernels; dilations = {list(dilations)}")
    return window_geometry(op, (x_shape[1], x_shape[2]), (f_shape[0], f_shape[1]), strides,
                           padding, dilations, explicit_paddings)


def _check_out_backprop(op: str, dy: np.ndarray, expected: tuple[int, ...]) -> None:
    if dy.shape != expected:
        raise InvalidArgumentError(f"{op}: out_backprop shape {list(dy.shape)} does not match the "
                                   f"computed output shape {list(expected)}")


def _offsets(rows: Axis, cols: Axis):
    for i in range(rows.kernel):
        for j in range(cols.kernel):
            yield i, j


@kernel("DepthwiseConv2dNative")
def depthwise_conv2d_native(input: np.ndarray, filter: np.ndarray, *, strides: Sequence[int],
                            padding: bytes, explicit_paddings: Sequence[int] = (),
                            data_format: bytes = b"NHWC", dilations: Sequence[int] = (1, 1, 1, 1)
                            ) -> np.ndarray:
    op = "DepthwiseConv2dNative"
    _rank4(op, "input", input)
    _rank4(op, "filter", filter)
    rows, cols = _geometry(op, input.shape, filter.shape, strides, padding, dilations,
                           explicit_paddings, data_format)
    kh, kw, depth, mult = filter.shape
    out = np.zeros((input.shape[0], rows.out, cols.out, depth * mult), input.dtype)
    if out.size == 0:
        return out
    # Repeating each input channel `mult` times lines it up with its output channels.
    source = pad_input(np.repeat(input, mult, axis=3) if mult > 1 else input, rows, cols)
    taps = filter.reshape(kh, kw, depth * mult)
    product = np.empty_like(out)
    for i, j in _offsets(rows, cols):
        np.multiply(source[window_slice(rows, cols, i, j)], taps[i, j], out=product)
        out += product
    return out


@kernel("DepthwiseConv2dNativeBackpropInput")
def depthwise_conv2d_native_backprop_input(
        input_sizes: np.ndarray, filter: np.ndarray, out_backprop: np.ndarray, *,
        strides: Sequence[int], padding: bytes, explicit_paddings: Sequence[int] = (),
        data_format: bytes = b"NHWC", dilations: Sequence[int] = (1, 1, 1, 1)) -> np.ndarray:
    op = "DepthwiseConv2dNativeBackpropInput"
    _rank4(op, "filter", filter)
    x_shape = _sizes(op, "input_sizes", input_sizes)
    rows, cols = _geometry(op, x_shape, filter.shape, strides, padding, dilations,
                           explicit_paddings, data_format)
    kh, kw, depth, mult = filter.shape
    n, h, w, _ = x_shape
    _check_out_backprop(op, out_backprop, (n, rows.out, cols.out, depth * mult))
    # Accumulate per output channel (c * mult + m), then fold the multiplier axis once.
    padded = np.zeros((n, h + rows.pad_before + rows.pad_after, w + cols.pad_before + cols.pad_after,
                       depth * mult), out_backprop.dtype)
    if out_backprop.size:
        taps = filter.reshape(kh, kw, depth * mult)
        product = np.empty_like(out_backprop)
        for i, j in _offsets(rows, cols):
            np.multiply(out_backprop, taps[i, j], out=product)
            padded[window_slice(rows, cols, i, j)] += product
    dx = padded[:, rows.pad_before:rows.pad_before + h, cols.pad_before:cols.pad_before + w, :]
    return dx if mult == 1 else dx.reshape(n, h, w, depth, mult).sum(axis=4)


@kernel("DepthwiseConv2dNativeBackpropFilter")
def depthwise_conv2d_native_backprop_filter(
        input: np.ndarray, filter_sizes: np.ndarray, out_backprop: np.ndarray, *,
        strides: Sequence[int], padding: bytes, explicit_paddings: Sequence[int] = (),
        data_format: bytes = b"NHWC", dilations: Sequence[int] = (1, 1, 1, 1)) -> np.ndarray:
    op = "DepthwiseConv2dNativeBackpropFilter"
    _rank4(op, "input", input)
    f_shape = _sizes(op, "filter_sizes", filter_sizes)
    rows, cols = _geometry(op, input.shape, f_shape, strides, padding, dilations,
                           explicit_paddings, data_format)
    kh, kw, depth, mult = f_shape
    _check_out_backprop(op, out_backprop, (input.shape[0], rows.out, cols.out, depth * mult))
    grad = np.zeros(f_shape, out_backprop.dtype)
    if out_backprop.size == 0:
        return grad
    source = pad_input(np.repeat(input, mult, axis=3) if mult > 1 else input, rows, cols)
    dy = out_backprop.reshape(-1, depth * mult)
    for i, j in _offsets(rows, cols):
        taps = source[window_slice(rows, cols, i, j)].reshape(-1, depth * mult)
        grad[i, j] = np.einsum("pc,pc->c", taps, dy).reshape(depth, mult)
    return grad
