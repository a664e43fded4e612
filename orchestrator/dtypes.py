"""TensorFlow's DataType enum and its mapping to numpy dtypes.

The enum values are TF's wire values (``types.proto``): they appear in NodeDef attrs,
TensorProtos and checkpoint BundleEntryProtos. Reference types are the base value
plus 100 (``DT_FLOAT_REF == 101``) and name the ref-typed outputs of ``VariableV2``.
bfloat16 comes from ``ml_dtypes`` because numpy has no such type.
"""
from __future__ import annotations

import enum

import ml_dtypes
import numpy as np

from orchestrator.errors import InvalidArgumentError

REF_OFFSET = 100


class DType(enum.IntEnum):
    INVALID = 0
    FLOAT = 1
    DOUBLE = 2
    INT32 = 3
    UINT8 = 4
    INT16 = 5
    INT8 = 6
    STRING = 7
    COMPLEX64 = 8
    INT64 = 9
    BOOL = 10
    QINT8 = 11
    QUINT8 = 12
    QINT32 = 13
    BFLOAT16 = 14
    QINT16 = 15
    QUINT16 = 16
    UINT16 = 17
    COMPLEX128 = 18
    HALF = 19
    RESOURCE = 20
    VARIANT = 21
    UINT32 = 22
    UINT64 = 23

    @property
    def base(self) -> DType:
        return self

    @property
    def is_ref(self) -> bool:
        return False

    @property
    def numpy(self) -> np.dtype:
        """The numpy dtype holding values of this type (object for strings, resources, variants)."""
        try:
            return _TO_NUMPY[self]
        except KeyError:
            raise InvalidArgumentError(f"DataType {self.name} has no numpy equivalent") from None

    @property
    def tf_name(self) -> str:
        """The name TF prints (``float32``, ``int64``, ``string`` ...)."""
        return _TF_NAMES.get(self, self.name.lower())


_TO_NUMPY: dict[DType, np.dtype] = {
    DType.FLOAT: np.dtype(np.float32),
    DType.DOUBLE: np.dtype(np.float64),
    DType.INT32: np.dtype(np.int32),
    DType.UINT8: np.dtype(np.uint8),
    DType.INT16: np.dtype(np.int16),
    DType.INT8: np.dtype(np.int8),
    DType.STRING: np.dtype(object),
    DType.COMPLEX64: np.dtype(np.complex64),
    DType.INT64: np.dtype(np.int64),
    DType.BOOL: np.dtype(np.bool_),
    DType.QINT8: np.dtype(np.int8),
    DType.QUINT8: np.dtype(np.uint8),
    DType.QINT32: np.dtype(np.int32),
    DType.BFLOAT16: np.dtype(ml_dtypes.bfloat16),
    DType.QINT16: np.dtype(np.int16),
    DType.QUINT16: np.dtype(np.uint16),
    DType.UINT16: np.dtype(np.uint16),
    DType.COMPLEX128: np.dtype(np.complex128),
    DType.HALF: np.dtype(np.float16),
    DType.RESOURCE: np.dtype(object),
    DType.VARIANT: np.dtype(object),
    DType.UINT32: np.dtype(np.uint32),
    DType.UINT64: np.dtype(np.uint64),
}

_TF_NAMES = {
    DType.FLOAT: "float32", DType.DOUBLE: "float64", DType.HALF: "float16",
    DType.BFLOAT16: "bfloat16", DType.COMPLEX64: "complex64", DType.COMPLEX128: "complex128",
}

# numpy dtype -> DType for the unambiguous (non-quantized) types.
_FROM_NUMPY: dict[np.dtype, DType] = {
    np.dtype(np.float32): DType.FLOAT,
    np.dtype(np.float64): DType.DOUBLE,
    np.dtype(np.float16): DType.HALF,
    np.dtype(ml_dtypes.bfloat16): DType.BFLOAT16,
    np.dtype(np.int8): DType.INT8,
    np.dtype(np.int16): DType.INT16,
    np.dtype(np.int32): DType.INT32,
    np.dtype(np.int64): DType.INT64,
    np.dtype(np.uint8): DType.UINT8,
    np.dtype(np.uint16): DType.UINT16,
    np.dtype(np.uint32): DType.UINT32,
    np.dtype(np.uint64): DType.UINT64,
    np.dtype(np.bool_): DType.BOOL,
    np.dtype(np.complex64): DType.COMPLEX64,
    np.dtype(np.complex128): DType.COMPLEX128,
    np.dtype(object): DType.STRING,
}


def split_ref(value: int) -> tuple[DType, bool]:
    """Split a wire DataType value into (base type, is_ref)."""
    is_ref = value > REF_OFFSET
    base = value - REF_OFFSET if is_ref else value
    try:
        return DType(base), is_ref
    except ValueError:
        raise InvalidArgumentError(f"unknown DataType value {value}") from None


def as_dtype(value: int | str | np.dtype | type | DType) -> DType:
    """Convert a wire value, a TF name ('float32'), a numpy dtype or type to a base DType."""
    if isinstance(value, DType):
        return value
    if isinstance(value, int):
        return split_ref(value)[0]
    if isinstance(value, str):
        lowered = value.lower().removeprefix("dt_").removesuffix("_ref")
        for dt in DType:
            if lowered in (dt.tf_name, dt.name.lower()):
                return dt
        raise InvalidArgumentError(f"unknown dtype name {value!r}")
    np_dtype = np.dtype(value)
    if np_dtype.kind in ("U", "S"):
        return DType.STRING
    try:
        return _FROM_NUMPY[np_dtype]
    except KeyError:
        raise InvalidArgumentError(f"numpy dtype {np_dtype} has no TF DataType") from None


def numpy_dtype(value: int | DType) -> np.dtype:
    """The numpy dtype for a wire DataType value (reference types map to their base)."""
    return as_dtype(value).numpy
