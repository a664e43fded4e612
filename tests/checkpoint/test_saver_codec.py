"""The Saver's interim bundle codecs: byte-identical to TF's files, slice keys, fuzzed table parser."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from orchestrator.checkpoint import bundle_io, table, tensor_codec
from orchestrator.checkpoint.mapping import SliceSpec
from orchestrator.errors import DataLossError, InvalidArgumentError, OrchestratorError


def test_rebuilt_index_is_byte_identical_to_tfs(fixtures_dir, tmp_path):
    case = fixtures_dir / "saver" / "partitioned_sharded" / "model.ckpt-0"
    index = bundle_io.read_index(str(case))
    names = index.names()
    specs = {"emb": ["10 4 0,4:0,4", "10 4 4,3:0,4", "10 4 7,3:0,4"]}
    requests = [(n, s) for n in names for s in specs.get(n, [""])]
    values = bundle_io.read_tensors(str(case), requests)
    bundle_io.write_checkpoint(str(tmp_path / "m"), [[(n, s, v) for (n, s), v in zip(requests, values)]])
    assert (tmp_path / "m.index").read_bytes() == case.with_name("model.ckpt-0.index").read_bytes()


@pytest.mark.parametrize("extents", [((0, 4), (0, 4)), ((100, 100), (0, 4)), ((0, 3), (1000, 1000)),
                                     ((-1, -1),), ((0, -1), (70000, 5)), ((2 ** 40, 1),), ((-64, 63), (-65, 64))])
def test_slice_key_round_trip(extents):
    key = table.encode_slice_key("scope/v\x00\xff", extents)
    assert key.startswith(b"\x00")
    assert table.decode_slice_extents(key) == tuple(extents)


def test_slice_key_golden_bytes_from_tf():
    # key TF wrote for slice rows 100..199 of the [300, 4] variable "part/p"
    assert table.encode_slice_key("part/p", ((100, 100), (0, 4))) == \
        b"\x00part/p\x00\x01\x01\x02\xc0\x64\xc0\x64\x80\x84"


def test_slice_spec_parse_and_errors():
    spec = SliceSpec.parse("10 4 0,5:-", "w")
    assert spec.full_shape == (10, 4) and spec.shape == (5, 4) and str(spec) == "10 4 0,5:-"
    with pytest.raises(InvalidArgumentError, match="malformed"):
        SliceSpec.parse("10 4 0;5", "w")
    with pytest.raises(InvalidArgumentError, match="rank-2"):
        SliceSpec.parse("10 4 0,5", "w")


@pytest.mark.parametrize("value", [np.arange(5, dtype=np.int8), np.array([1.5, -2], ml_dtypes.bfloat16),
                                   np.array([[1 + 2j]], np.complex128), np.zeros((0, 3), np.float32),
                                   np.array(3, np.uint64), np.array([b"", b"\x00\xff" * 100], dtype=object),
                                   np.array([], dtype=object)])
def test_tensor_round_trip(tmp_path, value):
    bundle_io.write_checkpoint(str(tmp_path / "m"), [[("t", "", value)]])
    back = bundle_io.read_tensors(str(tmp_path / "m"), [("t", "")])[0]
    assert back.dtype == (object if value.dtype == object else value.dtype)
    np.testing.assert_array_equal(back, value)


def test_empty_string_tensor_has_size_4(tmp_path):
    payload, _ = tensor_codec.encode(np.array([], dtype=object), "t")
    assert len(payload) == 4


def test_string_length_crc_corruption_is_detected(tmp_path):
    bundle_io.write_checkpoint(str(tmp_path / "m"), [[("s", "", np.array([b"abc"], dtype=object))]])
    data = tmp_path / "m.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[0] = 2                                                # length varint now disagrees with the bytes
    data.write_bytes(bytes(raw))
    with pytest.raises(DataLossError, match="'s'"):
        bundle_io.read_tensors(str(tmp_path / "m"), [("s", "")])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes_only_raise_our_errors(data):
    try:
        table.read_table(data, "fuzz.index")
    except OrchestratorError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_fuzz_mutated_real_index(fixtures_dir, data):
    raw = bytearray((fixtures_dir / "saver" / "renamed" / "model.ckpt-0.index").read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        table.read_table(bytes(raw[:cut] if data.draw(st.booleans()) else raw), "fuzz.index")
    except OrchestratorError:
        pass
