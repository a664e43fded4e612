"""Max and average pooling (NHWC) and their gradients, as TF's CPU kernels compute them.

Each kernel loops over the window offsets (KH*KW numpy operations on output-sized arrays),
never over elements. Max pooling ignores NaN (TF's ``max < value`` comparison never picks
one) and its gradient goes to the element TF's argmax scan picks: the first maximum of the
window in row-major order (a leading NaN sticks); windows that overlap accumulate. Average pooling with
SAME padding divides by the number of real (unpadded) elements in each window.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.ops.conv_ops import (Axis, check_nhwc, int_tuple, pad_input, window_geometry,
                                        window_slice)
from orchestrator.ops import pool_loops
from orchestrator.ops.pool_tiles import is_tiled, route_to_first_max, scatter_picks, spread
from orchestrator.ops.nn_ops import accumulator, finfo, is_float
from orchestrator.ops.registry import kernel


# Up to this many input elements the reshape forms of pool_tiles.py win (less Python);
# beyond, numpy's reductions over tiny window axes lose to one vectorised op per offset.
# MaxPool's compiled loop (pool_loops.py) has the same limit; MaxPoolGrad's stays ahead of
# the numpy forms longer (measured: 425 vs 621 us on 8x32x32x8, on par at 32x32x32x32).
SMALL = 8192
LOOP_GRAD_MAX = 1 << 18


def _check_input(op: str, x: np.ndarray) -> None:
    if x.ndim != 4:
        raise InvalidArgumentError(f"{op}: input must be 4-dimensional (NHWC), found shape "
                                   f"{list(x.shape)}")


def _window_ints(op: str, name: str, values: tuple[int, ...]) -> tuple[int, ...]:
    if len(values) != 4 or min(values) < 1:
        raise InvalidArgumentError(f"{op}: {name} must be 4 values >= 1, found {list(values)}")
    return values


def _geometry(op: str, x_shape: tuple[int, ...], ksize, strides, padding, data_format,
              explicit_paddings: Sequence[int] = ()) -> tuple[Axis, Axis]:
    return _cached_geometry(op, x_shape[1], x_shape[2], _key(ksize), _key(strides), padding,
                            data_format, _key(explicit_paddings))


def _key(values) -> tuple:
    """Hashable cache key of a list attr (validated inside the cache) or a 1-D tensor input."""
    return tuple(values) if isinstance(values, (list, tuple)) else int_tuple(values)


@functools.lru_cache(maxsize=1024)
def _cached_geometry(op: str, height: int, width: int, ksize: tuple[int, ...], strides: tuple[int, ...],
                     padding, data_format, explicit_paddings: tuple[int, ...]) -> tuple[Axis, Axis]:
    check_nhwc(op, data_format)
    ksize = _window_ints(op, "ksize", int_tuple(ksize))
    strides = _window_ints(op, "strides", int_tuple(strides))
    if ksize[0] != 1 or strides[0] != 1:
        raise UnimplementedError(f"{op}: pooling over the batch dimension is not supported "
                                 f"(nor by TF); ksize = {list(ksize)}, strides = {list(strides)}")
    if ksize[3] != 1 or strides[3] != 1:
        raise UnimplementedError(
            f"{op}: pooling across depth is only supported by MaxPool/MaxPoolV2 alone (as in TF); "
            f"ksize = {list(ksize)}, strides = {list(strides)}")
    return window_geometry(op, (height, width), (ksize[1], ksize[2]), strides, padding,
                           explicit_paddings=explicit_paddings)


def _out_shape(x_shape: tuple[int, ...], rows: Axis, cols: Axis) -> tuple[int, ...]:
    return (x_shape[0], rows.out, cols.out, x_shape[3])


def _offsets(rows: Axis, cols: Axis):
    for i in range(rows.kernel):
        for j in range(cols.kernel):
            yield i * cols.kernel + j, i, j


@functools.lru_cache(maxsize=256)
def _window_slices(rows: Axis, cols: Axis) -> tuple[tuple[slice, ...], ...]:
    """window_slice of every kernel offset, in row-major offset order."""
    return tuple(window_slice(rows, cols, i, j) for _, i, j in _offsets(rows, cols))


def _valid_counts(axis: Axis) -> np.ndarray:
    """How many real input positions each output window covers along one axis."""
    start = np.arange(axis.out) * axis.stride - axis.pad_before
    return np.minimum(start + axis.kernel, axis.size) - np.maximum(start, 0)


@functools.lru_cache(maxsize=256)
def _window_counts(rows: Axis, cols: Axis, dtype: np.dtype) -> np.ndarray:
    """[1, OH, OW, 1] real-element count of every window (read-only: it is shared)."""
    counts = (_valid_counts(rows)[:, None] * _valid_counts(cols)[None, :]).astype(dtype)
    counts = counts[None, :, :, None]
    counts.flags.writeable = False
    return counts


def _valid_mask(rows: Axis, cols: Axis, i: int, j: int) -> np.ndarray | None:
    """[1, OH, OW, 1] mask of outputs whose offset (i, j) reads a real element; None = all."""
    if not (rows.pad_before or rows.pad_after or cols.pad_before or cols.pad_after):
        return None
    r = np.arange(rows.out) * rows.stride + i - rows.pad_before
    c = np.arange(cols.out) * cols.stride + j - cols.pad_before
    ok = ((r >= 0) & (r < rows.size))[:, None] & ((c >= 0) & (c < cols.size))[None, :]
    return ok[None, :, :, None]


def _lowest(dtype: np.dtype):
    return -np.inf if is_float(dtype) else np.iinfo(dtype).min


def _max_pool(op: str, x: np.ndarray, rows: Axis, cols: Axis) -> np.ndarray:
    out_shape = _out_shape(x.shape, rows, cols)
    if 0 in out_shape:
        return np.empty(out_shape, x.dtype)
    if x.size <= SMALL and pool_loops.applies(x):       # beyond, numpy's passes vectorise better
        out = np.empty(out_shape, x.dtype)
        if pool_loops.max_pool(x, *pool_loops.geometry(rows, cols), pool_loops.LOWEST_FINITE[x.dtype], out):
            return out
    floating = is_float(x.dtype)
    padded = pad_input(x, rows, cols, _lowest(x.dtype))
    combine = np.fmax if floating else np.maximum
    windows = [padded[index] for index in _window_slices(rows, cols)]
    out = combine(windows[0], windows[1]) if len(windows) > 1 else windows[0].copy()
    for window in windows[2:]:
        combine(out, window, out=out)
    if floating:
        # TF's reduction starts from the lowest finite value: an all -inf (or all NaN)
        # window gives -FLT_MAX, not -inf.
        np.fmax(out, finfo(x.dtype).min, out=out)
    return out


def _argmax_offsets(x: np.ndarray, rows: Axis, cols: Axis) -> np.ndarray:
    """For every output, the offset index (i*KW + j) of the element TF's argmax picks."""
    if _first_max_is_tf_pick(x, rows, cols):
        return _first_max_offsets(x, rows, cols)
    return _tf_scan_offsets(x, rows, cols)


def _first_max_is_tf_pick(x: np.ndarray, rows: Axis, cols: Axis) -> bool:
    """Whether the first maximum of each window is what TF's scan picks: no NaN (which
    sticks when first), and no value that can tie with the padding."""
    has_padding = bool(rows.pad_before or rows.pad_after or cols.pad_before or cols.pad_after)
    if x.dtype.kind == "f" and x.dtype.itemsize >= 4:
        # A finite sum proves every element finite in one reduction (else check them all).
        simple = math.isfinite(x.sum()) or bool(np.isfinite(x).all())
    elif is_float(x.dtype):
        simple = bool(np.isfinite(x).all())
    else:
        simple = not has_padding or x.size == 0 or x.min() > _lowest(x.dtype)
    return simple


def _first_max_offsets(x: np.ndarray, rows: Axis, cols: Axis) -> np.ndarray:
    """Offset of the first maximum per window, branch-free (masked numpy writes with random
    masks are ~30x slower than arithmetic). Exact when no value can tie with the padding and
    no NaN is present: then TF's scan picks the first maximum too."""
    padded = pad_input(x, rows, cols, _lowest(x.dtype))
    best = None
    for _, i, j in _offsets(rows, cols):
        window = padded[window_slice(rows, cols, i, j)]
        best = window.copy() if best is None else np.maximum(best, window, out=best)
    count = rows.kernel * cols.kernel
    chosen = np.full(best.shape, count, np.int32)
    candidate = np.empty(best.shape, np.int32)
    for k, i, j in _offsets(rows, cols):
        # k where this offset holds the maximum, k + count elsewhere; keep the smallest.
        np.multiply(padded[window_slice(rows, cols, i, j)] != best, count, out=candidate)
        candidate += k
        np.minimum(chosen, candidate, out=chosen)
    return chosen


def _tf_scan_offsets(x: np.ndarray, rows: Axis, cols: Axis) -> np.ndarray:
    """TF's scan order literally: the first real element of a window is taken, a later one
    replaces it only when strictly greater (so a leading NaN sticks, later NaNs never win)."""
    padded = pad_input(x, rows, cols, _lowest(x.dtype))
    out_shape = _out_shape(x.shape, rows, cols)
    best = np.full(out_shape, _lowest(x.dtype), x.dtype)
    chosen = np.full(out_shape, -1, np.int32)
    for k, i, j in _offsets(rows, cols):
        window = padded[window_slice(rows, cols, i, j)]
        better = (window > best) | (chosen < 0)
        mask = _valid_mask(rows, cols, i, j)
        if mask is not None:
            better &= mask
        np.copyto(best, window, where=better)
        np.copyto(chosen, k, where=better)
    return chosen


def _check_grad(op: str, grad: np.ndarray, expected: tuple[int, ...], what: str) -> None:
    if grad.shape != expected:
        raise InvalidArgumentError(f"{op}: grad shape {list(grad.shape)} must be the {what} shape "
                                   f"{list(expected)}")


def _max_pool_grad(op: str, x: np.ndarray, grad: np.ndarray, rows: Axis, cols: Axis) -> np.ndarray:
    _check_grad(op, grad, _out_shape(x.shape, rows, cols), "pooled output")
    if x.size <= LOOP_GRAD_MAX and pool_loops.applies(x, grad):
        out = np.zeros(x.shape, grad.dtype)
        # The small non-overlapping forms below write gradients; the general one adds them.
        assign = is_tiled(rows, cols) and x.size <= SMALL
        pool_loops.max_pool_grad(x, grad, *pool_loops.geometry(rows, cols), assign, out)
        return out
    if is_tiled(rows, cols) and 0 < x.size <= SMALL:
        if _first_max_is_tf_pick(x, rows, cols):
            return route_to_first_max(x, grad, _lowest(x.dtype), rows, cols)
        return scatter_picks(_tf_scan_offsets(x, rows, cols), grad, x.shape, rows, cols)
    n, h, w, c = x.shape
    padded = np.zeros((n, h + rows.pad_before + rows.pad_after, w + cols.pad_before + cols.pad_after, c),
                      grad.dtype)
    if grad.size:
        chosen = _argmax_offsets(x, rows, cols)
        zero = grad.dtype.type(0)
        # grad * (chosen == k) is branch-free but would spread a NaN/inf grad as NaN.
        finite = bool(np.isfinite(grad).all()) if is_float(grad.dtype) else True
        for k, i, j in _offsets(rows, cols):
            hit = chosen == k
            padded[window_slice(rows, cols, i, j)] += grad * hit if finite else np.where(hit, grad, zero)
    return padded[:, rows.pad_before:rows.pad_before + h, cols.pad_before:cols.pad_before + w, :]


def _max_pool_grad_grad(op: str, x: np.ndarray, pooled: np.ndarray, grad: np.ndarray,
                        rows: Axis, cols: Axis) -> np.ndarray:
    """grad at the first window element (row-major) equal to the given pooled value; 0 when
    none is (TF matches against orig_output here instead of rescanning as MaxPoolGrad does)."""
    _check_grad(op, grad, x.shape, "input")
    result = np.zeros(pooled.shape, grad.dtype)
    if result.size == 0:
        return result
    count = rows.kernel * cols.kernel
    chosen = np.full(pooled.shape, count, np.int32)
    candidate = np.empty(pooled.shape, np.int32)
    padded = pad_input(x, rows, cols, np.nan if is_float(x.dtype) else 0)
    for k, i, j in _offsets(rows, cols):
        np.multiply(padded[window_slice(rows, cols, i, j)] != pooled, count, out=candidate)
        candidate += k
        mask = _valid_mask(rows, cols, i, j)
        if mask is not None and not is_float(x.dtype):      # NaN padding never matches anyway
            candidate[~np.broadcast_to(mask, candidate.shape)] = count
        np.minimum(chosen, candidate, out=chosen)
    padded_grad = pad_input(grad, rows, cols)
    for k, i, j in _offsets(rows, cols):
        np.copyto(result, padded_grad[window_slice(rows, cols, i, j)], where=chosen == k)
    return result


# --------------------------------------------------------------------------- kernels

def _depth_pool(op: str, x: np.ndarray, ksize, strides, data_format) -> np.ndarray | None:
    """TF's depth-only max pooling (window and stride over channels only), or None when the
    window is spatial. The window must equal the stride and divide the depth, as in TF."""
    if isinstance(ksize, list) and isinstance(strides, list) and len(ksize) == len(strides) == 4 \
            and ksize[3] == 1 and strides[3] == 1:
        return None                       # the usual spatial window, decided without conversions
    ksize, strides = int_tuple(ksize), int_tuple(strides)
    if len(ksize) != 4 or len(strides) != 4 or (ksize[3] == 1 and strides[3] == 1):
        return None
    check_nhwc(op, data_format)
    if ksize[:3] != (1, 1, 1) or strides[:3] != (1, 1, 1):
        raise UnimplementedError(f"{op}: pooling supports exactly one of pooling across depth or "
                                 f"across width/height; ksize = {list(ksize)}, strides = {list(strides)}")
    window = ksize[3]
    if window != strides[3]:
        raise UnimplementedError(f"{op}: depthwise max pooling requires the depth window ({window}) "
                                 f"to equal the depth stride ({strides[3]})")
    if x.shape[3] % window:
        raise UnimplementedError(f"{op}: depthwise max pooling requires the depth window ({window}) "
                                 f"to evenly divide the input depth ({x.shape[3]})")
    groups = x.reshape(x.shape[:3] + (x.shape[3] // window, window))
    return (np.fmax if is_float(x.dtype) else np.maximum).reduce(groups, axis=-1)


@kernel("MaxPool")
def max_pool(input: np.ndarray, *, ksize: Sequence[int], strides: Sequence[int], padding: bytes,
             explicit_paddings: Sequence[int] = (), data_format: bytes = b"NHWC") -> np.ndarray:
    _check_input("MaxPool", input)
    pooled = _depth_pool("MaxPool", input, ksize, strides, data_format)
    if pooled is not None:
        return pooled
    rows, cols = _geometry("MaxPool", input.shape, ksize, strides, padding, data_format,
                           explicit_paddings)
    return _max_pool("MaxPool", input, rows, cols)


@kernel("MaxPoolV2")
def max_pool_v2(input: np.ndarray, ksize: np.ndarray, strides: np.ndarray, *, padding: bytes,
                data_format: bytes = b"NHWC") -> np.ndarray:
    _check_input("MaxPoolV2", input)
    pooled = _depth_pool("MaxPoolV2", input, ksize, strides, data_format)
    if pooled is not None:
        return pooled
    rows, cols = _geometry("MaxPoolV2", input.shape, ksize, strides, padding, data_format)
    return _max_pool("MaxPoolV2", input, rows, cols)


def _check_orig(op: str, orig_input: np.ndarray, orig_output: np.ndarray,
                rows: Axis, cols: Axis) -> None:
    if orig_output.shape != _out_shape(orig_input.shape, rows, cols):
        raise InvalidArgumentError(f"{op}: orig_output shape {list(orig_output.shape)} does not "
                                   f"match the pooled shape {list(_out_shape(orig_input.shape, rows, cols))}")


@kernel("MaxPoolGrad")
def max_pool_grad(orig_input: np.ndarray, orig_output: np.ndarray, grad: np.ndarray, *,
                  ksize: Sequence[int], strides: Sequence[int], padding: bytes,
                  explicit_paddings: Sequence[int] = (), data_format: bytes = b"NHWC") -> np.ndarray:
    op = "MaxPoolGrad"
    _check_input(op, orig_input)
    rows, cols = _geometry(op, orig_input.shape, ksize, strides, padding, data_format, explicit_paddings)
    _check_orig(op, orig_input, orig_output, rows, cols)
    return _max_pool_grad(op, orig_input, grad, rows, cols)


@kernel("MaxPoolGradV2")
def max_pool_grad_v2(orig_input: np.ndarray, orig_output: np.ndarray, grad: np.ndarray,
                     ksize: np.ndarray, strides: np.ndarray, *, padding: bytes,
                     data_format: bytes = b"NHWC") -> np.ndarray:
    op = "MaxPoolGradV2"
    _check_input(op, orig_input)
    rows, cols = _geometry(op, orig_input.shape, ksize, strides, padding, data_format)
    _check_orig(op, orig_input, orig_output, rows, cols)
    return _max_pool_grad(op, orig_input, grad, rows, cols)


@kernel("MaxPoolGradGrad")
def max_pool_grad_grad(orig_input: np.ndarray, orig_output: np.ndarray, grad: np.ndarray, *,
                       ksize: Sequence[int], strides: Sequence[int], padding: bytes,
                       data_format: bytes = b"NHWC") -> np.ndarray:
    op = "MaxPoolGradGrad"
    _check_input(op, orig_input)
    rows, cols = _geometry(op, orig_input.shape, ksize, strides, padding, data_format)
    _check_orig(op, orig_input, orig_output, rows, cols)
    return _max_pool_grad_grad(op, orig_input, orig_output, grad, rows, cols)


@kernel("AvgPool")
def avg_pool(value: np.ndarray, *, ksize: Sequence[int], strides: Sequence[int], padding: bytes,
             data_format: bytes = b"NHWC") -> np.ndarray:
    op = "AvgPool"
    _check_input(op, value)
    rows, cols = _geometry(op, value.shape, ksize, strides, padding, data_format)
    out_shape = _out_shape(value.shape, rows, cols)
    if 0 not in out_shape and pool_loops.applies(value):
        out = np.empty(out_shape, value.dtype)
        pool_loops.avg_pool(value, *pool_loops.geometry(rows, cols), _window_counts(rows, cols, value.dtype), out)
        return out
    acc = accumulator(value.dtype)
    total = np.zeros(out_shape, acc)
    if total.size:
        padded = pad_input(value, rows, cols)
        for index in _window_slices(rows, cols):
            total += padded[index]
    return np.divide(total, _window_counts(rows, cols, acc), out=total).astype(value.dtype, copy=False)


@kernel("AvgPoolGrad")
def avg_pool_grad(orig_input_shape: np.ndarray, grad: np.ndarray, *, ksize: Sequence[int],
                  strides: Sequence[int], padding: bytes, data_format: bytes = b"NHWC") -> np.ndarray:
    op = "AvgPoolGrad"
    shape = tuple(int(v) for v in np.asarray(orig_input_shape).reshape(-1).tolist())
    if len(shape) != 4 or min(shape) < 0:
        raise InvalidArgumentError(f"{op}: orig_input_shape must be 4 non-negative sizes, found "
                                   f"{list(shape)}")
    rows, cols = _geometry(op, shape, ksize, strides, padding, data_format)
    _check_grad(op, grad, _out_shape(shape, rows, cols), "pooled output")
    n, h, w, c = shape
    if n * h * w * c and pool_loops.applies(grad):
        out = np.zeros(shape, grad.dtype)
        pool_loops.avg_pool_grad(grad, *pool_loops.geometry(rows, cols), _window_counts(rows, cols, grad.dtype),
                                 is_tiled(rows, cols), out)
        return out
    acc = accumulator(grad.dtype)
    share = grad.astype(acc, copy=False) / _window_counts(rows, cols, acc)
    if is_tiled(rows, cols) and share.size:
        return spread(share, shape, rows, cols).astype(grad.dtype, copy=False)
    padded = np.zeros((n, h + rows.pad_before + rows.pad_after, w + cols.pad_before + cols.pad_after, c),
                      acc)
    if share.size:
        for index in _window_slices(rows, cols):
            padded[index] += share
    return padded[:, rows.pad_before:rows.pad_before + h,
                  cols.pad_before:cols.pad_before + w, :].astype(grad.dtype, copy=False)
