"""2-D convolutions (NHWC, as TF's CPU kernels): Conv2D and its two backprops as
im2col + one BLAS matmul (the input gradient of a stride-1 convolution as the forward
convolution of the padded output gradient with the flipped filter, which avoids col2im).
The im2col/col2im index work is precomputed per geometry in conv_gather.py.

``window_geometry`` computes TF's output sizes and paddings (SAME / VALID / EXPLICIT,
strides, dilations) and ``pad_input``/``window_slice`` pad and slice windows;
depthwise_ops.py and pool_ops.py share them.
TF's CPU kernels reject some configurations (NCHW, dilated backprops, grouped backprops,
dilated depthwise); so do these, with TF's error class, so that a graph that would not
run in TF does not silently run here.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.ops.nn_ops import data_format_str
from orchestrator.ops.registry import kernel


class Axis(NamedTuple):
    """One spatial axis of a windowed op: output size and padding before/after. (A named
    tuple: it keys the per-geometry caches, and tuples hash in C, dataclasses in Python.)"""
    size: int
    kernel: int
    stride: int
    dilation: int
    out: int
    pad_before: int
    pad_after: int


def _axis(op: str, size: int, k: int, stride: int, dilation: int, padding: str,
          explicit: tuple[int, int]) -> Axis:
    effective = (k - 1) * dilation + 1
    if padding == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + effective - size, 0)
        before, after = total // 2, total - total // 2
    else:
        before, after = explicit if padding == "EXPLICIT" else (0, 0)
        numerator = size + before + after - effective + stride
        out = int(numerator / stride)   # C++ integer division truncates toward zero, as TF's
        if out < 0:
            raise InvalidArgumentError(
                f"{op}: computed output size would be negative: {out} [input_size: {size}, "
                f"effective_filter_size: {effective}, stride: {stride}]")
    return Axis(size, k, stride, dilation, out, before, after)


def _four(op: str, name: str, values: tuple[int, ...]) -> tuple[int, ...]:
    if len(values) != 4:
        raise InvalidArgumentError(f"{op}: {name} must have 4 elements, found {list(values)}")
    return values


def int_tuple(values: Sequence[int] | np.ndarray) -> tuple[int, ...]:
    """Hashable form of a list attr or a 1-D int tensor (MaxPoolV2's ksize input)."""
    if isinstance(values, np.ndarray):
        return tuple(values.reshape(-1).tolist())
    return tuple(map(int, values))


def window_geometry(op: str, spatial: tuple[int, int], window: tuple[int, int],
                    strides: Sequence[int], padding: bytes | str, dilations: Sequence[int] = (1, 1, 1, 1),
                    explicit_paddings: Sequence[int] = ()) -> tuple[Axis, Axis]:
    """The (rows, cols) geometry of an NHWC window op; TF's checks and messages. Cached:
    a training step asks for the same few geometries every time."""
    return _window_geometry(op, tuple(spatial), tuple(window), int_tuple(strides), padding,
                            int_tuple(dilations), int_tuple(explicit_paddings))


@functools.lru_cache(maxsize=1024)
def _window_geometry(op: str, spatial: tuple[int, int], window: tuple[int, int],
                     strides: tuple[int, ...], padding: bytes | str, dilations: tuple[int, ...],
                     explicit_paddings: tuple[int, ...]) -> tuple[Axis, Axis]:
    strides = _four(op, "strides", strides)
    dilations = _four(op, "dilations", dilations)
    if strides[0] != 1 or strides[3] != 1:
        raise UnimplementedError(f"{op}: strides in the batch and depth dimensions are not "
                                 f"supported (TF's CPU kernels neither); strides = {list(strides)}")
    if dilations[0] != 1 or dilations[3] != 1:
        raise UnimplementedError(f"{op}: dilations in the batch and depth dimensions are not "
                                 f"supported (TF's CPU kernels neither); dilations = {list(dilations)}")
    if min(strides) < 1 or min(dilations) < 1:
        raise InvalidArgumentError(f"{op}: strides and dilations must be >= 1, found "
                                   f"{list(strides)} and {list(dilations)}")
    pad = data_format_str(padding)
    if pad not in ("SAME", "VALID", "EXPLICIT"):
        raise InvalidArgumentError(f"{op}: padding must be SAME, VALID or EXPLICIT, found {pad!r}")
    pairs = [(0, 0), (0, 0)]
    if pad == "EXPLICIT":
        flat = explicit_paddings
        if len(flat) != 8 or min(flat) < 0 or any(flat[i] for i in (0, 1, 6, 7)):
            raise InvalidArgumentError(
                f"{op}: explicit_paddings must be 8 non-negative values padding only H and W "
                f"(NHWC), found {list(flat)}")
        pairs = [(flat[2], flat[3]), (flat[4], flat[5])]
    return tuple(_axis(op, spatial[i], window[i], strides[i + 1], dilations[i + 1], pad, pairs[i])
                 for i in range(2))


def pad_input(x: np.ndarray, rows: Axis, cols: Axis, value: float = 0) -> np.ndarray:
    """x (NHWC) with the geometry's padding; x itself when there is none. (A fill and one
    slice copy: np.pad costs ~50 us of Python per call on small tensors.)"""
    if not (rows.pad_before or rows.pad_after or cols.pad_before or cols.pad_after):
        return x
    n, h, w, c = x.shape
    padded = np.full((n, h + rows.pad_before + rows.pad_after, w + cols.pad_before + cols.pad_after, c),
                     value, x.dtype)
    padded[:, rows.pad_before:rows.pad_before + h, cols.pad_before:cols.pad_before + w, :] = x
    return padded


def window_slice(rows: Axis, cols: Axis, i: int, j: int) -> tuple[slice, slice, slice, slice]:
    """Index of the padded-input elements that kernel offset (i, j) reads, one per output."""
    r0, c0 = i * rows.dilation, j * cols.dilation
    return (slice(None), slice(r0, r0 + rows.stride * (rows.out - 1) + 1, rows.stride),
            slice(c0, c0 + cols.stride * (cols.out - 1) + 1, cols.stride), slice(None))


def col2im(columns: np.ndarray, input_shape: tuple[int, ...], rows: Axis, cols: Axis) -> np.ndarray:
    """Sum columns [N, OH, OW, KH, KW, C] back onto the (unpadded) NHWC input they came from."""
    n, h, w, c = input_shape
    padded = np.zeros((n, h + rows.pad_before + rows.pad_after, w + cols.pad_before + cols.pad_after, c),
                      dtype=columns.dtype)
    if rows.out and cols.out:
        for i in range(rows.kernel):          # a loop over kernel offsets, not elements
            for j in range(cols.kernel):
                padded[window_slice(rows, cols, i, j)] += columns[:, :, :, i, j, :]
    return padded[:, rows.pad_before:rows.pad_before + h, cols.pad_before:cols.pad_before + w, :]


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul, with float16/bfloat16 operands multiplied in float32 and rounded once: numpy
    has no BLAS for them (its half loop, which gives the same values here, is >10x slower;
    bfloat16 has none and would come back as float32)."""
    if a.dtype not in _BLAS_TYPES:   # float16, bfloat16
        return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return np.matmul(a, b)


_BLAS_TYPES = {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex64), np.dtype(np.complex128)}


def check_nhwc(op: str, data_format: bytes | str, error: type = InvalidArgumentError) -> None:
    fmt = data_format_str(data_format)
    if fmt != "NHWC":
        raise error(f"{op}: only the NHWC data format is supported on CPU (as in TF), found {fmt!r}")


def _check_rank4(op: str, name: str, shape: tuple[int, ...]) -> None:
    if len(shape) != 4:
        raise InvalidArgumentError(f"{op}: {name} must be 4-dimensional, found shape {list(shape)}")


def _sizes(op: str, name: str, sizes: np.ndarray, fill: tuple[int, int] | None = None) -> tuple[int, ...]:
    """A 4-element shape input (``input_sizes``/``filter_sizes``); 2 elements = spatial only."""
    values = [int(v) for v in np.asarray(sizes).reshape(-1).tolist()]
    if len(values) == 2 and fill is not None:
        values = [fill[0], values[0], values[1], fill[1]]
    if len(values) != 4 or min(values) < 0:
        raise InvalidArgumentError(f"{op}: {name} must be 4 non-negative sizes, found {values}")
    return tuple(values)


def _check_out_backprop(op: str, dy_shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    if dy_shape != expected:
        raise InvalidArgumentError(f"{op}: out_backprop shape {list(dy_shape)} does not match the "
                                   f"computed output shape {list(expected)}")


def _no_dilation(op: str, dilations: Sequence[int]) -> None:
    if any(int(d) != 1 for d in dilations):
        raise InvalidArgumentError(f"{op}: dilation rates larger than 1 are not supported by "
                                   f"TF's CPU kernels; dilations = {list(dilations)}")


# ---------------------------------------------------------------------------- Conv2D
# Every check below depends on shapes and attrs only, so each kernel validates once per
# geometry (cached plans) and then only gathers and multiplies.

def _conv_geometry(op, x_shape, f_shape, strides, padding, dilations, explicit_paddings):
    return window_geometry(op, (x_shape[1], x_shape[2]), (f_shape[0], f_shape[1]), strides,
                           padding, dilations, explicit_paddings)


@functools.lru_cache(maxsize=512)
def _forward_plan(x_shape: tuple[int, ...], f_shape: tuple[int, ...], strides: tuple[int, ...],
                  padding: bytes | str, explicit_paddings: tuple[int, ...], data_format: bytes | str,
                  dilations: tuple[int, ...]) -> tuple[Axis, Axis, int]:
    """(rows, cols, groups) of a Conv2D, after TF's checks in TF's order."""
    op = "Conv2D"
    _check_rank4(op, "input", x_shape)
    _check_rank4(op, "filter", f_shape)
    _, _, in_per_group, out_depth = f_shape
    # TF reads the depth where data_format says, checks it, and only then rejects NCHW.
    depth = x_shape[1 if data_format_str(data_format) == "NCHW" else 3]
    if in_per_group == 0 or depth % in_per_group or out_depth % (depth // in_per_group or 1):
        raise InvalidArgumentError(
            f"{op}: input depth {depth} must be a multiple of the filter's input depth "
            f"{in_per_group}, and the output depth {out_depth} a multiple of the group count")
    check_nhwc(op, data_format, UnimplementedError)
    rows, cols = _conv_geometry(op, x_shape, f_shape, strides, padding, dilations, explicit_paddings)
    return rows, cols, depth // in_per_group


@kernel("Conv2D")
def conv2d(input: np.ndarray, filter: np.ndarray, *, strides: Sequence[int], padding: bytes,
           explicit_paddings: Sequence[int] = (), data_format: bytes = b"NHWC",
           dilations: Sequence[int] = (1, 1, 1, 1)) -> np.ndarray:
    rows, cols, groups = _forward_plan(input.shape, filter.shape, tuple(strides), padding,
                                       tuple(explicit_paddings), data_format, tuple(dilations))
    kh, kw, in_per_group, out_depth = filter.shape
    n, depth = input.shape[0], input.shape[3]
    if input.size == 0 or filter.size == 0:
        return np.zeros((n, rows.out, cols.out, out_depth), input.dtype)
    if rows.kernel == cols.kernel == 1 and rows.stride == cols.stride == 1 and groups == 1 \
            and not (rows.pad_before or rows.pad_after or cols.pad_before or cols.pad_after):
        return matmul(input.reshape(-1, depth), filter.reshape(depth, out_depth)).reshape(
            n, rows.out, cols.out, out_depth)
    columns = gather_columns(input, *im2col_index(rows, cols), kh * kw)   # [M, KH*KW*C]
    if groups == 1:
        out = matmul(columns, filter.reshape(-1, out_depth))
    else:   # one matmul per group, batched: [G, M, KH*KW*Cg] @ [G, KH*KW*Cg, O/G]
        m = columns.shape[0]
        cols_g = columns.reshape(m, kh * kw, groups, in_per_group).transpose(2, 0, 1, 3)
        w_g = filter.reshape(kh * kw, in_per_group, groups, out_depth // groups).transpose(2, 0, 1, 3)
        out = matmul(cols_g.reshape(groups, m, -1), w_g.reshape(groups, -1, out_depth // groups))
        out = out.transpose(1, 0, 2)
    return out.reshape(n, rows.out, cols.out, out_depth)


@functools.lru_cache(maxsize=512)
def _backprop_plan(op: str, x_shape: tuple[int, ...], f_shape: tuple[int, ...], dy_shape: tuple[int, ...],
                   strides: tuple[int, ...], padding: bytes | str, explicit_paddings: tuple[int, ...],
                   data_format: bytes | str, dilations: tuple[int, ...]) -> tuple[Axis, Axis]:
    """(rows, cols) of a convolution gradient, after TF's checks in TF's order."""
    check_nhwc(op, data_format)
    _no_dilation(op, dilations)
    _check_rank4(op, "out_backprop", dy_shape)
    if x_shape[3] != f_shape[2]:
        raise InvalidArgumentError(
            f"{op}: input depth {x_shape[3]} must equal the filter's input depth {f_shape[2]} "
            f"(gradients of grouped convolutions are not supported on CPU, as in TF)")
    rows, cols = _conv_geometry(op, x_shape, f_shape, strides, padding, dilations, explicit_paddings)
    _check_out_backprop(op, dy_shape, (x_shape[0], rows.out, cols.out, f_shape[3]))
    return rows, cols


@kernel("Conv2DBackpropInput")
def conv2d_backprop_input(input_sizes: np.ndarray, filter: np.ndarray, out_backprop: np.ndarray, *,
                          strides: Sequence[int], padding: bytes, explicit_paddings: Sequence[int] = (),
                          data_format: bytes = b"NHWC", dilations: Sequence[int] = (1, 1, 1, 1)
                          ) -> np.ndarray:
    op = "Conv2DBackpropInput"
    _check_rank4(op, "filter", filter.shape)
    x_shape = _sizes(op, "input_sizes", input_sizes,
                     (out_backprop.shape[0] if out_backprop.ndim else 0, filter.shape[2]))
    rows, cols = _backprop_plan(op, x_shape, filter.shape, out_backprop.shape, tuple(strides), padding,
                                tuple(explicit_paddings), data_format, tuple(dilations))
    kh, kw, depth, out_depth = filter.shape
    if out_backprop.size == 0 or filter.size == 0:
        return np.zeros(x_shape, out_backprop.dtype)
    if rows.stride == cols.stride == 1:
        return _input_grad_stride1(out_backprop, filter, x_shape, rows, cols)
    columns = matmul(out_backprop.reshape(-1, out_depth), filter.reshape(-1, out_depth).T)
    targets = col2im_targets(rows, cols, x_shape[0])
    if targets is not None:
        return col2im_disjoint(columns, targets, x_shape, rows, cols)
    return col2im(columns.reshape(x_shape[0], rows.out, cols.out, kh, kw, depth), x_shape, rows, cols)


def _input_grad_stride1(dy: np.ndarray, filter: np.ndarray, x_shape: tuple[int, ...],
                        rows: Axis, cols: Axis) -> np.ndarray:
    """dx of a stride-1, undilated convolution: padded dx[r] = sum_i dy[r - i] @ w[i].T, i.e.
    a VALID correlation of dy (padded by K-1) with the flipped, in/out-swapped filter. Only
    the rows/cols of padded dx that are real input are computed (one gather per geometry)."""
    kh, kw, depth, out_depth = filter.shape
    flipped = filter[::-1, ::-1].transpose(0, 1, 3, 2).reshape(kh * kw * out_depth, depth)
    dx = matmul(gather_columns(dy, *flipped_index(rows, cols), kh * kw), flipped)
    return dx.reshape(x_shape)


@kernel("Conv2DBackpropFilter")
def conv2d_backprop_filter(input: np.ndarray, filter_sizes: np.ndarray, out_backprop: np.ndarray, *,
                           strides: Sequence[int], padding: bytes, explicit_paddings: Sequence[int] = (),
                           data_format: bytes = b"NHWC", dilations: Sequence[int] = (1, 1, 1, 1)
                           ) -> np.ndarray:
    op = "Conv2DBackpropFilter"
    _check_rank4(op, "input", input.shape)
    f_shape = _sizes(op, "filter_sizes", filter_sizes)
    rows, cols = _backprop_plan(op, input.shape, f_shape, out_backprop.shape, tuple(strides), padding,
                                tuple(explicit_paddings), data_format, tuple(dilations))
    columns = gather_columns(input, *im2col_index(rows, cols), f_shape[0] * f_shape[1])
    grad = matmul(columns.T, out_backprop.reshape(-1, f_shape[3]))
    return grad.reshape(f_shape)


# Imported last: conv_gather takes Axis from this module.
from orchestrator.ops.conv_gather import (col2im_disjoint, col2im_targets, flipped_index,  # noqa: E402
                                          gather_columns, im2col_index)
