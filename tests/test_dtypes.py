import ml_dtypes
import numpy as np
import pytest

from orchestrator.dtypes import DType, as_dtype, split_ref
from orchestrator.errors import InvalidArgumentError


@pytest.mark.parametrize("value,expected", [
    (1, DType.FLOAT), (101, DType.FLOAT), ("float32", DType.FLOAT), ("DT_INT64", DType.INT64),
    (np.float16, DType.HALF), (ml_dtypes.bfloat16, DType.BFLOAT16), (np.dtype("S3"), DType.STRING),
    ("bfloat16", DType.BFLOAT16), (np.bool_, DType.BOOL),
])
def test_as_dtype(value, expected):
    assert as_dtype(value) is expected


def test_ref_split():
    assert split_ref(119) == (DType.HALF, True)
    assert split_ref(9) == (DType.INT64, False)


def test_unknown_values_name_themselves():
    with pytest.raises(InvalidArgumentError, match="777"):
        split_ref(777)
    with pytest.raises(InvalidArgumentError, match="floaty"):
        as_dtype("floaty")
