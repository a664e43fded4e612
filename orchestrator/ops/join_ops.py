"""Joining, splitting and rearranging kernels: Concat(V2), ConcatOffset, Pack, Unpack,
Split(V), Tile, Pad(V2), MirrorPad(Grad), Transpose, InvertPermutation, ReverseV2, Reverse,
Roll.

Kernels that TF implements as a fresh buffer return a fresh array here too (not a
numpy view), so an in-place update of a ref variable later in the step cannot show
through a transposed/reversed/split copy the way it never does in TF. Pieces along
axis 0 (Split, Unpack) stay views, as TF shares the buffer for those.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.array_util import int_scalar, int_vector, shape_str, zero_of
from orchestrator.ops.registry import kernel


# ------------------------------------------------------------------------ concat

def _concat(op: str, values: list[np.ndarray], axis_value: Any) -> np.ndarray:
    # RNN cells concatenate [x, h] every step: with an integer scalar axis, numpy's own checks
    # go first; whatever it rejects (scalars, rank/dimension mismatch, axis out of range) is
    # diagnosed below with TF's message.
    if len(values) > 1 and type(axis_value) is np.ndarray and axis_value.ndim == 0 \
            and axis_value.dtype.kind in "iu":
        try:
            return np.concatenate(values, axis=int(axis_value))
        except ValueError:
            pass
    values = [np.asarray(v) for v in values]
    first = values[0]
    rank = first.ndim
    axis = int_scalar(op, "axis", axis_value)
    if rank == 0:
        raise InvalidArgumentError(f"{op}: ConcatOp : Can't concatenate scalars (use tf.stack instead)")
    if not -rank <= axis < rank:
        raise InvalidArgumentError(f"{op}: ConcatOp : Expected concatenating dimensions in the range "
                                   f"[{-rank}, {rank}), but got {axis}")
    axis %= rank
    for i, v in enumerate(values[1:], start=1):
        if v.ndim != rank:
            raise InvalidArgumentError(
                f"{op}: ConcatOp : Ranks of all input tensors should match: shape[0] = "
                f"{shape_str(first.shape)} vs. shape[{i}] = {shape_str(v.shape)}")
        for d in range(rank):
            if d != axis and v.shape[d] != first.shape[d]:
                raise InvalidArgumentError(
                    f"{op}: ConcatOp : Dimension {d} in both shapes must be equal: shape[0] = "
                    f"{shape_str(first.shape)} vs. shape[{i}] = {shape_str(v.shape)}")
    if len(values) == 1:
        return first
    return np.concatenate(values, axis=axis)


@kernel("ConcatV2")
def concat_v2(*values_and_axis: Any) -> np.ndarray:
    return _concat("ConcatV2", list(values_and_axis[:-1]), values_and_axis[-1])


@kernel("Concat")
def concat(concat_dim: Any, *values: Any) -> np.ndarray:
    return _concat("Concat", list(values), concat_dim)


@kernel("ConcatOffset", multi=True)
def concat_offset(concat_dim: Any, *shapes: Any) -> tuple[np.ndarray, ...]:
    """Where each input starts in the concatenation: zeros except along ``concat_dim``."""
    dims = [int_vector("ConcatOffset", f"shape[{i}]", s) for i, s in enumerate(shapes)]
    rank = len(dims[0])
    cdim = int_scalar("ConcatOffset", "concat_dim", concat_dim)
    axis = cdim + rank if cdim < 0 else cdim
    if not 0 <= axis < rank:
        raise InvalidArgumentError(f"ConcatOffset: Concat dim is out of range: {cdim} vs. {rank}")
    dtype = np.asarray(shapes[0]).dtype
    out, offset = [], 0
    for i, d in enumerate(dims):
        if len(d) != rank:
            raise InvalidArgumentError(f"ConcatOffset: input {i} should contain {rank} elements, "
                                       f"but got {len(d)}")
        for j in range(rank):
            if j != axis and d[j] != dims[0][j]:
                raise InvalidArgumentError(
                    f"ConcatOffset: All dimensions except {axis} must match. Input {i} has shape "
                    f"[{' '.join(map(str, d))}] and doesn't match input 0 with shape "
                    f"[{' '.join(map(str, dims[0]))}].")
        row = np.zeros(rank, dtype)
        row[axis] = offset
        offset += d[axis]
        out.append(row)
    return tuple(out)


# ------------------------------------------------------------------ pack / unpack

@kernel("Pack")
def pack(*values: Any, axis: int = 0) -> np.ndarray:
    values = [np.asarray(v) for v in values]
    rank = values[0].ndim + 1
    if not -rank <= axis < rank:
        raise InvalidArgumentError(f"Pack: axis = {axis} not in [{-rank}, {rank})")
    for i, v in enumerate(values[1:], start=1):
        if v.shape != values[0].shape:
            raise InvalidArgumentError(
                f"Pack: Shapes of all inputs must match: values[0].shape = "
                f"{shape_str(values[0].shape)} != values[{i}].shape = {shape_str(v.shape)}")
    return np.stack(values, axis=axis)


@kernel("Unpack", multi=True)
def unpack(value: np.ndarray, *, num: int | None = None, axis: int = 0) -> tuple[np.ndarray, ...]:
    value = np.asarray(value)
    rank = value.ndim
    if not -rank <= axis < rank:
        raise InvalidArgumentError(f"Unpack: axis = {axis} not in [{-rank}, {rank})")
    axis %= rank
    if num is not None and value.shape[axis] != num:
        raise InvalidArgumentError(f"Unpack: Input shape axis {axis} must equal {num}, got shape "
                                   f"{shape_str(value.shape)}")
    if axis == 0:
        return tuple(value[i] for i in range(value.shape[0]))
    moved = np.moveaxis(value, axis, 0)
    return tuple(np.ascontiguousarray(moved[i]) for i in range(moved.shape[0]))


# -------------------------------------------------------------------------- split

def _split_at(value: np.ndarray, axis: int, sizes: list[int]) -> tuple[np.ndarray, ...]:
    """Pieces of ``sizes`` along ``axis`` by basic slicing (np.split costs ~10 us of Python;
    RNN cells split their gates every step)."""
    bounds = [0]
    for size in sizes:
        bounds.append(bounds[-1] + size)
    if axis == 0:
        return tuple(value[a:b] for a, b in zip(bounds, bounds[1:]))
    lead = (slice(None),) * axis
    return tuple(np.ascontiguousarray(value[lead + (slice(a, b),)]) for a, b in zip(bounds, bounds[1:]))


def _split_even(value: np.ndarray, axis: int, num_split: int) -> tuple[np.ndarray, ...]:
    """Equal pieces along ``axis`` > 0: one copy that puts each piece's elements together,
    then contiguous, non-overlapping views of it (fresh memory, as TF's pieces are)."""
    shape = value.shape
    outer = 1
    for d in shape[:axis]:
        outer *= d
    width = shape[axis] // num_split
    piece_shape = shape[:axis] + (width,) + shape[axis + 1:]
    grouped = np.ascontiguousarray(value.reshape(outer, num_split, -1).transpose(1, 0, 2))
    if grouped.shape[1:] == piece_shape:      # a matrix split along columns (RNN gates)
        return tuple(grouped)
    return tuple(grouped[i].reshape(piece_shape) for i in range(num_split))


@kernel("Split", multi=True)
def split(split_dim: Any, value: np.ndarray, *, num_split: int) -> tuple[np.ndarray, ...]:
    value = np.asarray(value)
    axis = int_scalar("Split", "split_dim", split_dim)
    if not -value.ndim <= axis < value.ndim:
        raise InvalidArgumentError(f"Split: -input rank(-{value.ndim}) <= split_dim < input rank "
                                   f"({value.ndim}), but got {axis}")
    axis %= value.ndim
    size_ = value.shape[axis]
    if num_split <= 0 or size_ % num_split:
        raise InvalidArgumentError(
            f"Split: Number of ways to split should evenly divide the split dimension, but got "
            f"split_dim {axis} (size = {size_}) and num_split {num_split}")
    if num_split == 1:
        return (value,)
    if axis == 0 or value.size == 0:
        return _split_at(value, axis, [size_ // num_split] * num_split)
    return _split_even(value, axis, num_split)


@kernel("SplitV", multi=True)
def split_v(value: np.ndarray, size_splits: Any, split_dim: Any, *,
            num_split: int) -> tuple[np.ndarray, ...]:
    value = np.asarray(value)
    sizes = int_vector("SplitV", "size_splits", size_splits)
    axis = int_scalar("SplitV", "split_dim", split_dim)
    if not -value.ndim <= axis < value.ndim:
        raise InvalidArgumentError(f"SplitV: -input rank(-{value.ndim}) <= split_dim < input rank "
                                   f"({value.ndim}), but got {axis}")
    axis %= value.ndim
    if len(sizes) != num_split:
        raise InvalidArgumentError(f"SplitV: size_splits must have exactly num_split = {num_split} "
                                   f"elements, found {len(sizes)}")
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    if len(unknown) > 1:
        raise InvalidArgumentError("SplitV: There can only be one -1 in the input.")
    for i, s in enumerate(sizes):
        if s < -1:
            raise InvalidArgumentError(f"SplitV: Split size at index {i} must be >= 0. Got: {s}")
    known = sum(s for s in sizes if s != -1)
    dim = value.shape[axis]
    if (not unknown and known != dim) or (unknown and known > dim):
        raise InvalidArgumentError(
            "SplitV: Determined shape must either match input shape along split_dim exactly if "
            "fully specified, or be less than the size of the input along split_dim if not fully "
            f"specified.  Got: {known}")
    if unknown:
        sizes[unknown[0]] = dim - known
    return _split_at(value, axis, sizes)


# ----------------------------------------------------------------- tile and pad

@kernel("Tile")
def tile(x: np.ndarray, multiples: Any) -> np.ndarray:
    x = np.asarray(x)
    reps = int_vector("Tile", "multiples", multiples)
    if len(reps) != x.ndim:
        raise InvalidArgumentError(f"Tile: Expected multiples argument to be a vector of length "
                                   f"{x.ndim} but got length {len(reps)}")
    for i, r in enumerate(reps):
        if r < 0:
            raise InvalidArgumentError(f"Tile: Expected multiples[{i}] >= 0, but got {r}")
    if not x.ndim:
        return x.copy()
    if all(r == 1 or d == 1 for r, d in zip(reps, x.shape)):
        # Only unit dims repeat (the gradients of Mean/Sum tile this way): one broadcast
        # copy, where np.tile copies once per repeated dim.
        out = np.empty(tuple(r * d for r, d in zip(reps, x.shape)), dtype=x.dtype)
        out[...] = x
        return out
    return np.tile(x, reps)


def _paddings(op: str, x: np.ndarray, paddings: Any) -> list[tuple[int, int]]:
    pads = np.asarray(paddings)
    if pads.ndim != 2 or pads.shape[1] != 2:
        raise InvalidArgumentError(f"{op}: paddings must be a matrix with 2 columns: "
                                   f"{shape_str(pads.shape)}")
    if pads.shape[0] != x.ndim:
        raise InvalidArgumentError(f"{op}: The first dimension of paddings must be the rank of "
                                   f"inputs{shape_str(pads.shape)} {shape_str(x.shape)}")
    out = [(int(a), int(b)) for a, b in pads]
    for a, b in out:
        if a < 0 or b < 0:
            raise InvalidArgumentError(f"{op}: Paddings must be non-negative: {a} {b}")
    return out


def _constant_pad(op: str, x: Any, paddings: Any, fill: Any) -> np.ndarray:
    x = np.asarray(x)
    pads = _paddings(op, x, paddings)
    out_shape = tuple(d + a + b for d, (a, b) in zip(x.shape, pads))
    out = np.full(out_shape, fill, dtype=x.dtype)
    out[tuple(slice(a, a + d) for d, (a, _) in zip(x.shape, pads))] = x
    return out


@kernel("Pad")
def pad(x: np.ndarray, paddings: Any) -> np.ndarray:
    return _constant_pad("Pad", x, paddings, zero_of(np.asarray(x).dtype))


@kernel("PadV2")
def pad_v2(x: np.ndarray, paddings: Any, constant_values: Any) -> np.ndarray:
    fill = np.asarray(constant_values)
    if fill.ndim != 0:
        raise InvalidArgumentError(f"PadV2: constant_values must be a scalar. Found: "
                                   f"{shape_str(fill.shape)}")
    return _constant_pad("PadV2", x, paddings, fill[()])


def _mirror_pads(op: str, x: np.ndarray, paddings: Any, mode: bytes) -> tuple[list, int]:
    if mode not in (b"REFLECT", b"SYMMETRIC"):
        raise InvalidArgumentError(f"{op}: mode must be REFLECT or SYMMETRIC, found {mode!r}")
    return _paddings(op, x, paddings), 1 if mode == b"REFLECT" else 0


@kernel("MirrorPad")
def mirror_pad(x: np.ndarray, paddings: Any, *, mode: bytes = b"REFLECT") -> np.ndarray:
    """REFLECT leaves the edge out of the mirror (pads < dim), SYMMETRIC repeats it (pads <= dim)."""
    x = np.asarray(x)
    pads, offset = _mirror_pads("MirrorPad", x, paddings, mode)
    for d, (a, b) in zip(x.shape, pads):
        if offset and (a >= d or b >= d):
            raise InvalidArgumentError(f"MirrorPad: paddings must be less than the dimension size: "
                                       f"{a}, {b} not less than {d}")
        if not offset and (a > d or b > d):
            raise InvalidArgumentError(f"MirrorPad: paddings must be no greater than the dimension "
                                       f"size: {a}, {b} greater than {d}")
    return np.pad(x, pads, mode="reflect" if offset else "symmetric")


@kernel("MirrorPadGrad")
def mirror_pad_grad(grad: np.ndarray, paddings: Any, *, mode: bytes = b"REFLECT") -> np.ndarray:
    """Folds the mirrored borders of ``grad`` back onto the cells they were copied from."""
    grad = np.asarray(grad)
    pads, offset = _mirror_pads("MirrorPadGrad", grad, paddings, mode)
    out = grad
    for axis, (a, b) in enumerate(pads):
        n = out.shape[axis] - a - b
        if n < 0 or a > n - offset or b > n - offset:
            raise InvalidArgumentError(
                f"MirrorPadGrad: paddings {a}, {b} do not fit gradient dimension {axis} of size "
                f"{out.shape[axis]} in {mode.decode()} mode")
        moved = np.moveaxis(out, axis, 0)
        core = moved[a:a + n].copy()
        if a:
            core[offset:offset + a] += moved[:a][::-1]
        if b:
            core[n - offset - b:n - offset] += moved[a + n:][::-1]
        out = np.moveaxis(core, 0, axis)
    return np.ascontiguousarray(out)


# ------------------------------------------------------------- permute / reverse

@kernel("Transpose")
def transpose(x: np.ndarray, perm: Any) -> np.ndarray:
    x = np.asarray(x)
    order = int_vector("Transpose", "perm", perm)
    if len(order) != x.ndim:
        raise InvalidArgumentError(f"Transpose: transpose expects a vector of size {x.ndim}. "
                                   f"But input(1) is a vector of size {len(order)}")
    seen = [False] * x.ndim
    for d in order:
        if not 0 <= d < x.ndim:
            raise InvalidArgumentError(f"Transpose: {d} is out of range [0 .. {x.ndim})")
        seen[d] = True
    for i, hit in enumerate(seen):
        if not hit:
            raise InvalidArgumentError(f"Transpose: {i} is missing from "
                                       f"{{{','.join(map(str, order))}}}.")
    if order == list(range(x.ndim)):
        return x
    return np.ascontiguousarray(x.transpose(order))


@kernel("InvertPermutation")
def invert_permutation(x: Any) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1:
        raise InvalidArgumentError(f"InvertPermutation: invert_permutation expects a 1D vector, "
                                   f"found shape {shape_str(x.shape)}")
    n = x.size
    out_of_range = (x < 0) | (x >= n)
    clipped = np.where(out_of_range, 0, x)
    first_seen = np.zeros(n, dtype=bool)
    first_seen[np.unique(clipped, return_index=True)[1]] = True
    bad = out_of_range | ~first_seen
    if bad.any():   # the first failing position gives TF's message
        i = int(np.flatnonzero(bad)[0])
        if out_of_range[i]:
            raise InvalidArgumentError(f"InvertPermutation: {int(x[i])} is not between 0 and {n}")
        raise InvalidArgumentError(f"InvertPermutation: {int(x[i])} is duplicated in the input.")
    out = np.empty(n, dtype=x.dtype)
    out[x] = np.arange(n, dtype=x.dtype)
    return out


@kernel("ReverseV2")
def reverse_v2(x: np.ndarray, axis: Any) -> np.ndarray:
    x = np.asarray(x)
    axes = int_vector("ReverseV2", "axis", axis)
    seen: set[int] = set()
    for a in axes:
        if not -x.ndim <= a < x.ndim:
            raise InvalidArgumentError(f"ReverseV2: 'axis'[{axes.index(a)}] = {a} is out of valid "
                                       f"range [{-x.ndim}, {x.ndim - 1}]")
        canonical = a % x.ndim
        if canonical in seen:
            raise InvalidArgumentError(f"ReverseV2: axis {canonical} specified more than once.")
        seen.add(canonical)
    if not seen:
        return x
    return np.flip(x, axis=tuple(seen)).copy()


@kernel("Reverse")
def reverse_v1(x: np.ndarray, dims: Any) -> np.ndarray:
    """The v1 form: one bool per dimension says whether to reverse it."""
    x = np.asarray(x)
    flags = np.asarray(dims)
    if flags.ndim != 1 or flags.dtype != np.bool_:
        raise InvalidArgumentError(f"Reverse: 'dims' must be a 1-D bool tensor, found "
                                   f"{flags.dtype} of shape {shape_str(flags.shape)}")
    if flags.size != x.ndim:
        raise InvalidArgumentError(f"Reverse: 'dims' must have the same number of values as 'input' "
                                   f"has dimensions. 'input' has {x.ndim}'dims' has {flags.size} values")
    axes = tuple(int(a) for a in np.flatnonzero(flags))
    return np.flip(x, axis=axes).copy() if axes else x


@kernel("Roll")
def roll(x: np.ndarray, shift: Any, axis: Any) -> np.ndarray:
    """Cyclic shift; several shifts of one axis add up."""
    x = np.asarray(x)
    shifts, axes = int_vector("Roll", "shift", shift), int_vector("Roll", "axis", axis)
    if len(shifts) != len(axes):
        raise InvalidArgumentError("Roll: shift and axis must have the same size")
    for a in axes:
        if not -x.ndim <= a < x.ndim:
            raise InvalidArgumentError(f"Roll: axis {a} is out of range")
    if not axes:
        return x
    return np.roll(x, shifts, axis=[a % x.ndim for a in axes])
