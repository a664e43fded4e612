"""Kernels that move data between spatial, batch and depth dimensions, and reverse
sequences: SpaceToBatchND, BatchToSpaceND (dilated convolutions in TF1 graphs),
SpaceToDepth, DepthToSpace, ReverseSequence (bidirectional RNNs).

All are one reshape + transpose (+ pad/crop) of the whole tensor.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.array_util import int_vector, shape_str
from orchestrator.ops.registry import kernel


def _block_and_pads(op: str, x: np.ndarray, block_shape: Any, pads: Any, what: str
                    ) -> tuple[list[int], list[tuple[int, int]]]:
    block = int_vector(op, "block_shape", block_shape)
    pairs = np.asarray(pads)
    m = len(block)
    if pairs.shape != (m, 2):
        raise InvalidArgumentError(f"{op}: {what} should have shape [{m}, 2] instead of "
                                   f"{shape_str(pairs.shape)}")
    if x.ndim < 1 + m:
        raise InvalidArgumentError(f"{op}: input rank should be >= {1 + m} instead of {x.ndim}")
    for i, b in enumerate(block):
        if b < 1:
            raise InvalidArgumentError(f"{op}: All values in block_shape must be positive, got "
                                       f"value, {b} at index {i}.")
    out = [(int(a), int(b)) for a, b in pairs.tolist()]
    for a, b in out:
        if a < 0 or b < 0:
            raise InvalidArgumentError(f"{op}: All values in {what} must be non-negative, got "
                                       f"{shape_str(pairs.reshape(-1))}")
    return block, out


@kernel("SpaceToBatchND")
def space_to_batch_nd(x: np.ndarray, block_shape: Any, paddings: Any) -> np.ndarray:
    """Pads the M spatial dims, then moves each block offset into the batch (offset-major)."""
    x = np.asarray(x)
    block, pads = _block_and_pads("SpaceToBatchND", x, block_shape, paddings, "paddings")
    m = len(block)
    batch, spatial, rest = x.shape[0], x.shape[1:1 + m], x.shape[1 + m:]
    padded_dims = [d + a + b for d, (a, b) in zip(spatial, pads)]
    for i, (d, b) in enumerate(zip(padded_dims, block)):
        if d % b:
            raise InvalidArgumentError(f"SpaceToBatchND: padded_shape[{i}]={d} is not divisible "
                                       f"by block_shape[{i}]={b}")
    padded = np.pad(x, [(0, 0), *pads] + [(0, 0)] * len(rest)) if any(a or b for a, b in pads) else x
    split = [batch]
    for d, b in zip(padded_dims, block):
        split += [d // b, b]
    moved = padded.reshape(split + list(rest))
    # [B, S1/b1, b1, ..., SM/bM, bM, R...] -> [b1, ..., bM, B, S1/b1, ..., SM/bM, R...]
    order = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)]
    order += list(range(1 + 2 * m, 1 + 2 * m + len(rest)))
    out_shape = [batch * math.prod(block)] + [d // b for d, b in zip(padded_dims, block)] + list(rest)
    return np.ascontiguousarray(moved.transpose(order)).reshape(out_shape)


@kernel("BatchToSpaceND")
def batch_to_space_nd(x: np.ndarray, block_shape: Any, crops: Any) -> np.ndarray:
    """The inverse of SpaceToBatchND: batch blocks back into space, then crops."""
    x = np.asarray(x)
    block, crop = _block_and_pads("BatchToSpaceND", x, block_shape, crops, "crops")
    m = len(block)
    n_blocks = math.prod(block)
    if x.shape[0] % n_blocks:
        raise InvalidArgumentError(f"BatchToSpaceND: Input batch dimension ({x.shape[0]}) is not "
                                   f"divisible by product of block sizes ({n_blocks})")
    batch = x.shape[0] // n_blocks
    spatial, rest = x.shape[1:1 + m], x.shape[1 + m:]
    for i, (d, b, (lo, hi)) in enumerate(zip(spatial, block, crop)):
        if lo + hi > d * b:
            raise InvalidArgumentError(f"BatchToSpaceND: crops must be less than or equal to the "
                                       f"uncropped size of dimension {i}: {lo}, {hi} vs. {d * b}")
    moved = x.reshape(list(block) + [batch] + list(spatial) + list(rest))
    # [b1..bM, B, S1..SM, R...] -> [B, S1, b1, ..., SM, bM, R...]
    order = [m]
    for i in range(m):
        order += [m + 1 + i, i]
    order += list(range(2 * m + 1, 2 * m + 1 + len(rest)))
    full = moved.transpose(order).reshape([batch] + [d * b for d, b in zip(spatial, block)] + list(rest))
    index = (slice(None),) + tuple(slice(lo, d * b - hi) for d, b, (lo, hi) in zip(spatial, block, crop))
    return np.ascontiguousarray(full[index])


def _check_nhwc(op: str, x: np.ndarray, data_format: bytes, block_size: int) -> None:
    if data_format != b"NHWC":
        raise InvalidArgumentError(f"{op}: Only NHWC data_format supported on CPU. Got "
                                   f"{data_format.decode()}")
    if x.ndim != 4:
        raise InvalidArgumentError(f"{op}: Input rank should be: 4 instead of: {x.ndim}")
    if block_size < 2:
        raise InvalidArgumentError(f"{op}: Block size should be > 1, but was: {block_size}")


@kernel("SpaceToDepth")
def space_to_depth(x: np.ndarray, *, block_size: int, data_format: bytes = b"NHWC") -> np.ndarray:
    x = np.asarray(x)
    _check_nhwc("SpaceToDepth", x, data_format, block_size)
    b, h, w, c = x.shape
    if h % block_size or w % block_size:
        raise InvalidArgumentError(f"SpaceToDepth: Image width {w} and height {h} should be "
                                   f"divisible by block_size: {block_size}")
    blocks = x.reshape(b, h // block_size, block_size, w // block_size, block_size, c)
    out = blocks.transpose(0, 1, 3, 2, 4, 5)
    return np.ascontiguousarray(out).reshape(b, h // block_size, w // block_size, block_size ** 2 * c)


@kernel("DepthToSpace")
def depth_to_space(x: np.ndarray, *, block_size: int, data_format: bytes = b"NHWC") -> np.ndarray:
    x = np.asarray(x)
    _check_nhwc("DepthToSpace", x, data_format, block_size)
    b, h, w, c = x.shape
    if c % (block_size ** 2):
        raise InvalidArgumentError(f"DepthToSpace: Input depth dimension {c} should be divisible "
                                   f"by: {block_size ** 2}")
    depth = c // block_size ** 2
    blocks = x.reshape(b, h, w, block_size, block_size, depth).transpose(0, 1, 3, 2, 4, 5)
    return np.ascontiguousarray(blocks).reshape(b, h * block_size, w * block_size, depth)


@kernel("ReverseSequence")
def reverse_sequence(x: np.ndarray, seq_lengths: Any, *, seq_dim: int, batch_dim: int = 0) -> np.ndarray:
    """Reverses the first ``seq_lengths[b]`` entries along ``seq_dim`` of each batch row ``b``."""
    x = np.asarray(x)
    lengths = np.asarray(seq_lengths)
    if batch_dim == seq_dim:
        raise InvalidArgumentError(f"ReverseSequence: seq_dim == batch_dim == {seq_dim}")
    if not (0 <= seq_dim < x.ndim and 0 <= batch_dim < x.ndim):
        raise InvalidArgumentError(f"ReverseSequence: seq_dim ({seq_dim}) and batch_dim ({batch_dim}) "
                                   f"must be in [0, {x.ndim})")
    if lengths.ndim != 1 or lengths.size != x.shape[batch_dim]:
        raise InvalidArgumentError(f"ReverseSequence: Length of seq_lengths != input.dims({batch_dim}), "
                                   f"({lengths.size} vs. {x.shape[batch_dim]})")
    bad = (lengths < 0) | (lengths > x.shape[seq_dim])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        relation = "< 0" if lengths[i] < 0 else f"> input.dims({seq_dim})"
        raise InvalidArgumentError(f"ReverseSequence: seq_lens({i}) {relation}")
    steps = np.arange(x.shape[seq_dim])
    length = lengths.astype(np.int64)[:, None]
    source = np.where(steps[None, :] < length, length - 1 - steps[None, :], steps[None, :])  # [batch, seq]
    shape = [1] * x.ndim
    shape[batch_dim], shape[seq_dim] = source.shape
    index = source if batch_dim < seq_dim else source.T
    index = np.broadcast_to(index.reshape(shape), x.shape)
    return np.take_along_axis(x, index, axis=seq_dim)
