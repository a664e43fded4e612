"""Fused batch norm (V1/V2/V3) and its gradients, and local response normalisation
(LRN, LRNGrad), as TF's CPU kernels compute them.

Outputs of the forward op, slot by slot (observed with TF 2.21 on CPU):

* training: ``y`` normalised with the batch mean and the *biased* batch variance;
  ``batch_mean``/``batch_variance`` = the running statistics, i.e. the batch mean and the
  Bessel-corrected variance, blended as ``(1 - f) * old + f * new`` when
  ``exponential_avg_factor`` f != 1; ``reserve_space_1``/``_2`` = batch mean and biased
  variance (what the gradient needs); V3's ``reserve_space_3`` is a 0-d zero.
* inference: ``y`` normalised with the given mean/variance; ``batch_mean``/``batch_variance``
  are those inputs; TF leaves ``reserve_space_1``/``_2`` uninitialised — we return the
  inputs (TF's gradient of an inference-mode op feeds the population statistics anyway).

float16 ``x`` is computed in float32 (the ``U`` type of scale/offset/statistics) and ``y``
rounded back once, as TF does.
"""
from __future__ import annotations

import functools

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops import norm_loops
from orchestrator.ops.nn_ops import data_format_str
from orchestrator.ops.registry import kernel


def _layout(op: str, x: np.ndarray, data_format: bytes | str) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """(axes reduced over, shape that broadcasts a per-channel vector against x, channels)."""
    return _cached_layout(op, x.shape, data_format)


@functools.lru_cache(maxsize=256)
def _cached_layout(op: str, shape: tuple[int, ...], data_format: bytes | str
                   ) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    if len(shape) not in (4, 5):
        raise InvalidArgumentError(f"{op}: input must be 4 or 5-dimensional, found shape "
                                   f"{list(shape)}")
    fmt = data_format_str(data_format)
    if fmt in ("NHWC", "NDHWC"):
        channel = len(shape) - 1
    elif fmt in ("NCHW", "NCDHW"):
        channel = 1
    else:
        raise InvalidArgumentError(f"{op}: unsupported data_format {fmt!r}")
    if len(fmt) != len(shape):
        raise InvalidArgumentError(f"{op}: data_format {fmt} does not fit a {len(shape)}-D input")
    axes = tuple(a for a in range(len(shape)) if a != channel)
    # Channels last: a per-channel vector broadcasts as it is (no reshape per use).
    bshape = (shape[channel],) if channel == len(shape) - 1 else \
        tuple(shape[channel] if a == channel else 1 for a in range(len(shape)))
    return axes, bshape, shape[channel]


def _channel_sum(values: np.ndarray, axes: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Sum over every axis but the channel's. Channels last and contiguous: one add.reduce
    over the rows of a [-1, C] view, which is the row-after-row order numpy's multi-axis sum
    runs too (same bits) without the ndarray.sum wrapper."""
    if axes[-1] == values.ndim - 2 and values.flags.c_contiguous and values.size:
        return np.add.reduce(values.reshape(-1, values.shape[-1]), axis=0, dtype=dtype)
    return values.sum(axis=axes, dtype=dtype)


_LOOP_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


def _loops_apply(x: np.ndarray, bshape: tuple[int, ...], *others: np.ndarray) -> bool:
    """norm_loops take channels-last, C-contiguous, non-empty float32/float64 ``x`` with
    ``others`` of its dtype (contiguous vectors, or the same shape for y_backprop). Not one
    channel: numpy's add.reduce then runs along the contiguous rows, pairwise."""
    dtype = x.dtype
    if dtype not in _LOOP_DTYPES or len(bshape) != 1 or bshape[0] < 2 or not x.size \
            or not x.flags.c_contiguous:
        return False
    for a in others:
        if a.dtype is not dtype or not a.flags.c_contiguous:
            return False
    return True


def _check_vector(op: str, name: str, v: np.ndarray, channels: int, allow_empty: bool = False) -> None:
    if v.ndim != 1 or (v.shape[0] != channels and not (allow_empty and v.shape[0] == 0)):
        raise InvalidArgumentError(
            f"{op}: {name} must have the same number of elements as the channels of x "
            f"({channels}), found shape {list(v.shape)}")


def _register_forward(op: str, with_reserve_3: bool) -> None:
    @kernel(op, multi=True)
    def fused_batch_norm(x: np.ndarray, scale: np.ndarray, offset: np.ndarray, mean: np.ndarray,
                         variance: np.ndarray, *, epsilon: float = 1e-4,
                         exponential_avg_factor: float = 1.0, data_format: bytes = b"NHWC",
                         is_training: bool = True) -> tuple[np.ndarray, ...]:
        axes, bshape, channels = _layout(op, x, data_format)
        u = scale.dtype
        fresh_running = is_training and exponential_avg_factor == 1.0
        for name, v in (("scale", scale), ("offset", offset), ("mean", mean), ("variance", variance)):
            _check_vector(op, name, v, channels, allow_empty=fresh_running and name in ("mean", "variance"))
        eps = u.type(epsilon)
        if is_training and _loops_apply(x, bshape, scale, offset, mean, variance):
            count = x.size // channels
            blend = exponential_avg_factor != 1.0
            stats = [np.empty(channels, u) for _ in range(4)]
            y = np.empty_like(x)
            norm_loops.forward_training(
                x.reshape(-1, channels), scale, offset, mean, variance, u.type(count), eps,
                u.type(count / (count - 1) if count > 1 else 1), u.type(exponential_avg_factor),
                blend, u.type(1), y.reshape(-1, channels), *stats)
            batch_mean, batch_var, running_mean, running_var = stats
            outs = [y, running_mean, running_var, batch_mean, batch_var]
            if with_reserve_3:
                outs.append(np.zeros((), u))
            return tuple(outs)
        xf = x.astype(u, copy=False)
        if is_training:
            count = x.size // channels if channels else 0
            # sum / count as TF does (np.mean adds ~10 us of Python per call)
            n = u.type(max(count, 1))
            batch_mean = _channel_sum(xf, axes, u) / n
            centered = xf - batch_mean.reshape(bshape)
            batch_var = _channel_sum(np.square(centered), axes, u) / n
            factor = u.type(count / (count - 1) if count > 1 else 1)
            unbiased = batch_var * factor
            if exponential_avg_factor == 1.0:
                running_mean, running_var = batch_mean, unbiased
            else:
                f = u.type(exponential_avg_factor)
                keep = u.type(1) - f
                running_mean = keep * mean + f * batch_mean
                running_var = keep * variance + f * unbiased
            inv = (u.type(1) / np.sqrt(batch_var + eps)) * scale
            y = np.multiply(centered, inv.reshape(bshape), out=centered)   # centered is ours
            y += offset.reshape(bshape)
            outs = [y.astype(x.dtype, copy=False), running_mean, running_var, batch_mean.copy(),
                    batch_var.copy()]
        else:
            inv = (u.type(1) / np.sqrt(variance + eps)) * scale
            y = (xf - mean.reshape(bshape)) * inv.reshape(bshape) + offset.reshape(bshape)
            outs = [y.astype(x.dtype, copy=False), mean.copy(), variance.copy(), mean.copy(),
                    variance.copy()]
        if with_reserve_3:
            outs.append(np.zeros((), u))
        return tuple(outs)

    fused_batch_norm.__name__ = fused_batch_norm.__qualname__ = op


def _register_grad(op: str, with_reserve_3: bool) -> None:
    def compute(y_backprop, x, scale, mean, variance, epsilon, data_format, is_training):
        axes, bshape, channels = _layout(op, x, data_format)
        if y_backprop.shape != x.shape:
            raise InvalidArgumentError(f"{op}: y_backprop shape {list(y_backprop.shape)} must "
                                       f"equal x shape {list(x.shape)}")
        for name, v in (("scale", scale), ("reserve_space_1", mean), ("reserve_space_2", variance)):
            _check_vector(op, name, v, channels)
        u = scale.dtype
        if _loops_apply(x, bshape, y_backprop, scale, mean, variance):
            x_backprop = np.empty_like(x)
            scale_backprop, offset_backprop = np.empty(channels, u), np.empty(channels, u)
            norm_loops.backward(y_backprop.reshape(-1, channels), x.reshape(-1, channels), scale, mean,
                                variance, u.type(epsilon), u.type(max(x.size // channels, 1)),
                                is_training, u.type(1), x_backprop.reshape(-1, channels),
                                scale_backprop, offset_backprop)
            empty = np.zeros((0,), u)
            return x_backprop, scale_backprop, offset_backprop, empty, empty.copy()
        dy = y_backprop.astype(u, copy=False)
        centered = x.astype(u, copy=False) - mean.reshape(bshape)
        inv_std = u.type(1) / np.sqrt(variance + u.type(epsilon))
        offset_backprop = _channel_sum(dy, axes, u)
        dy_dot_centered = _channel_sum(dy * centered, axes, u)
        scale_backprop = dy_dot_centered * inv_std
        if is_training:
            count = u.type(max(x.size // max(channels, 1), 1))
            dy_mean = offset_backprop / count
            dy_centered_mean = dy_dot_centered / count
            # (scale * inv_std) * ((dy - dy_mean) - centered * (dy_centered_mean * inv_std^2)),
            # in place on our own temporaries
            shifted = dy - dy_mean.reshape(bshape)
            shifted -= np.multiply(centered, (dy_centered_mean * inv_std * inv_std).reshape(bshape),
                                   out=centered)
            x_backprop = np.multiply(shifted, (scale * inv_std).reshape(bshape), out=shifted)
        else:
            x_backprop = dy * (scale * inv_std).reshape(bshape)
        empty = np.zeros((0,), u)
        return (x_backprop.astype(x.dtype, copy=False), scale_backprop, offset_backprop,
                empty, empty.copy())

    if with_reserve_3:
        @kernel(op, multi=True)
        def fused_batch_norm_grad(y_backprop, x, scale, reserve_space_1, reserve_space_2,
                                  reserve_space_3, *, epsilon: float = 1e-4,
                                  data_format: bytes = b"NHWC", is_training: bool = True):
            return compute(y_backprop, x, scale, reserve_space_1, reserve_space_2, epsilon,
                           data_format, is_training)
    else:
        @kernel(op, multi=True)
        def fused_batch_norm_grad(y_backprop, x, scale, reserve_space_1, reserve_space_2, *,
                                  epsilon: float = 1e-4, data_format: bytes = b"NHWC",
                                  is_training: bool = True):
            return compute(y_backprop, x, scale, reserve_space_1, reserve_space_2, epsilon,
                           data_format, is_training)

    fused_batch_norm_grad.__name__ = fused_batch_norm_grad.__qualname__ = op


for _op, _v3 in (("FusedBatchNorm", False), ("FusedBatchNormV2", False), ("FusedBatchNormV3", True)):
    _register_forward(_op, _v3)
    _register_grad(_op.replace("Norm", "NormGrad"), _v3)


# ------------------------------------------------------------------------------ LRN

def _window_sum(values: np.ndarray, radius: int) -> np.ndarray:
    """Sum over the last axis of values[..., d - radius : d + radius + 1] for every d."""
    depth = values.shape[-1]
    total = values.copy()
    for shift in range(1, min(radius, depth - 1) + 1):   # 2r+1 shifted adds, not a cumsum
        total[..., shift:] += values[..., :-shift]
        total[..., :-shift] += values[..., shift:]
    return total


def _lrn_norm(op: str, image: np.ndarray, depth_radius: int, bias: float, alpha: float) -> np.ndarray:
    if image.ndim != 4:
        raise InvalidArgumentError(f"{op}: input must be 4-dimensional, found shape {list(image.shape)}")
    if depth_radius < 0:
        raise InvalidArgumentError(f"{op}: depth_radius must be >= 0, found {depth_radius}")
    t = image.dtype.type
    # Float attrs are float32 in the graph, then cast to T.
    return t(np.float32(bias)) + t(np.float32(alpha)) * _window_sum(np.square(image), depth_radius)


@kernel("LRN")
def lrn(input: np.ndarray, *, depth_radius: int = 5, bias: float = 1.0, alpha: float = 1.0,
        beta: float = 0.5) -> np.ndarray:
    """input / (bias + alpha * sum of squares over 2*depth_radius+1 channels) ** beta."""
    norm = _lrn_norm("LRN", input, depth_radius, bias, alpha)
    return input * np.power(norm, -input.dtype.type(np.float32(beta)))


@kernel("LRNGrad")
def lrn_grad(input_grads: np.ndarray, input_image: np.ndarray, output_image: np.ndarray, *,
             depth_radius: int = 5, bias: float = 1.0, alpha: float = 1.0, beta: float = 0.5
             ) -> np.ndarray:
    """d out_j / d in_k = [j == k] norm_j^-beta - 2 alpha beta in_k out_j / norm_j, summed
    against the incoming gradient over the channels j whose window holds k."""
    op = "LRNGrad"
    if not input_grads.shape == input_image.shape == output_image.shape:
        raise InvalidArgumentError(
            f"{op}: input_grads, input_image and output_image must have one shape; found "
            f"{list(input_grads.shape)}, {list(input_image.shape)}, {list(output_image.shape)}")
    t = input_image.dtype.type
    norm = _lrn_norm(op, input_image, depth_radius, bias, alpha)
    direct = input_grads * np.power(norm, -t(np.float32(beta)))
    spread = _window_sum(input_grads * output_image / norm, depth_radius)
    return direct - t(2) * t(np.float32(alpha)) * t(np.float32(beta)) * input_image * spread
