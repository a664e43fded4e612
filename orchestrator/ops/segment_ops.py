"""Segment reductions: Segment* (sorted ids), UnsortedSegment* (any ids, ``num_segments``),
SparseSegment{Sum,Mean,SqrtN}[WithNumSegments] and their ``*Grad``/``*GradV2`` forms, which
TF's gradient of ``embedding_lookup_sparse`` emits; Bincount/DenseBincount.

TF rules kept here: sorted segment ops need non-decreasing, non-negative ids and give
the reduction's default (0, 1 for Prod) to ids that never occur; unsorted ones drop
negative ids and fill empty segments with the identity (0, 1, lowest, highest); rows are
accumulated in index order, one after another in the data's own type, as TF's CPU loops
do, while SparseSegment* sums rows in TF's groups of 8 (float32 for half/bfloat16) — so
float results match TF bit for bit. Bad ids/indices are InvalidArgumentErrors naming the
op and the entry.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.jit import lazy_njit
from orchestrator.ops.math_ops import NARROW_FLOATS, shape_str
from orchestrator.ops.registry import kernel


def _identity(ufunc: np.ufunc, dtype: np.dtype) -> object:
    """Empty unsorted segments hold the lowest/highest *finite* value for Max/Min, as in TF."""
    if ufunc is np.maximum:
        return ml_dtypes.finfo(dtype).min if dtype.kind in "fV" else np.iinfo(dtype).min
    if ufunc is np.minimum:
        return ml_dtypes.finfo(dtype).max if dtype.kind in "fV" else np.iinfo(dtype).max
    return 1 if ufunc is np.multiply else 0


def _check_sorted(op: str, ids: np.ndarray, limit: int | None) -> None:
    if ids.size == 0:
        return
    if np.any(ids[1:] < ids[:-1]):
        raise InvalidArgumentError(f"{op}: segment ids are not increasing")
    if ids[0] < 0:
        raise InvalidArgumentError(f"{op}: Segment id {int(ids[0])} out of range [0, {int(ids[-1]) + 1}), "
                                   "possibly because 'segment_ids' input is not sorted.")
    if limit is not None and ids[-1] >= limit:
        raise InvalidArgumentError(f"{op}: segment ids must be < num_segments "
                                   f"(segment id {int(ids[-1])}, num_segments {limit})")


def _scatter_reduce(ufunc: np.ufunc, rows: np.ndarray, ids: np.ndarray, num: int,
                    default: object) -> np.ndarray:
    """out[ids[i]] = ufunc(out[ids[i]], rows[i]) in order, in the rows' own type (TF adds
    half/bfloat16 rows in that type too); untouched rows hold ``default``."""
    out = np.full((num,) + rows.shape[1:], _identity(ufunc, rows.dtype), rows.dtype)
    with np.errstate(all="ignore"):
        _apply_in_order(ufunc, out, ids, rows)
    if default is not None:
        seen = np.zeros(num, bool)
        seen[ids] = True
        out[~seen] = default
    return out


# Rows per id above which the pass-per-occurrence scheme stops paying off.
_MAX_PASSES = 32


def _apply_in_order(ufunc: np.ufunc, out: np.ndarray, ids: np.ndarray, rows: np.ndarray) -> None:
    """``out[ids[i]] = ufunc(out[ids[i]], rows[i])`` for i in order, as TF's CPU loop does.

    ``ufunc.at`` does exactly that but handles wide rows one at a time. For rows of more
    than one element we instead apply the k-th occurrence of every id in pass k: each pass
    touches distinct ids, so one vectorised fancy-index update per pass keeps the order.
    """
    n = ids.shape[0]
    if rows.ndim == 1 or n < 64 or rows[0].size == 1:
        ufunc.at(out, ids, rows)
        return
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    first = np.empty(n, bool)
    first[0] = True
    np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=first[1:])
    positions = np.arange(n)
    occurrence = positions - np.maximum.accumulate(np.where(first, positions, 0))
    passes = int(occurrence.max()) + 1
    if passes > _MAX_PASSES:
        ufunc.at(out, ids, rows)
        return
    for k in range(passes):
        picked = order[occurrence == k]
        targets = ids[picked]
        out[targets] = ufunc(out[targets], rows[picked])


# ------------------------------------------------------------------ sorted segment ops

def _register_sorted(op: str, ufunc: np.ufunc, mean: bool = False) -> None:
    def segment_kernel(data: np.ndarray, segment_ids: np.ndarray) -> np.ndarray:
        if segment_ids.ndim != 1 or data.ndim == 0 or segment_ids.shape[0] != data.shape[0]:
            raise InvalidArgumentError(f"{op}: segment_ids should be the same size as dimension 0 of "
                                       f"input; found segment_ids {shape_str(segment_ids.shape)}, "
                                       f"data {shape_str(data.shape)}")
        _check_sorted(op, segment_ids, None)
        num = int(segment_ids[-1]) + 1 if segment_ids.size else 0
        out = _scatter_reduce(ufunc, data, segment_ids, num, 1 if ufunc is np.multiply else 0)
        if mean:
            counts = np.bincount(segment_ids, minlength=num).reshape((num,) + (1,) * (data.ndim - 1))
            with np.errstate(all="ignore"):
                out = _divide_rows(out, np.maximum(counts, 1))
        return out

    segment_kernel.__name__ = segment_kernel.__qualname__ = f"{op.lower()}_kernel"
    kernel(op)(segment_kernel)


def _divide_rows(out: np.ndarray, divisor: np.ndarray) -> np.ndarray:
    if out.dtype.kind in "iu":
        return (out // divisor).astype(out.dtype)
    return (out / divisor.astype(np.float32 if out.dtype in NARROW_FLOATS else out.dtype)
            ).astype(out.dtype)


_register_sorted("SegmentSum", np.add)
_register_sorted("SegmentMean", np.add, mean=True)
_register_sorted("SegmentProd", np.multiply)
_register_sorted("SegmentMax", np.maximum)
_register_sorted("SegmentMin", np.minimum)


# ------------------------------------------------------------------ unsorted segment ops

# UnsortedSegmentSum (the gradient of a gather, so of every embedding lookup) on a few
# rows: np.full + np.add.at + errstate cost ~15-30 us a call, one compiled loop ~1 us.
_LOOP_DATA = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64))
_LOOP_IDS = frozenset(np.dtype(t) for t in (np.int32, np.int64))


@lazy_njit
def _unsorted_sum_loop(data, ids, out):
    """out[ids[i]] += data[i] row after row, in order, in the data's type (integers wrap);
    negative ids dropped. -1 when done, else the position of the first id >= the number
    of segments (out is then garbage)."""
    flat_ids = ids.reshape(-1)
    n = flat_ids.size
    num = out.shape[0]
    for i in range(n):
        if flat_ids[i] >= num:
            return i
    rows = data.reshape(n, -1) if n else data.reshape(0, out.shape[1])
    for i in range(n):
        k = flat_ids[i]
        if k >= 0:
            for j in range(out.shape[1]):
                out[k, j] += rows[i, j]
    return -1


def _unsorted_sum_fast(data: np.ndarray, segment_ids: np.ndarray, num: int) -> np.ndarray | None:
    """UnsortedSegmentSum by the compiled loop, or None when it does not apply or an id is
    out of range (the checked path then says which)."""
    if not (type(data) is np.ndarray and type(segment_ids) is np.ndarray and data.dtype in _LOOP_DATA
            and segment_ids.dtype in _LOOP_IDS and num >= 0 and data.flags.c_contiguous
            and segment_ids.flags.c_contiguous and data.shape[:segment_ids.ndim] == segment_ids.shape):
        return None
    tail = data.shape[segment_ids.ndim:]
    inner = 1
    for d in tail:
        inner *= d
    out = np.zeros((num, inner), data.dtype)
    if _unsorted_sum_loop(data, segment_ids, out) >= 0:
        return None
    return out.reshape((num,) + tail)


def _register_unsorted(op: str, ufunc: np.ufunc) -> None:
    def unsorted_kernel(data: np.ndarray, segment_ids: np.ndarray, num_segments: np.ndarray) -> np.ndarray:
        num = int(num_segments)
        if ufunc is np.add:
            out = _unsorted_sum_fast(data, segment_ids, num)
            if out is not None:
                return out
        if data.shape[:segment_ids.ndim] != segment_ids.shape:
            raise InvalidArgumentError(f"{op}: data.shape = {shape_str(data.shape)} does not start with "
                                       f"segment_ids.shape = {shape_str(segment_ids.shape)}")
        ids = segment_ids.reshape(-1)
        rows = data.reshape((ids.size,) + data.shape[segment_ids.ndim:])
        too_big = ids >= num
        if too_big.any():
            bad = int(np.argmax(too_big))
            raise InvalidArgumentError(f"{op}: segment_ids[{bad}] = {int(ids[bad])} is out of range "
                                       f"[0, {num})")
        keep = ids >= 0                      # TF drops rows with negative ids
        if not keep.all():
            ids, rows = ids[keep], rows[keep]
        return _scatter_reduce(ufunc, rows, ids, num, None)

    unsorted_kernel.__name__ = unsorted_kernel.__qualname__ = f"{op.lower()}_kernel"
    kernel(op)(unsorted_kernel)


_register_unsorted("UnsortedSegmentSum", np.add)
_register_unsorted("UnsortedSegmentProd", np.multiply)
_register_unsorted("UnsortedSegmentMax", np.maximum)
_register_unsorted("UnsortedSegmentMin", np.minimum)


# ------------------------------------------------------------------ sparse segment ops

def _check_indices(op: str, indices: np.ndarray, limit: int) -> None:
    bad = (indices < 0) | (indices >= limit)
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidArgumentError(f"{op}: Bad: indices[{i}] == {int(indices[i])} out of range [0, {limit})")


def _scale(kind: str, counts: np.ndarray, dtype: np.dtype) -> np.ndarray | None:
    """Per-segment factor: None for sums, 1/n for means, 1/sqrt(n) for SqrtN (n >= 1)."""
    if kind == "sum":
        return None
    n = np.maximum(counts, 1).astype(np.float64)
    return (1.0 / (n if kind == "mean" else np.sqrt(n))).astype(dtype)


def _sparse_segment(op: str, kind: str, data: np.ndarray, indices: np.ndarray,
                    segment_ids: np.ndarray, num_segments: int | None) -> np.ndarray:
    if indices.ndim != 1 or segment_ids.shape != indices.shape:
        raise InvalidArgumentError(f"{op}: indices and segment_ids must be vectors of the same length, "
                                   f"found {shape_str(indices.shape)} and {shape_str(segment_ids.shape)}")
    _check_sorted(op, segment_ids, num_segments)
    _check_indices(op, indices, data.shape[0])
    num = num_segments if num_segments is not None else (int(segment_ids[-1]) + 1 if segment_ids.size else 0)
    # TF casts half/bfloat16 rows to float32 and rounds each segment's result once.
    work = data.astype(np.float32) if data.dtype in NARROW_FLOATS else data
    out = np.zeros((num,) + data.shape[1:], work.dtype)
    if segment_ids.size:
        _sum_segments_like_tf(kind, work[indices], segment_ids, out)
    return out.astype(data.dtype, copy=False)


def _sum_segments_like_tf(kind: str, rows: np.ndarray, ids: np.ndarray, out: np.ndarray) -> None:
    """TF's CPU order for a segment of n rows: the first h rows (h = n % 8, or 8/9 when that
    is 0/1; 1 when n == 1) summed left to right and scaled (Mean/SqrtN with n < 10), then
    each further 8 rows summed left to right and added; n >= 10 divides at the end.

    Vectorised by passes: pass j adds the j-th row of every group at once (distinct
    groups), then pass g adds every segment's g-th group sum."""
    n_rows = ids.shape[0]
    first = np.empty(n_rows, bool)
    first[0] = True
    np.not_equal(ids[1:], ids[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, n_rows))
    seg_of_row = np.cumsum(first) - 1                    # 0..S-1: the segment of each row
    pos = np.arange(n_rows) - starts[seg_of_row]         # rank within the segment
    n = counts[seg_of_row]
    head = np.where(n == 1, 1, np.where((n & 7) < 2, (n & 7) + 8, n & 7))
    in_head = pos < head
    group_in_seg = np.where(in_head, 0, 1 + (pos - head) // 8)
    slot = np.where(in_head, pos, (pos - head) % 8)
    groups_per_seg = np.where(counts == 1, 1, 1 + np.maximum(counts - np.take(head, starts), 0) // 8)
    group_base = np.concatenate(([0], np.cumsum(groups_per_seg)[:-1]))
    group = group_base[seg_of_row] + group_in_seg
    sums = np.empty((int(groups_per_seg.sum()),) + rows.shape[1:], rows.dtype)
    for j in range(int(slot.max()) + 1):
        pick = slot == j
        if j == 0:
            sums[group[pick]] = rows[pick]
        else:
            sums[group[pick]] += rows[pick]
    dtype = rows.dtype
    total = sums[group_base]
    if kind != "sum":
        small = counts < 10
        one = np.ones((), dtype)
        root = np.sqrt(counts.astype(np.float64)) if kind == "sqrtn" else counts
        factor = np.where(small, one / root.astype(dtype), one).astype(dtype)
        total = total * factor.reshape((-1,) + (1,) * (rows.ndim - 1))
    for g in range(1, int(groups_per_seg.max())):
        has = groups_per_seg > g
        total[has] += sums[group_base[has] + g]
    if kind != "sum":
        big = counts >= 10
        if big.any():
            root = np.sqrt(counts[big].astype(np.float64)) if kind == "sqrtn" else counts[big]
            total[big] = total[big] / root.astype(dtype).reshape((-1,) + (1,) * (rows.ndim - 1))
    out[ids[starts]] = total


def _register_sparse(base: str, kind: str) -> None:
    def sparse_kernel(data: np.ndarray, indices: np.ndarray, segment_ids: np.ndarray) -> np.ndarray:
        return _sparse_segment(base, kind, data, indices, segment_ids, None)

    def sparse_num_kernel(data: np.ndarray, indices: np.ndarray, segment_ids: np.ndarray,
                          num_segments: np.ndarray) -> np.ndarray:
        return _sparse_segment(base + "WithNumSegments", kind, data, indices, segment_ids, int(num_segments))

    def grad_kernel(grad: np.ndarray, indices: np.ndarray, segment_ids: np.ndarray,
                    output_dim0: np.ndarray) -> np.ndarray:
        return _sparse_grad(base + "Grad", kind, grad, indices, segment_ids, int(output_dim0))

    def grad_v2_kernel(grad: np.ndarray, indices: np.ndarray, segment_ids: np.ndarray,
                       dense_output_dim0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The gradient only at the rows that were looked up: (values, sorted unique indices)."""
        op = base + "GradV2"
        unique, position = np.unique(indices, return_inverse=True)
        values = _sparse_grad(op, kind, grad, position.astype(indices.dtype), segment_ids, unique.size,
                              check_against=int(dense_output_dim0), original=indices)
        return values, unique.astype(indices.dtype)

    for fn, suffix, multi in ((sparse_kernel, "", False), (sparse_num_kernel, "WithNumSegments", False),
                              (grad_kernel, "Grad", False), (grad_v2_kernel, "GradV2", True)):
        fn.__name__ = fn.__qualname__ = f"{(base + suffix).lower()}_kernel"
        kernel(base + suffix, multi=multi)(fn)


def _sparse_grad(op: str, kind: str, grad: np.ndarray, indices: np.ndarray, segment_ids: np.ndarray,
                 output_dim0: int, check_against: int | None = None,
                 original: np.ndarray | None = None) -> np.ndarray:
    """out[indices[i]] += grad[segment_ids[i]] * scale(segment_ids[i])."""
    if indices.ndim != 1 or segment_ids.shape != indices.shape:
        raise InvalidArgumentError(f"{op}: indices and segment_ids must be vectors of the same length, "
                                   f"found {shape_str(indices.shape)} and {shape_str(segment_ids.shape)}")
    limit = output_dim0 if check_against is None else check_against
    checked = indices if original is None else original
    bad = (checked < 0) | (checked >= limit)
    if bad.any():
        raise InvalidArgumentError(f"{op}: Index {int(checked[int(np.argmax(bad))])} out of range [0, {limit}).")
    num_segments = grad.shape[0]
    if segment_ids.size and (segment_ids.min() < 0 or segment_ids.max() >= num_segments):
        raise InvalidArgumentError(f"{op}: Invalid number of segments: segment ids must be in "
                                   f"[0, {num_segments}) (grad has {num_segments} rows)")
    rows = grad[segment_ids]
    scale = _scale(kind, np.bincount(segment_ids, minlength=num_segments), grad.dtype)
    if scale is not None:
        rows = rows * scale[segment_ids].reshape((-1,) + (1,) * (grad.ndim - 1))
    return _scatter_reduce(np.add, rows, indices, output_dim0, None)


_register_sparse("SparseSegmentSum", "sum")
_register_sparse("SparseSegmentMean", "mean")
_register_sparse("SparseSegmentSqrtN", "sqrtn")


# ------------------------------------------------------------------ bincount

def _bincount(op: str, values: np.ndarray, size: int, weights: np.ndarray, binary: bool) -> np.ndarray:
    """Counts (or weight sums) of each value in [0, size) along the last axis; values >= size
    are ignored, negative ones are an error. With no weights the output has the weights' type."""
    if size < 0:
        raise InvalidArgumentError(f"{op}: size ({size}) must be non-negative")
    if values.size and values.min() < 0:
        raise InvalidArgumentError(f"{op}: Input arr must be non-negative! (found {int(values.min())})")
    use_weights = weights.size > 0 and not binary
    if use_weights and weights.shape != values.shape:
        raise InvalidArgumentError(f"{op}: weights shape {shape_str(weights.shape)} must be empty or "
                                   f"equal to the input shape {shape_str(values.shape)}")
    rows = values.reshape(-1, values.shape[-1]) if values.ndim > 1 else values.reshape(1, -1)
    out = np.zeros((rows.shape[0], size), weights.dtype)
    row_index = np.broadcast_to(np.arange(rows.shape[0])[:, None], rows.shape)
    keep = rows < size
    if binary:
        out[row_index[keep], rows[keep]] = 1
    else:
        add = weights.reshape(rows.shape)[keep] if use_weights else np.ones((), weights.dtype)
        np.add.at(out, (row_index[keep], rows[keep]), add)
    return out if values.ndim > 1 else out.reshape(size)


@kernel("Bincount")
def bincount(arr: np.ndarray, size: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return _bincount("Bincount", arr.reshape(-1), int(size), weights.reshape(-1) if weights.size else weights,
                     binary=False)


@kernel("DenseBincount")
def dense_bincount(input: np.ndarray, size: np.ndarray, weights: np.ndarray, *,  # noqa: A002
                   binary_output: bool = False) -> np.ndarray:
    if input.ndim > 2:
        raise InvalidArgumentError(f"DenseBincount: input must be 1-D or 2-D, found {shape_str(input.shape)}")
    return _bincount("DenseBincount", input, int(size), weights, binary=binary_output)
