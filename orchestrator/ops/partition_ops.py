"""Kernels that group or regroup elements: Unique, UniqueWithCounts (and their V2 forms,
which compare whole slices along an axis), ListDiff, DynamicPartition, DynamicStitch and
ParallelDynamicStitch.

Large inputs are vectorised with sorts instead of TF's hash maps and loops, and then put
back into TF's order: Unique lists values in order of first occurrence; DynamicPartition
keeps each partition in input order; DynamicStitch lets the last write to an index win.
Small ones (an embedding batch's tens of ids) take plain Python where numpy's per-call
overhead would cost more than the work: Unique walks a dict as TF does, the stitches check
range and repeats on a list.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.array_util import first_bad, index_str, indices_in_range, shape_str, zeros
from orchestrator.ops.registry import kernel


# ------------------------------------------------------------------------ unique

# Below this many elements a dict walk (what TF's kernel does) beats the sort's ~20 numpy
# calls; measured crossover ~150 elements, embedding lookups have tens of ids.
_UNIQUE_DICT_MAX = 100


def _unique_first_order(op: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions of first occurrences, index of each element's value), values in order of
    first occurrence. NaNs are all distinct (NaN != NaN in TF's hash map);
    -0.0 and 0.0 are one value, kept as whichever came first."""
    x = np.asarray(x)
    if x.ndim != 1:
        raise InvalidArgumentError(f"{op}: unique expects a 1D vector, found shape {shape_str(x.shape)}")
    if x.shape[0] <= _UNIQUE_DICT_MAX:
        return _unique_by_dict(x)
    return _unique_by_sort(x)


def _unique_by_dict(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # ``tolist`` makes a new float object per element, and a NaN hashes by identity, so
    # NaNs never meet; -0.0 == 0.0 with equal hashes, so they share the first one's slot.
    ids: dict = {}
    first: list[int] = []
    idx: list[int] = []
    for position, value in enumerate(x.tolist()):
        k = ids.setdefault(value, len(ids))
        if k == len(first):
            first.append(position)
        idx.append(k)
    return np.array(first, dtype=np.intp), np.array(idx, dtype=np.intp)


def _unique_by_sort(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One stable sort groups equal values (``!=`` of neighbours starts a group, so each NaN
    is its own); stability makes a group's first member its first occurrence. Groups are
    numbered in order of first occurrence by a running count over the marked first
    positions, without the second sort np.unique's outputs would need."""
    n = x.shape[0]
    if x.dtype.isbuiltin == 2:
        # ml_dtypes' own sort (bfloat16) does not order -0.0 next to 0.0; float32 holds
        # every value exactly and compares them as IEEE does.
        x = x.astype(np.float32)
    # Method calls, not np.<function> wrappers: their Python overhead is most of the cost.
    order = x.argsort(kind="stable")
    ranked = x[order]
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(ranked[1:], ranked[:-1], out=starts[1:])
    group_of_ranked = starts.cumsum() - 1
    start_positions = starts.nonzero()[0]
    first_of_group = order[start_positions]
    is_first = np.zeros(n, dtype=bool)
    is_first[first_of_group] = True
    first = is_first.nonzero()[0]
    id_of_group = (is_first.cumsum() - 1)[first_of_group]
    idx = np.empty(n, dtype=np.intp)
    idx[order] = id_of_group[group_of_ranked]
    return first, idx


@kernel("Unique", multi=True)
def unique(x: np.ndarray, *, out_idx: DType = DType.INT32) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    first, idx = _unique_first_order("Unique", x)
    return x[first], idx.astype(out_idx.numpy)


@kernel("UniqueWithCounts", multi=True)
def unique_with_counts(x: np.ndarray, *, out_idx: DType = DType.INT32
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(x)
    first, idx = _unique_first_order("UniqueWithCounts", x)
    counts = np.bincount(idx, minlength=first.size)
    return x[first], idx.astype(out_idx.numpy), counts.astype(out_idx.numpy)


def _axis_of(op: str, x: np.ndarray, axis: Any) -> int | None:
    """UniqueV2's axis input: ``[]`` means none (x must be a vector), ``[k]`` axis k."""
    axis = np.asarray(axis)
    if axis.ndim != 1:
        raise InvalidArgumentError(f"{op}: axis expects a 1D vector. Found shape {shape_str(axis.shape)}")
    if axis.size > 1:
        raise InvalidArgumentError(f"{op}: axis does not support input tensors larger than 1 elements "
                                   f"(found {axis.size})")
    if axis.size == 0:
        if x.ndim != 1:
            raise InvalidArgumentError(f"{op}: unique expects a 1D vector. Found shape {shape_str(x.shape)} "
                                       f"and no axis")
        return None
    k = int(axis[0])
    k = k + x.ndim if k < 0 else k
    if not 0 <= k < x.ndim:
        raise InvalidArgumentError(f"{op}: axis has to be between [0, {x.ndim}) for input of shape "
                                   f"{shape_str(x.shape)}, found {int(axis[0])}")
    return k


def _unique_slices(op: str, x: np.ndarray, axis: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, positions of the first occurrences, group of each slice) of Unique*V2: the slices
    of ``x`` along ``axis`` compared whole, in order of first occurrence. Like TF, slices are
    equal when all their elements compare equal (a NaN makes a slice unique; -0.0 == 0.0)."""
    x = np.asarray(x)
    k = _axis_of(op, x, axis)
    if k is None or x.size == x.shape[k]:   # one element per slice: the element walk of Unique
        first, idx = _unique_first_order(op, x if k is None else x.reshape(-1))
        return (x[first] if k is None else x.take(first, axis=k)), first, idx
    rows = np.moveaxis(x, k, 0).reshape(x.shape[k], -1)
    # ``tolist`` gives fresh float objects, so NaNs (hashed by identity) never meet, and
    # tuples compare element by element: -0.0 and 0.0 are one value, as in TF's == .
    groups: dict = {}
    first_list: list[int] = []
    idx_list: list[int] = []
    for position, row in enumerate(rows.tolist()):
        g = groups.setdefault(tuple(row), len(groups))
        if g == len(first_list):
            first_list.append(position)
        idx_list.append(g)
    first = np.array(first_list, dtype=np.intp)
    return x.take(first, axis=k), first, np.array(idx_list, dtype=np.intp)


@kernel("UniqueV2", multi=True)
def unique_v2(x: np.ndarray, axis: np.ndarray, *, out_idx: DType = DType.INT32) -> tuple[np.ndarray, np.ndarray]:
    y, _, idx = _unique_slices("UniqueV2", x, axis)
    return y, idx.astype(out_idx.numpy)


@kernel("UniqueWithCountsV2", multi=True)
def unique_with_counts_v2(x: np.ndarray, axis: np.ndarray, *, out_idx: DType = DType.INT32
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, first, idx = _unique_slices("UniqueWithCountsV2", x, axis)
    counts = np.bincount(idx, minlength=first.size)
    return y, idx.astype(out_idx.numpy), counts.astype(out_idx.numpy)


@kernel("ListDiff", multi=True)
def list_diff(x: np.ndarray, y: np.ndarray, *, out_idx: DType = DType.INT32
              ) -> tuple[np.ndarray, np.ndarray]:
    """tf.compat.v1.setdiff1d: the elements of ``x`` not in ``y`` (in order, duplicates kept)
    and their positions in ``x``."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 1 or y.ndim != 1:
        raise InvalidArgumentError(f"ListDiff: x and y must be vectors, found shapes "
                                   f"{shape_str(x.shape)} and {shape_str(y.shape)}")
    keep = np.flatnonzero(~np.isin(x, y))
    return x[keep], keep.astype(out_idx.numpy)


# ---------------------------------------------------------------- partition/stitch

@kernel("DynamicPartition", multi=True)
def dynamic_partition(data: np.ndarray, partitions: np.ndarray, *,
                      num_partitions: int) -> tuple[np.ndarray, ...]:
    """Output p holds the rows of ``data`` whose partition is p, in input order."""
    data, partitions = np.asarray(data), np.asarray(partitions)
    if data.shape[:partitions.ndim] != partitions.shape:
        raise InvalidArgumentError(
            f"DynamicPartition: data.shape must start with partitions.shape, got data.shape = "
            f"{shape_str(data.shape)}, partitions.shape = {shape_str(partitions.shape)}")
    flat = partitions.reshape(-1)
    if not indices_in_range(flat, num_partitions):
        bad = first_bad((flat < 0) | (flat >= num_partitions))
        raise InvalidArgumentError(f"DynamicPartition: partitions{index_str(partitions.shape, bad)} = "
                                   f"{int(flat[bad])} is not in [0, {num_partitions})")
    rows = data.reshape((flat.size,) + data.shape[partitions.ndim:])
    grouped = rows.take(flat.argsort(kind="stable"), axis=0)
    ends = np.bincount(flat, minlength=num_partitions).cumsum().tolist()
    return tuple(grouped[start:end] for start, end in zip([0] + ends[:-1], ends))


def _stitch(op: str, inputs: tuple, n: int | None) -> np.ndarray:
    if n is None:
        n = len(inputs) // 2
    if len(inputs) != 2 * n or n == 0:
        raise InvalidArgumentError(f"{op}: expected {n} indices and {n} data inputs, got "
                                   f"{len(inputs)} inputs")
    indices = [np.asarray(i) for i in inputs[:n]]
    data = [np.asarray(d) for d in inputs[n:]]
    slice_shape = data[0].shape[indices[0].ndim:]
    for i, (ix, d) in enumerate(zip(indices, data)):
        if d.shape[:ix.ndim] != ix.shape:
            raise InvalidArgumentError(f"{op}: data[{i}].shape = {shape_str(d.shape)} does not start "
                                       f"with indices[{i}].shape = {shape_str(ix.shape)}")
        if d.shape[ix.ndim:] != slice_shape:
            raise InvalidArgumentError(
                f"{op}: Need data[0].shape[{indices[0].ndim}:] = {shape_str(slice_shape)}, got "
                f"data[{i}].shape[{ix.ndim}:] = {shape_str(d.shape[ix.ndim:])}")
    flat_idx = np.concatenate([ix.reshape(-1) for ix in indices])
    values = np.concatenate([d.reshape((-1,) + slice_shape) for d in data])
    if flat_idx.size <= _UNIQUE_DICT_MAX:
        # Few indices (an embedding lookup's ids): plain Python beats numpy reductions.
        listed = flat_idx.tolist()
        lowest, size = (min(listed), max(listed) + 1) if listed else (0, 0)
        repeats = len(set(listed)) != len(listed)
    else:
        lowest, size = int(flat_idx.min()), int(flat_idx.max()) + 1
        repeats = None
    if lowest < 0:
        for ix in indices:
            flat = ix.reshape(-1)
            if flat.size and flat.min() < 0:
                raise InvalidArgumentError(f"{op}: indices[{first_bad(flat < 0)}] is out of range")
    out = zeros((size,) + slice_shape, data[0].dtype)
    if repeats is None:
        repeats = bool(flat_idx.size) and np.bincount(flat_idx, minlength=size).max() > 1
    if repeats:
        # Last occurrence of each index: the first one in the reversed list.
        _, first_rev = np.unique(flat_idx[::-1], return_index=True)
        last = flat_idx.size - 1 - first_rev
        flat_idx, values = flat_idx[last], values[last]
    out[flat_idx] = values
    return out


@kernel("DynamicStitch")
def dynamic_stitch(*indices_then_data: Any, N: int | None = None) -> np.ndarray:
    """``out[indices[i][j]] = data[i][j]``; later (i, j) win on duplicates; gaps are zero."""
    return _stitch("DynamicStitch", indices_then_data, N)


@kernel("ParallelDynamicStitch")
def parallel_dynamic_stitch(*indices_then_data: Any, N: int | None = None) -> np.ndarray:
    return _stitch("ParallelDynamicStitch", indices_then_data, N)
