"""Indexing kernels: Gather/GatherV2 (axis, batch_dims), GatherNd, ScatterNd,
TensorScatter{Update,Add,Sub,Max,Min}, SparseToDense, OneHot, Where.

Indices are bounds-checked up front, as TF's CPU kernels do, and a bad one is named in
TF's words (``indices[1,0] = 5 is not in [0, 3)``). Scatter kernels reduce duplicate
indices element by element (``np.add.at`` and friends); updates apply in index order,
so with TensorScatterUpdate the last duplicate wins, as on TF's CPU.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.array_util import (first_bad, index_str, indices_in_range, int_scalar, int_vector,
                                         shape_str, zeros)
from orchestrator.ops.registry import kernel


# ------------------------------------------------------------------------ gather

def _check_gather_indices(op: str, indices: np.ndarray, limit: int) -> None:
    if not indices_in_range(indices, limit):
        bad = first_bad((indices < 0) | (indices >= limit))
        raise InvalidArgumentError(f"{op}: indices{index_str(indices.shape, bad)} = "
                                   f"{int(indices.reshape(-1)[bad])} is not in [0, {limit})")


def gather(op: str, params: np.ndarray, indices: np.ndarray, axis: int, batch_dims: int) -> np.ndarray:
    """``params`` gathered along ``axis`` by ``indices``, the first ``batch_dims`` dims shared."""
    params, indices = np.asarray(params), np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise InvalidArgumentError(f"{op}: indices must be int32 or int64, found {indices.dtype}")
    if not -params.ndim <= axis < max(params.ndim, 1):
        raise InvalidArgumentError(f"{op}: Expected axis in the range [{-params.ndim}, "
                                   f"{params.ndim}), but got {axis}")
    if params.ndim == 0:
        raise InvalidArgumentError(f"{op}: params must be at least 1 dimensional")
    axis %= params.ndim
    if batch_dims < 0:
        batch_dims += indices.ndim
    if not 0 <= batch_dims <= indices.ndim or batch_dims >= params.ndim:
        raise InvalidArgumentError(f"{op}: batch_dims must be in [0, rank(indices) = {indices.ndim}] "
                                   f"and less than rank(params) = {params.ndim}, got {batch_dims}")
    if batch_dims > axis:
        raise InvalidArgumentError(f"{op}: batch_dims ({batch_dims}) must be less than or equal to "
                                   f"axis ({axis}).")
    for d in range(batch_dims):
        if params.shape[d] != indices.shape[d]:
            raise InvalidArgumentError(f"{op}: params.shape[{d}]: {params.shape[d]} should be equal "
                                       f"to indices.shape[{d}]: {indices.shape[d]}")
    limit = params.shape[axis]
    _check_gather_indices(op, indices, limit)
    if batch_dims == 0:
        return params.take(indices, axis=axis)
    batch = params.shape[:batch_dims]
    n_batch = math.prod(batch)
    outer = params.shape[batch_dims:axis]
    inner = params.shape[axis + 1:]
    p = params.reshape((n_batch, math.prod(outer), limit, math.prod(inner)))
    ix = indices.reshape((n_batch, -1))
    picked = p.transpose(0, 2, 1, 3)[np.arange(n_batch)[:, None], ix]   # (B, K, outer, inner)
    out = picked.transpose(0, 2, 1, 3)
    return np.ascontiguousarray(out).reshape(batch + outer + indices.shape[batch_dims:] + inner)


@kernel("Gather")
def gather_v1(params: np.ndarray, indices: np.ndarray, *, validate_indices: bool = True) -> np.ndarray:
    return gather("Gather", params, indices, 0, 0)


@kernel("GatherV2")
def gather_v2(params: np.ndarray, indices: np.ndarray, axis: Any, *, batch_dims: int = 0) -> np.ndarray:
    return gather("GatherV2", params, indices, int_scalar("GatherV2", "axis", axis), batch_dims)


def _flat_nd_positions(op: str, indices: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    """Row-major positions into ``shape[:depth]`` of the index tuples in ``indices[..., depth]``."""
    depth = indices.shape[-1]
    if depth > len(shape):
        raise InvalidArgumentError(f"{op}: index innermost dimension length must be <= {what} rank; "
                                   f"saw: {depth} vs. {len(shape)}")
    tuples = indices.reshape(-1, depth)
    limits = np.array(shape[:depth], dtype=np.int64)
    bad_rows = ((tuples < 0) | (tuples >= limits)).any(axis=1)
    if bad_rows.any():
        row = int(np.flatnonzero(bad_rows)[0])
        values = ", ".join(str(int(v)) for v in tuples[row])
        where = index_str(indices.shape[:-1], row)
        if op == "GatherNd":
            raise InvalidArgumentError(f"GatherNd: indices{where} = [{values}] does not index into "
                                       f"param shape {shape_str(shape)}")
        raise InvalidArgumentError(f"{op}: indices{where} = [{values}] does not index into shape "
                                   f"{shape_str(shape)}")
    if depth == 0:
        return np.zeros(tuples.shape[0], np.int64)
    return np.ravel_multi_index(tuple(tuples.T), shape[:depth])


@kernel("GatherNd")
def gather_nd(params: np.ndarray, indices: np.ndarray) -> np.ndarray:
    params, indices = np.asarray(params), np.asarray(indices)
    if indices.ndim == 0:
        raise InvalidArgumentError("GatherNd: indices must be at least a vector")
    depth = indices.shape[-1]
    batch = indices.shape[:-1]
    if params.size == 0 and math.prod(batch) and depth:
        raise InvalidArgumentError("GatherNd: Requested more than 0 entries, but params is empty.")
    flat = _flat_nd_positions("GatherNd", indices, params.shape, "params")
    slice_shape = params.shape[depth:]
    rows = params.reshape((math.prod(params.shape[:depth]),) + slice_shape)
    return rows[flat].reshape(batch + slice_shape)


# ----------------------------------------------------------------------- scatter

def _scatter_target(op: str, shape: tuple[int, ...], indices: np.ndarray, updates: np.ndarray
                    ) -> tuple[np.ndarray, int, tuple[int, ...]]:
    """Validated flat positions, the number of rows addressed, and each update's slice shape."""
    if indices.ndim == 0:
        raise InvalidArgumentError(f"{op}: indices must be at least a vector")
    depth = indices.shape[-1]
    if depth > len(shape):
        raise InvalidArgumentError(f"{op}: index innermost dimension length must be <= shape rank; "
                                   f"saw: {depth} vs. {len(shape)}")
    expected = indices.shape[:-1] + tuple(shape[depth:])
    if updates.shape != expected:
        raise InvalidArgumentError(
            f"{op}: updates shape {shape_str(updates.shape)} must equal indices.shape[:-1] + "
            f"shape[indices.shape[-1]:] = {shape_str(expected)} (indices shape "
            f"{shape_str(indices.shape)}, shape {shape_str(shape)})")
    flat = _flat_nd_positions(op, indices, tuple(shape), "shape")
    return flat, math.prod(shape[:depth]), tuple(shape[depth:])


@kernel("ScatterNd")
def scatter_nd(indices: np.ndarray, updates: np.ndarray, shape: Any) -> np.ndarray:
    """Zeros of ``shape`` with ``updates`` summed in at ``indices`` (duplicates add up)."""
    indices, updates = np.asarray(indices), np.asarray(updates)
    out_shape = tuple(int_vector("ScatterNd", "shape", shape))
    if any(d < 0 for d in out_shape):
        raise InvalidArgumentError(f"ScatterNd: shape must not have negative dimensions, found "
                                   f"{shape_str(out_shape)}")
    flat, rows, slice_shape = _scatter_target("ScatterNd", out_shape, indices, updates)
    out = zeros((rows,) + slice_shape, updates.dtype)
    _reduce_at("ScatterNd", np.add, out, flat, updates.reshape((-1,) + slice_shape))
    return out.reshape(out_shape)


def _reduce_at(op: str, ufunc: Any, out: np.ndarray, flat: np.ndarray, values: np.ndarray) -> None:
    if out.dtype == np.bool_ and ufunc is np.add:
        ufunc = np.logical_or
    if out.dtype == object:
        raise InvalidArgumentError(f"{op}: not defined for string tensors")
    ordered = np.sort(flat)
    if not (ordered[1:] == ordered[:-1]).any():
        # No duplicates: one vectorised read-modify-write (ufunc.at is slow on rows).
        out[flat] = ufunc(out[flat], values)
    else:
        ufunc.at(out, flat, values)


def _tensor_scatter(op: str, ufunc: Any, tensor: Any, indices: Any, updates: Any) -> np.ndarray:
    tensor, indices, updates = np.asarray(tensor), np.asarray(indices), np.asarray(updates)
    if updates.dtype != tensor.dtype:
        raise InvalidArgumentError(f"{op}: updates dtype {updates.dtype} does not match tensor "
                                   f"dtype {tensor.dtype}")
    flat, rows, slice_shape = _scatter_target(op, tensor.shape, indices, updates)
    out = tensor.reshape((rows,) + slice_shape).copy()
    values = updates.reshape((-1,) + slice_shape)
    if ufunc is None:
        out[flat] = values   # sequential assignment: the last duplicate wins
    else:
        _reduce_at(op, ufunc, out, flat, values)
    return out.reshape(tensor.shape)


def _register_tensor_scatter(op: str, ufunc: Any) -> None:
    @kernel(op)
    def tensor_scatter(tensor: np.ndarray, indices: np.ndarray, updates: np.ndarray) -> np.ndarray:
        return _tensor_scatter(op, ufunc, tensor, indices, updates)

    tensor_scatter.__name__ = tensor_scatter.__qualname__ = f"scatter_{op.lower()}"


for _op, _ufunc in (("TensorScatterUpdate", None), ("TensorScatterAdd", np.add),
                    ("ScatterNdNonAliasingAdd", np.add),
                    ("TensorScatterSub", np.subtract), ("TensorScatterMax", np.maximum),
                    ("TensorScatterMin", np.minimum)):
    _register_tensor_scatter(_op, _ufunc)


@kernel("SparseToDense")
def sparse_to_dense(sparse_indices: np.ndarray, output_shape: Any, sparse_values: np.ndarray,
                    default_value: np.ndarray, *, validate_indices: bool = True) -> np.ndarray:
    """``default_value`` everywhere but at ``sparse_indices`` (rows of coordinates, or positions
    of a vector). With ``validate_indices`` the rows must be sorted and unique, as in TF."""
    op = "SparseToDense"
    indices = np.asarray(sparse_indices)
    values, default = np.asarray(sparse_values), np.asarray(default_value)
    shape_ = tuple(int_vector(op, "output_shape", output_shape))
    if indices.ndim > 2:
        raise InvalidArgumentError(f"{op}: sparse_indices should be a scalar, vector, or matrix, got "
                                   f"shape {shape_str(indices.shape)}")
    rows = indices.reshape(-1, 1) if indices.ndim < 2 else indices
    if rows.shape[1] != len(shape_):
        raise InvalidArgumentError(f"{op}: sparse_indices rows have {rows.shape[1]} coordinates, "
                                   f"output_shape has rank {len(shape_)}")
    n = rows.shape[0]
    if values.ndim > 1 or (values.ndim == 1 and values.size != n):
        raise InvalidArgumentError(f"{op}: sparse_values has incorrect shape {shape_str(values.shape)}, "
                                   f"should be [] or [{n}]")
    if default.ndim != 0:
        raise InvalidArgumentError(f"{op}: default_value should be a scalar, got shape "
                                   f"{shape_str(default.shape)}")
    out_of_bounds = ((rows < 0) | (rows >= np.array(shape_, dtype=np.int64))).any(axis=1)
    if validate_indices and n:
        flat = np.ravel_multi_index(tuple(np.clip(rows, 0, np.array(shape_) - 1).T), shape_) \
            if all(shape_) else np.zeros(n, np.int64)
        step = np.diff(flat)
        bad = out_of_bounds.copy()
        bad[1:] |= step <= 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            where = f"indices[{i}] = [{','.join(str(int(v)) for v in rows[i])}]"
            if out_of_bounds[i]:
                raise InvalidArgumentError(f"{op}: {where} is out of bounds: need 0 <= index < "
                                           f"{shape_str(shape_)}")
            if step[i - 1] == 0:
                raise InvalidArgumentError(f"{op}: {where} is repeated")
            raise InvalidArgumentError(f"{op}: {where} is out of order. Many sparse ops require "
                                       f"sorted indices.")
    if out_of_bounds.any():
        raise InvalidArgumentError(f"{op}: Indices are not valid (out of bounds).  Shape: "
                                   f"{shape_str(shape_)}")
    out = np.full(shape_, default, dtype=values.dtype)
    if n:
        out[tuple(rows.T)] = values   # sequential: a repeated index keeps the last value
    return out


# -------------------------------------------------------------- one-hot / where

@kernel("OneHot")
def one_hot(indices: np.ndarray, depth: Any, on_value: Any, off_value: Any, *,
            axis: int = -1) -> np.ndarray:
    """Indices outside [0, depth) — negative ones included — give an all-off row."""
    indices = np.asarray(indices)
    n = int_scalar("OneHot", "depth", depth)
    if n < 0:
        raise InvalidArgumentError(f"OneHot: depth must be non-negative, got: {n}")
    if not -1 <= axis <= indices.ndim:
        raise InvalidArgumentError(f"OneHot: Expected axis to be -1 or between [0, "
                                   f"{indices.ndim + 1}).  But received: {axis}")
    on, off = np.asarray(on_value), np.asarray(off_value)
    if on.ndim or off.ndim:
        raise InvalidArgumentError(f"OneHot: on_value and off_value must be scalars, found shapes "
                                   f"{shape_str(on.shape)} and {shape_str(off.shape)}")
    hot = indices[..., None] == np.arange(n)   # int64 positions: a uint8 index may meet depth > 255
    out = np.where(hot, on, off).astype(on.dtype, copy=False)
    if axis != -1 and axis != indices.ndim:
        out = np.ascontiguousarray(np.moveaxis(out, -1, axis))
    return out


@kernel("Where")
def where(x: np.ndarray) -> np.ndarray:
    """Coordinates (int64, one row per true/non-zero element, row-major order)."""
    x = np.asarray(x)
    if x.dtype == object:
        raise InvalidArgumentError("Where: not defined for string tensors")
    if x.ndim == 0:
        raise InvalidArgumentError("Where: WhereOp : Unhandled input dimensions: 0")
    return np.argwhere(x).astype(np.int64, copy=False)
