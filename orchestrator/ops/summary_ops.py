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
import math
import sys
from typing import Any

import numpy as np
from google.protobuf import unknown_fields

from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.registry import kernel

_DBL_MAX = sys.float_info.max


@functools.lru_cache(maxsize=1)
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
    proto = _summary_pb2().HistogramProto()
    _fill_histogram(proto, values, tag)
    return proto


def _fill_histogram(proto: Any, values: np.ndarray, tag: str) -> None:
    """Write the histogram of ``values`` into the empty HistogramProto ``proto`` (in place,
    so a summary's histo field is filled without a copy)."""
    flat = np.asarray(values).reshape(-1).astype(np.float64)
    limits = default_bucket_limits()
    if flat.size:
        lowest, highest = flat.min(), flat.max()   # NaN propagates into both, inf shows in one
        if not (math.isfinite(lowest) and math.isfinite(highest)):
            kind = "Nan" if np.isnan(flat).any() else "Infinity"
            raise InvalidArgumentError(f"{kind} in summary histogram for: {tag}")
        proto.min, proto.max = float(lowest), float(highest)
        with np.errstate(over="ignore"):                   # TF overflows to inf as well
            proto.sum = float(flat.cumsum()[-1])            # sequential, like TF's loop
            proto.sum_squares = float((flat * flat).cumsum()[-1])
    else:
        proto.min, proto.max = _DBL_MAX, -_DBL_MAX
    proto.num = float(flat.size)
    counts = np.bincount(limits.searchsorted(flat, side="right"), minlength=limits.size)
    ends, bucket_counts = _collapse_empty_runs(counts, limits)
    proto.bucket_limit.extend(ends)
    proto.bucket.extend(bucket_counts)


def _collapse_empty_runs(counts: np.ndarray, limits: np.ndarray) -> tuple[list[float], list[float]]:
    """Non-empty buckets as they are; each run of empty ones as one bucket ending at the run's end."""
    keep = counts != 0
    # the last bucket of every empty run is kept: an empty bucket followed by a non-empty one or the end
    keep[:-1] |= keep[1:]
    keep[-1] = True
    idx = keep.nonzero()[0]
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
    _fill_histogram(summary.value.add(tag=name).histo, values, name)
    return _serialized(summary)


@kernel("MergeSummary")
def merge_summary(*inputs: Any, N: int | None = None) -> np.ndarray:
    """Concatenate the values of serialized Summaries; a tag seen twice is an error, as in TF.

    A Summary's only field is the repeated ``value``, so the serialization of the merged
    Summary is the concatenation of the parts' own (re-)serializations — no value is copied.
    """
    pb = _summary_pb2()
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    pieces: list[bytes] = []
    seen: set[str] = set()
    for i, blob_array in enumerate(inputs):
        for blob in np.asarray(blob_array, dtype=object).reshape(-1):
            part = pb.Summary()
            try:
                part.ParseFromString(_as_bytes(blob))
            except Exception as exc:   # protobuf raises its own DecodeError
                raise InvalidArgumentError(f"MergeSummary: could not parse input {i} as a Summary "
                                           f"({exc})") from None
            for tag in [value.tag for value in part.value]:
                if tag:
                    if tag in seen:
                        raise InvalidArgumentError(f"MergeSummary: duplicate tag {tag!r} "
                                                   f"found in summary inputs")
                    seen.add(tag)
            if len(unknown_fields.UnknownFieldSet(part)):
                values_only = pb.Summary()     # TF's kernel copies the values, nothing else
                values_only.value.extend(part.value)
                part = values_only
            pieces.append(part.SerializeToString())
    out = np.empty((), dtype=object)
    out[()] = b"".join(pieces)
    return out
