"""3-D convolutions (NDHWC, as TF's CPU kernels): Conv3D and its backprops, as im2col + one
BLAS matmul like conv_ops.py. TF's CPU kernels take neither dilations nor NCDHW; neither
do these. The N-D window helpers here (geometry, padding, patches, col2im) also serve
pool3d_ops.py.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.ops.conv_ops import Axis, _axis, int_tuple, matmul
from orchestrator.ops.nn_ops import data_format_str
from orchestrator.ops.registry import kernel

Geometry = tuple[Axis, ...]


@functools.lru_cache(maxsize=512)
def _geometry(op: str, spatial: tuple[int, ...], window: tuple[int, ...], strides: tuple[int, ...],
              padding: bytes | str) -> Geometry:
    rank = len(spatial) + 2
    if len(strides) != rank:
        raise InvalidArgumentError(f"{op}: strides must have {rank} elements, found {list(strides)}")
    if strides[0] != 1 or strides[-1] != 1:
        raise UnimplementedError(f"{op}: strides in the batch and depth dimensions are not "
                                 f"supported (TF's CPU kernels neither); strides = {list(strides)}")
    if min(strides) < 1:
        raise InvalidArgumentError(f"{op}: strides must be >= 1, found {list(strides)}")
    pad = data_format_str(padding)
    if pad not in ("SAME", "VALID"):
        raise InvalidArgumentError(f"{op}: padding must be SAME or VALID, found {pad!r}")
    return tuple(_axis(op, spatial[i], window[i], strides[i + 1], 1, pad, (0, 0))
                 for i in range(len(spatial)))


def geometry(op: str, spatial: Sequence[int], window: Sequence[int], strides, padding) -> Geometry:
    """Per spatial axis output size and padding (SAME/VALID), with TF's checks; cached."""
    return _geometry(op, tuple(spatial), tuple(window), int_tuple(strides), padding)


def padded_shape(x_shape: Sequence[int], axes: Geometry) -> tuple[int, ...]:
    return (x_shape[0], *(a.size + a.pad_before + a.pad_after for a in axes), x_shape[-1])


def crop(padded: np.ndarray, axes: Geometry) -> np.ndarray:
    return padded[(slice(None), *(slice(a.pad_before, a.pad_before + a.size) for a in axes))]


def pad_nd(x: np.ndarray, axes: Geometry, value: float = 0) -> np.ndarray:
    """x with the geometry's padding (x itself when there is none)."""
    if not any(a.pad_before or a.pad_after for a in axes):
        return x
    padded = np.full(padded_shape(x.shape, axes), value, x.dtype)
    padded[(slice(None), *(slice(a.pad_before, a.pad_before + a.size) for a in axes))] = x
    return padded


def patches_nd(padded: np.ndarray, axes: Geometry) -> np.ndarray:
    """Read-only view [N, *out, *window, C] of every window of a padded input."""
    s = padded.strides
    inner = s[1:-1]
    shape = (padded.shape[0], *(a.out for a in axes), *(a.kernel for a in axes), padded.shape[-1])
    strides = (s[0], *(st * a.stride for st, a in zip(inner, axes)), *inner, s[-1])
    return as_strided(padded, shape=shape, strides=strides, writeable=False)


def offset_slice(axes: Geometry, offset: Sequence[int]) -> tuple[slice, ...]:
    """Index of the padded-input elements that window offset ``offset`` reads, one per output."""
    return (slice(None), *(slice(o, o + a.stride * (a.out - 1) + 1, a.stride)
                           for o, a in zip(offset, axes)), slice(None))


def offsets(axes: Geometry):
    """Window offsets in row-major order."""
    return np.ndindex(*(a.kernel for a in axes))


def _check_format(op: str, data_format: bytes | str) -> None:
    fmt = data_format_str(data_format)
    if fmt != "NDHWC":
        raise InvalidArgumentError(f"{op}: only the NDHWC data format is supported on CPU (as in "
                                   f"TF), found {fmt!r}")


def _check_dilations(op: str, dilations: Sequence[int]) -> None:
    if any(int(d) != 1 for d in dilations):
        raise InvalidArgumentError(f"{op}: dilation rates other than 1 are not supported by TF's "
                                   f"CPU kernels; dilations = {list(dilations)}")


def _rank5(op: str, name: str, value: np.ndarray | tuple) -> None:
    shape = value.shape if isinstance(value, np.ndarray) else value
    if len(shape) != 5:
        raise InvalidArgumentError(f"{op}: {name} must be 5-dimensional, found shape {list(shape)}")


def _conv_geometry(op: str, x_shape, f_shape, strides, padding, data_format, dilations) -> Geometry:
    _rank5(op, "input", x_shape)
    _rank5(op, "filter", f_shape)
    _check_dilations(op, dilations)
    _check_format(op, data_format)
    if x_shape[4] != f_shape[3]:
        raise InvalidArgumentError(f"{op}: number of channels in filter ({f_shape[3]}) must match "
                                   f"the last dimension of input ({x_shape[4]})")
    return geometry(op, x_shape[1:4], f_shape[:3], strides, padding)


@kernel("Conv3D")
def conv3d(input: np.ndarray, filter: np.ndarray, *, strides: Sequence[int], padding: bytes,
           data_format: bytes = b"NDHWC", dilations: Sequence[int] = (1, 1, 1, 1, 1)) -> np.ndarray:
    axes = _conv_geometry("Conv3D", input.shape, filter.shape, strides, padding, data_format, dilations)
    out_shape = (input.shape[0], *(a.out for a in axes), filter.shape[4])
    if input.size == 0 or filter.size == 0:
        return np.zeros(out_shape, input.dtype)
    columns = patches_nd(pad_nd(input, axes), axes).reshape(-1, int(np.prod(filter.shape[:4])))
    return matmul(columns, filter.reshape(-1, filter.shape[4])).reshape(out_shape)


def _sizes(op: str, name: str, sizes: np.ndarray) -> tuple[int, ...]:
    values = tuple(int(v) for v in np.asarray(sizes).reshape(-1))
    if len(values) != 5 or min(values) < 0:
        raise InvalidArgumentError(f"{op}: {name} must be 5 non-negative sizes, found {list(values)}")
    return values


def _check_out_backprop(op: str, dy: np.ndarray, x_shape, f_shape, axes: Geometry) -> None:
    expected = (x_shape[0], *(a.out for a in axes), f_shape[4])
    if dy.shape != expected:
        raise InvalidArgumentError(f"{op}: out_backprop shape {list(dy.shape)} does not match the "
                                   f"computed output shape {list(expected)}")


def _input_grad(op, x_shape, filter, dy, strides, padding, data_format, dilations) -> np.ndarray:
    axes = _conv_geometry(op, x_shape, filter.shape, strides, padding, data_format, dilations)
    _check_out_backprop(op, dy, x_shape, filter.shape, axes)
    if dy.size == 0 or filter.size == 0:
        return np.zeros(x_shape, dy.dtype)
    depth, out_depth = filter.shape[3], filter.shape[4]
    columns = matmul(dy.reshape(-1, out_depth), filter.reshape(-1, out_depth).T)
    columns = columns.reshape(dy.shape[:4] + filter.shape[:3] + (depth,))
    padded = np.zeros(padded_shape(x_shape, axes), dy.dtype)
    for offset in offsets(axes):          # a loop over kernel offsets, not elements
        padded[offset_slice(axes, offset)] += columns[(slice(None),) * 4 + offset]
    return crop(padded, axes)


def _filter_grad(op, x, f_shape, dy, strides, padding, data_format, dilations) -> np.ndarray:
    axes = _conv_geometry(op, x.shape, f_shape, strides, padding, data_format, dilations)
    _check_out_backprop(op, dy, x.shape, f_shape, axes)
    if dy.size == 0 or x.size == 0:
        return np.zeros(f_shape, dy.dtype)
    columns = patches_nd(pad_nd(x, axes), axes).reshape(-1, int(np.prod(f_shape[:4])))
    return matmul(columns.T, dy.reshape(-1, f_shape[4])).reshape(f_shape)


@kernel("Conv3DBackpropInputV2")
def conv3d_backprop_input_v2(input_sizes: np.ndarray, filter: np.ndarray, out_backprop: np.ndarray, *,
                             strides: Sequence[int], padding: bytes, data_format: bytes = b"NDHWC",
                             dilations: Sequence[int] = (1, 1, 1, 1, 1)) -> np.ndarray:
    op = "Conv3DBackpropInputV2"
    return _input_grad(op, _sizes(op, "input_sizes", input_sizes), filter, out_backprop, strides,
                       padding, data_format, dilations)


@kernel("Conv3DBackpropFilterV2")
def conv3d_backprop_filter_v2(input: np.ndarray, filter_sizes: np.ndarray, out_backprop: np.ndarray, *,
                              strides: Sequence[int], padding: bytes, data_format: bytes = b"NDHWC",
                              dilations: Sequence[int] = (1, 1, 1, 1, 1)) -> np.ndarray:
    op = "Conv3DBackpropFilterV2"
    return _filter_grad(op, input, _sizes(op, "filter_sizes", filter_sizes), out_backprop, strides,
                        padding, data_format, dilations)
