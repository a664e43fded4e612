"""Summary kernels: serialized ``tensorflow.Summary`` protos, byte-identical to TF's.

A resumed run keeps writing event files that TensorBoard reads next to the ones TF
wrote, so ``ScalarSummary``, ``HistogramSummary`` and ``MergeSummary`` return what TF's
kernels return: a 0-d object array holding the serialized ``Summary``.

Histograms use TF's default bucket limits (``0``, and ``±1e-12 * 1.1**k`` up to 1e20
plus ``±DBL_MAX``), count each value into the first bucket whose limit is greater than
it, accumulate ``sum`` and ``sum_squares`` in double one value after another, and emit
runs of empty buckets collapsed into one (the bucket ending where the run ends).
"""
from __future__ import annotations

import functools
import sys
from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.registry import kernel

_DBL_MAX = sys.float_info.max


def _summary_pb2() -> Any:
    from orchestrator.protos import summary_pb2
    return summary_pb2


@functools.lru_cache(maxsize=1)
def default_bucket_limits() -> np.ndarray:
    """TF's default histogram bucket limits, ascending (the growth is done in double, as TF does)."""
    positive = []
    v = 1.0e-12
    while v < 1.0e20:
        positive.append(v)
        v *= 1.1
    positive.append(_DBL_MAX)
    limits = [-x for x in reversed(positive)] + [0.0] + positive
    out = np.array(limits, dtype=np.float64)
    out.flags.writeable = False
    return out


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _scalar_string(value: Any, what: str) -> bytes:
    arr = np.asarray(value, dtype=object)
    if arr.size != 1:
        raise InvalidArgumentError(f"{what} must be a scalar string, found shape {list(arr.shape)}")
    return _as_bytes(arr.reshape(-1)[0])


def _serialized(summary: Any) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = summary.SerializeToString()
    return out


def histogram_proto(values: np.ndarray, tag: str = "") -> Any:
    """A HistogramProto of ``values`` exactly as TF's ``Histogram::EncodeToProto`` writes it."""
    pb = _summary_pb2()
    flat = np.asarray(values).reshape(-1).astype(np.float64)
    if flat.size and not np.isfinite(flat).all():
        kind = "Nan" if np.isnan(flat).any() else "Infinity"
        raise InvalidArgumentError(f"{kind} in summary histogram for: {tag}")
    limits = default_bucket_limits()
    counts = np.bincount(np.searchsorted(limits, flat, side="right"), minlength=limits.size)
    proto = pb.HistogramProto()
    if flat.size:
        proto.min, proto.max = float(flat.min()), float(flat.max())
        with np.errstate(over="ignore"):                   # TF overflows to inf as well
            proto.sum = float(np.cumsum(flat)[-1])          # sequential, like TF's loop
            proto.sum_squares = float(np.cumsum(flat * flat)[-1])
    else:
        proto.min, proto.max = _DBL_MAX, -_DBL_MAX
    proto.num = float(flat.size)
    ends, bucket_counts = _collapse_empty_runs(counts, limits)
    proto.bucket_limit.extend(ends)
    proto.bucket.extend(bucket_counts)
    return proto


def _collapse_empty_runs(counts: np.ndarray, limits: np.ndarray) -> tuple[list[float], list[float]]:
    """Non-empty buckets as they are; each run of empty ones as one bucket ending at the run's end."""
    empty = counts == 0
    keep = ~empty.copy()
    # the last bucket of every empty run is kept: an empty bucket followed by a non-empty one or the end
    run_end = empty & np.append(~empty[1:], True)
    keep |= run_end
    idx = np.nonzero(keep)[0]
    return limits[idx].tolist(), counts[idx].astype(np.float64).tolist()


@kernel("ScalarSummary")
def scalar_summary(tags: Any, values: Any, *, T: Any = None) -> np.ndarray:
    pb = _summary_pb2()
    tags = np.asarray(tags, dtype=object)
    values = np.asarray(values)
    if tags.shape != values.shape:
        raise InvalidArgumentError(f"ScalarSummary: tags and values are not the same shape: "
                                   f"{list(tags.shape)} != {list(values.shape)}")
    summary = pb.Summary()
    for tag, value in zip(tags.reshape(-1), values.reshape(-1).astype(np.float32)):
        summary.value.add(tag=_as_bytes(tag).decode("utf-8", "replace"), simple_value=float(value))
    return _serialized(summary)


@kernel("HistogramSummary")
def histogram_summary(tag: Any, values: Any, *, T: Any = None) -> np.ndarray:
    pb = _summary_pb2()
    name = _scalar_string(tag, "HistogramSummary tag").decode("utf-8", "replace")
    summary = pb.Summary()
    summary.value.add(tag=name).histo.CopyFrom(histogram_proto(values, name))
    return _serialized(summary)


@kernel("MergeSummary")
def merge_summary(*inputs: Any, N: int | None = None) -> np.ndarray:
    """Concatenate the values of serialized Summaries; a tag seen twice is an error, as in TF."""
    pb = _summary_pb2()
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    merged, seen = pb.Summary(), set()
    for i, blob_array in enumerate(inputs):
        for blob in np.asarray(blob_array, dtype=object).reshape(-1):
            part = pb.Summary()
            try:
                part.ParseFromString(_as_bytes(blob))
            except Exception as exc:   # protobuf raises its own DecodeError
                raise InvalidArgumentError(f"MergeSummary: could not parse input {i} as a Summary "
                                           f"({exc})") from None
            for value in part.value:
                if value.tag:
                    if value.tag in seen:
                        raise InvalidArgumentError(f"MergeSummary: duplicate tag {value.tag!r} "
                                                   f"found in summary inputs")
                    seen.add(value.tag)
                merged.value.add().CopyFrom(value)
    return _serialized(merged)
