"""Shared reading of the TF-made op tables (tests/fixtures/ops/<family>.{json,npz}) for the
per-family op tests: cases and arrays, attrs decoded as the executor passes them, inputs
frozen the way the executor hands them over."""
from __future__ import annotations

import json
from collections.abc import Container
from pathlib import Path

import numpy as np

from orchestrator.dtypes import as_dtype

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ops"


def load_table(family: str) -> tuple[list[dict], dict[str, np.ndarray]]:
    cases = json.loads((FIXTURES / f"{family}.json").read_text())
    with np.load(FIXTURES / f"{family}.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    return cases, arrays


def decode_attrs(attrs: dict, type_attrs: Container[str]) -> dict:
    """JSON attrs as the executor passes them: DType, bytes, tuples (None dims stay None)."""
    out = {}
    for key, value in attrs.items():
        if key in type_attrs and isinstance(value, str):
            value = as_dtype(value)
        elif isinstance(value, str):
            value = value.encode()
        elif isinstance(value, list):
            value = tuple(value)
        out[key] = value
    return out


def frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False   # kernels must never write into their inputs (Ray hands out read-only arrays)
    return a
