"""float32/float64 sums and products in the exact order of TF's CPU reductions, so results
match TF bit for bit.

TF first simplifies the shape: size-1 dimensions are dropped and neighbouring dimensions
that are both reduced (or both kept) are merged. Then, with R = reduced, K = kept:

* ``R`` (everything) and ``K R``: Eigen's inner-most reducer on each row (below);
* ``R K`` and ``K R K``: one element after another along the reduced dimension;
* ``R K R``: per output, one element after another with the *last* reduced dimension
  outermost;
* anything longer: transposed to kept-then-reduced and reduced as ``K R``.

The inner-most reducer, fitted against TF 2.21 on lengths 1..20000 (1-D and rows):

* a row of n <= 1024 packets (P = 8 floats / 4 doubles per packet) is a *leaf*:
  - blocks of 4 packets go round-robin into 4 packet accumulators, which are then
    combined as ((a0 + a1) + a2) + a3;
  - the remaining whole packets are added to that one by one;
  - the packet is folded in halves (lanes i and i + P/2, then again) to one value;
  - the last n % P elements are summed one by one into a scalar, added last;
* a longer row is split in two at the first packet boundary (counted from the start of
  the whole tensor, not the row) past its middle, each half reduced the same way, and the
  halves combined left then right.

Large 1-D full reductions may be split over threads in TF depending on the core count;
that case is not reproducible across machines anyway.
"""
from __future__ import annotations

import functools

import numpy as np

from orchestrator.ops.jit import lazy_njit

_PACKET = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}
_LEAF_PACKETS = 1024
_UNROLL = 4


def simplify(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[list[int], bool]:
    """TF's ReductionHelper: (merged dimension sizes, whether the first one is reduced)."""
    reduced = set(axes)
    dims: list[int] = []
    labels: list[bool] = []
    for i, d in enumerate(shape):
        if d == 1:
            continue
        label = i in reduced
        if labels and labels[-1] == label:
            dims[-1] *= d
        else:
            dims.append(d)
            labels.append(label)
    return dims, bool(labels and labels[0])


def tf_order_reduce(ufunc: np.ufunc, x: np.ndarray, axes: tuple[int, ...], keep: bool) -> np.ndarray | None:
    """``ufunc`` (np.add or np.multiply) over ``axes`` in TF's order, or None for dtypes
    whose order does not matter or is not modelled (integers, half types) and empty input."""
    packet = _PACKET.get(x.dtype)
    if packet is None or x.size == 0:
        return None
    dims, reduce_first, mode, out_shape = _plan(x.shape, axes, keep)
    flat = np.ascontiguousarray(x).reshape(dims)
    if mode == "copy":
        result = flat.copy()                              # only size-1 dimensions reduced
    elif mode == "row":
        result = _reduce_rows(ufunc, flat.reshape(1, -1), packet, 0)
    elif mode == "rows":
        result = _reduce_rows(ufunc, flat, packet, 0)
    elif mode == "first":
        result = ufunc.reduce(flat, axis=0)
    elif mode == "outer":
        # Last reduced dimension outermost: lay the reduced elements out in that order as
        # rows and add row after row (numpy's reduction over axis 0 is sequential).
        result = ufunc.reduce(flat.transpose(2, 0, 1).reshape(-1, dims[1]), axis=0)
    elif mode == "middle":
        result = ufunc.reduce(flat, axis=1)
    else:
        ndims = len(dims)
        kept = [i for i in range(ndims) if (i % 2 == 0) != reduce_first]
        gone = [i for i in range(ndims) if (i % 2 == 0) == reduce_first]
        moved = np.ascontiguousarray(flat.transpose(kept + gone))
        result = _reduce_rows(ufunc, moved.reshape(int(np.prod([dims[i] for i in kept])), -1), packet, 0)
    return result.reshape(out_shape)


@functools.lru_cache(maxsize=1024)
def _plan(shape: tuple[int, ...], axes: tuple[int, ...], keep: bool) -> tuple[list[int], bool, str, tuple]:
    """(merged dims, first reduced?, how to reduce, output shape): a pure function of the
    shapes, worked out once per signature."""
    dims, reduce_first = simplify(shape, axes)
    ndims = len(dims)
    if ndims == 0 or (ndims == 1 and not reduce_first):
        mode = "copy"
    elif ndims == 1:
        mode = "row"
    elif ndims == 2:
        mode = "first" if reduce_first else "rows"
    elif ndims == 3:
        mode = "outer" if reduce_first else "middle"
    else:
        mode = "transpose"
    out_shape = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i not in axes)
    return dims, reduce_first, mode, out_shape


def _reduce_rows(ufunc: np.ufunc, rows: np.ndarray, packet: int, first: int) -> np.ndarray:
    """Reduce each row; ``first`` is the flat offset of column 0 of row 0 (split points are
    aligned to packets of the whole tensor)."""
    m, n = rows.shape
    if n <= packet * _LEAF_PACKETS:
        return _leaf(ufunc, rows, packet)
    row_starts = first + n * np.arange(m)
    if n % packet == 0 and first % packet == 0:
        # Every row starts on a packet boundary: one split point for all rows.
        split = _split_point(first, n, packet)
        return _combine(ufunc, _reduce_rows(ufunc, rows[:, :split], packet, first),
                        _reduce_rows(ufunc, rows[:, split:], packet, first + split), rows.dtype)
    out = np.empty(m, rows.dtype)
    for i, start in enumerate(row_starts.tolist()):
        split = _split_point(start, n, packet)
        left = _reduce_rows(ufunc, rows[i:i + 1, :split], packet, start)
        right = _reduce_rows(ufunc, rows[i:i + 1, split:], packet, start + split)
        out[i] = _combine(ufunc, left, right, rows.dtype)[0]
    return out


def _split_point(start: int, n: int, packet: int) -> int:
    middle = start + (n + 1) // 2
    return min(packet * (-(-middle // packet)) - start, n)


def _combine(ufunc: np.ufunc, left: np.ndarray, right: np.ndarray, dtype: np.dtype) -> np.ndarray:
    # The reducer starts from its identity and takes the left half, then the right one.
    identity = np.asarray(0 if ufunc is np.add else 1, dtype)
    return ufunc(ufunc(identity, left), right)


@lazy_njit
def leaf_rows_loop(rows: np.ndarray, packet: int, product: bool, out: np.ndarray) -> None:
    """Eigen's inner-most reducer on each row of ``rows`` (at most 1024 packets long), as the
    module docstring describes it, one rounded step at a time in the rows' type."""
    m, n = rows.shape
    whole = n // packet * packet
    unrolled = n // (_UNROLL * packet) * (_UNROLL * packet)
    lanes = np.empty((_UNROLL, packet), rows.dtype)
    for r in range(m):
        row = rows[r]
        tail = row[whole] if n > whole else row[0]
        for i in range(whole + 1, n):           # the scalar tail, one element after another
            tail = tail * row[i] if product else tail + row[i]
        if whole == 0:
            out[r] = tail
            continue
        if unrolled:
            # Blocks of 4 packets round-robin into 4 accumulators, block after block ...
            for k in range(_UNROLL):
                for j in range(packet):
                    lanes[k, j] = row[k * packet + j]
            for b in range(_UNROLL * packet, unrolled, _UNROLL * packet):
                for k in range(_UNROLL):
                    for j in range(packet):
                        v = row[b + k * packet + j]
                        lanes[k, j] = lanes[k, j] * v if product else lanes[k, j] + v
            # ... then combined as ((a0 + a1) + a2) + a3.
            for j in range(packet):
                a = lanes[0, j]
                for k in range(1, _UNROLL):
                    a = a * lanes[k, j] if product else a + lanes[k, j]
                lanes[0, j] = a
            start = unrolled
        else:
            for j in range(packet):
                lanes[0, j] = row[j]
            start = packet
        for b in range(start, whole, packet):    # the remaining whole packets one by one
            for j in range(packet):
                v = row[b + j]
                lanes[0, j] = lanes[0, j] * v if product else lanes[0, j] + v
        width = packet
        while width > 1:                         # fold the packet in halves
            width //= 2
            for j in range(width):
                v = lanes[0, j + width]
                lanes[0, j] = lanes[0, j] * v if product else lanes[0, j] + v
        total = lanes[0, 0]
        if n > whole:                            # the scalar tail goes first
            total = tail * total if product else tail + total
        out[r] = total


def _leaf(ufunc: np.ufunc, rows: np.ndarray, packet: int) -> np.ndarray:
    out = np.empty(rows.shape[0], rows.dtype)
    leaf_rows_loop(np.ascontiguousarray(rows), packet, ufunc is np.multiply, out)
    return out
