"""Diagonal and band kernels: MatrixBandPart, Diag/DiagPart, and the batched matrix
diagonal family MatrixDiag/MatrixDiagPart/MatrixSetDiag (V1 main diagonal; V2/V3 with a
band of diagonals ``k = [lower, upper]`` and V3's ``align``).

A band of diagonals is stored as ``[..., num_diags, max_diag_len]``, the highest diagonal
first. Diagonals shorter than ``max_diag_len`` are aligned left or right — V3's ``align``
names the rule for superdiagonals then subdiagonals (``RIGHT_LEFT`` by default); V2 is
``LEFT_LEFT``. Every kernel maps (diagonal row, position) ↔ (matrix row, column) once,
vectorised over the whole band.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.array_util import int_scalar, int_vector, shape_str, zeros
from orchestrator.ops.registry import kernel


# ------------------------------------------------------------------- band and diag

@kernel("MatrixBandPart")
def matrix_band_part(x: np.ndarray, num_lower: Any, num_upper: Any) -> np.ndarray:
    """Keeps ``-num_lower <= col - row <= num_upper`` (a negative bound keeps that whole side)."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise InvalidArgumentError(f"MatrixBandPart: input must be at least 2-dim, received shape: "
                                   f"{shape_str(x.shape)}")
    rows, cols = x.shape[-2:]
    lower = int_scalar("MatrixBandPart", "num_lower", num_lower)
    upper = int_scalar("MatrixBandPart", "num_upper", num_upper)
    if lower > rows:
        raise InvalidArgumentError(f"MatrixBandPart: num_lower must be negative or less or equal to "
                                   f"number of rows ({rows}) got: {lower}")
    if upper > cols:
        raise InvalidArgumentError(f"MatrixBandPart: num_upper must be negative or less or equal to "
                                   f"number of columns ({cols}) got: {upper}")
    offset = np.arange(cols)[None, :] - np.arange(rows)[:, None]
    keep = np.ones((rows, cols), dtype=bool)
    if lower >= 0:
        keep &= offset >= -lower
    if upper >= 0:
        keep &= offset <= upper
    if keep.all():
        return x
    return np.where(keep, x, zeros((), x.dtype))


@kernel("Diag")
def diag(x: np.ndarray) -> np.ndarray:
    """Rank k → rank 2k: ``out[i..., i...] = x[i...]``, zeros elsewhere."""
    x = np.asarray(x)
    if x.ndim == 0:
        raise InvalidArgumentError("Diag: Input must be at least rank 1, got 0")
    n = x.size
    out = zeros((n, n), x.dtype)
    out[np.arange(n), np.arange(n)] = x.reshape(-1)
    return out.reshape(x.shape + x.shape)


@kernel("DiagPart")
def diag_part(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 0 or x.ndim % 2:
        raise InvalidArgumentError(f"DiagPart: The rank of the tensor should be even and positive, "
                                   f"got shape {shape_str(x.shape)}")
    k = x.ndim // 2
    for i in range(k):
        if x.shape[i] != x.shape[i + k]:
            raise InvalidArgumentError(f"DiagPart: Invalid shape {shape_str(x.shape)}: dimensions "
                                       f"{i} and {i + k} do not match.")
    n = math.prod(x.shape[:k])
    return np.ascontiguousarray(x.reshape(n, n).diagonal()).reshape(x.shape[:k])


# ------------------------------------------------------------ diagonal band maps

def _diag_range(op: str, k: Any) -> tuple[int, int]:
    ks = int_vector(op, "k", k)
    if not 1 <= len(ks) <= 2:
        raise InvalidArgumentError(f"{op}: diag_index must have only one or two elements, received "
                                   f"{len(ks)} elements.")
    lower, upper = ks[0], ks[-1]
    if lower > upper:
        raise InvalidArgumentError(f"{op}: lower_diag_index must not be larger than upper_diag_index: "
                                   f"{lower} > {upper}")
    return lower, upper


def _band_positions(rows: int, cols: int, lower: int, upper: int, max_len: int, align: bytes
                    ) -> tuple[np.ndarray, ...]:
    """For every (diagonal row r, position p) of the stored band that holds a matrix element:
    (r, p, matrix row, matrix column)."""
    if align not in (b"LEFT_LEFT", b"LEFT_RIGHT", b"RIGHT_LEFT", b"RIGHT_RIGHT"):
        raise InvalidArgumentError(f"align must be LEFT_LEFT, LEFT_RIGHT, RIGHT_LEFT or RIGHT_RIGHT, "
                                   f"found {align!r}")
    super_right, sub_right = align.startswith(b"RIGHT"), align.endswith(b"RIGHT")
    d = np.arange(upper, lower - 1, -1)[:, None]                    # diagonal of each stored row
    length = np.minimum(rows + np.minimum(0, d), cols - np.maximum(0, d))
    right = np.where(d >= 0, super_right, sub_right)
    p = np.arange(max_len)[None, :]
    idx = p - np.where(right, max_len - length, 0)                  # position along the diagonal
    valid = (idx >= 0) & (idx < length)
    r_all, p_all = np.nonzero(valid)
    d_all, i_all = d[r_all, 0], idx[r_all, p_all]
    row = np.where(d_all >= 0, i_all, i_all - d_all)
    col = np.where(d_all >= 0, i_all + d_all, i_all)
    return r_all, p_all, row, col


def _matrix_diag(op: str, diagonal: Any, k: Any, num_rows: Any, num_cols: Any, padding: Any,
                 align: bytes) -> np.ndarray:
    diagonal = np.asarray(diagonal)
    lower, upper = _diag_range(op, k)
    single = lower == upper
    if diagonal.ndim < (1 if single else 2):
        raise InvalidArgumentError(f"{op}: diagonal must be at least {1 if single else 2}-dim, "
                                   f"received shape: {shape_str(diagonal.shape)}")
    band = diagonal[..., None, :] if single else diagonal
    if band.shape[-2] != upper - lower + 1:
        raise InvalidArgumentError(
            f"{op}: The number of diagonals provided in the input does not match the lower_diag_index "
            f"and upper_diag_index range.")
    max_len = band.shape[-1]
    min_rows, min_cols = max_len - min(upper, 0), max_len + max(lower, 0)
    rows, cols = int_scalar(op, "num_rows", num_rows), int_scalar(op, "num_cols", num_cols)
    if rows == -1 and cols == -1:
        rows = cols = max(min_rows, min_cols)
    elif rows == -1:
        rows = min_rows
    elif cols == -1:
        cols = min_cols
    if rows < min_rows or cols < min_cols or (rows != min_rows and cols != min_cols):
        raise InvalidArgumentError(f"{op}: The number of rows or columns is not consistent with the "
                                   f"specified d_lower, d_upper, and diagonal.")
    fill = np.asarray(padding, dtype=diagonal.dtype).reshape(())
    out = np.full(band.shape[:-2] + (rows, cols), fill, dtype=diagonal.dtype)
    r, p, i, j = _band_positions(rows, cols, lower, upper, max_len, align)
    out[..., i, j] = band[..., r, p]
    return out


def _matrix_diag_part(op: str, x: Any, k: Any, padding: Any, align: bytes) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim < 2:
        raise InvalidArgumentError(f"{op}: input must be at least 2-dim, received shape: "
                                   f"{shape_str(x.shape)}")
    rows, cols = x.shape[-2:]
    lower, upper = _diag_range(op, k)
    for name, value in (("lower_diag_index", lower), ("upper_diag_index", upper)):
        if not ((-rows < value or value == 0) and (value < cols or value == 0)):
            raise InvalidArgumentError(f"{op}: {name} is out of bound: {value}. It must be between "
                                       f"{-rows} and {cols}")
    max_len = min(rows + min(upper, 0), cols - max(lower, 0))
    fill = np.asarray(padding, dtype=x.dtype).reshape(())
    out = np.full(x.shape[:-2] + (upper - lower + 1, max_len), fill, dtype=x.dtype)
    r, p, i, j = _band_positions(rows, cols, lower, upper, max_len, align)
    out[..., r, p] = x[..., i, j]
    return out[..., 0, :] if lower == upper else out


def _matrix_set_diag(op: str, x: Any, diagonal: Any, k: Any, align: bytes) -> np.ndarray:
    x, diagonal = np.asarray(x), np.asarray(diagonal)
    if x.ndim < 2:
        raise InvalidArgumentError(f"{op}: input must be at least 2-dim, received shape: "
                                   f"{shape_str(x.shape)}")
    rows, cols = x.shape[-2:]
    lower, upper = _diag_range(op, k)
    max_len = min(rows + min(upper, 0), cols - max(lower, 0))
    expected = x.shape[:-2] + ((max_len,) if lower == upper else (upper - lower + 1, max_len))
    if diagonal.shape != expected:
        raise InvalidArgumentError(
            f"{op}: Either first dimensions of diagonal don't match input.shape[:-2], or "
            f"diagonal.shape[:-1] is not equal to the longests diagonal in range "
            f"[lower_diag_index:upper_diag_index].\nInput shape: {shape_str(x.shape)}\n"
            f"Diagonal shape: {shape_str(diagonal.shape)}\nExpected diagonal shape: "
            f"{shape_str(expected)}")
    band = diagonal[..., None, :] if lower == upper else diagonal
    out = x.copy()
    r, p, i, j = _band_positions(rows, cols, lower, upper, max_len, align)
    out[..., i, j] = band[..., r, p]
    return out


# ---------------------------------------------------------------------- kernels

@kernel("MatrixDiag")
def matrix_diag(diagonal: np.ndarray) -> np.ndarray:
    return _matrix_diag("MatrixDiag", diagonal, 0, -1, -1, 0, b"LEFT_LEFT")


@kernel("MatrixDiagV2")
def matrix_diag_v2(diagonal: np.ndarray, k: Any, num_rows: Any, num_cols: Any,
                   padding_value: Any) -> np.ndarray:
    return _matrix_diag("MatrixDiagV2", diagonal, k, num_rows, num_cols, padding_value, b"LEFT_LEFT")


@kernel("MatrixDiagV3")
def matrix_diag_v3(diagonal: np.ndarray, k: Any, num_rows: Any, num_cols: Any, padding_value: Any,
                   *, align: bytes = b"RIGHT_LEFT") -> np.ndarray:
    return _matrix_diag("MatrixDiagV3", diagonal, k, num_rows, num_cols, padding_value, align)


@kernel("MatrixDiagPart")
def matrix_diag_part(x: np.ndarray) -> np.ndarray:
    return _matrix_diag_part("MatrixDiagPart", x, 0, 0, b"LEFT_LEFT")


@kernel("MatrixDiagPartV2")
def matrix_diag_part_v2(x: np.ndarray, k: Any, padding_value: Any) -> np.ndarray:
    return _matrix_diag_part("MatrixDiagPartV2", x, k, padding_value, b"LEFT_LEFT")


@kernel("MatrixDiagPartV3")
def matrix_diag_part_v3(x: np.ndarray, k: Any, padding_value: Any, *,
                        align: bytes = b"RIGHT_LEFT") -> np.ndarray:
    return _matrix_diag_part("MatrixDiagPartV3", x, k, padding_value, align)


@kernel("MatrixSetDiag")
def matrix_set_diag(x: np.ndarray, diagonal: np.ndarray) -> np.ndarray:
    return _matrix_set_diag("MatrixSetDiag", x, diagonal, 0, b"LEFT_LEFT")


@kernel("MatrixSetDiagV2")
def matrix_set_diag_v2(x: np.ndarray, diagonal: np.ndarray, k: Any) -> np.ndarray:
    return _matrix_set_diag("MatrixSetDiagV2", x, diagonal, k, b"LEFT_LEFT")


@kernel("MatrixSetDiagV3")
def matrix_set_diag_v3(x: np.ndarray, diagonal: np.ndarray, k: Any, *,
                       align: bytes = b"RIGHT_LEFT") -> np.ndarray:
    return _matrix_set_diag("MatrixSetDiagV3", x, diagonal, k, align)
