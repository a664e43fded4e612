"""Range-read executor: split tensors reassembled, gaps and overlaps, several readers, errors."""
from __future__ import annotations

import os
from pathlib import Path

import fsspec
import numpy as np
import pytest

from orchestrator import storage
from orchestrator.checkpoint import bundle_io, plan, read, table
from orchestrator.dtypes import DType
from orchestrator.errors import DataLossError, InvalidArgumentError, NotFoundError


@pytest.fixture
def bigger(fixtures_dir):
    case_dir = fixtures_dir / "checkpoints" / "bigger"
    return str(case_dir / "model.ckpt"), dict(np.load(case_dir / "expected.npz"))


@pytest.mark.parametrize("readers, max_range, gap, threads", [(1, 1 << 20, 0, 1), (3, 300_001, 64, 4),
                                                              (2, 4096, 1 << 20, 2), (5, 4099, 3, 3)])
def test_plans_of_every_shape_read_the_same_values(bigger, readers, max_range, gap, threads):
    prefix, arrays = bigger
    index = bundle_io.read_index(prefix)
    items = plan.stored_items(index)
    work = plan.plan_items(items, readers, max_range, gap)
    values = read.read_work_lists(work, items, threads=threads)
    assert sorted(values) == sorted(n.encode() for n in arrays)
    for name, want in arrays.items():
        got = values[name.encode()]
        assert got.dtype == want.dtype and got.flags.writeable and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)


def test_one_work_list_alone(bigger):
    prefix, arrays = bigger
    work = plan.plan_restore(bundle_io.read_index(prefix), readers=1, max_range_bytes=1 << 20)
    values = read.read_work_list(work[0], threads=2)
    np.testing.assert_array_equal(values[b"big/kernel"], arrays["big/kernel"])


def test_strings_split_across_ranges(fixtures_dir):
    prefix = str(fixtures_dir / "checkpoints" / "all_dtypes" / "model.ckpt")
    index = bundle_io.read_index(prefix)
    items = plan.stored_items(index, [b"string/vector", b"string/empty_list", b"empty/float64"])
    values = read.read_work_lists(plan.plan_items(items, 2, max_range_bytes=5), items, threads=3)
    assert values[b"string/vector"][2] == b"\x00\xff\x00" and len(values[b"string/vector"][4]) == 260
    assert values[b"string/empty_list"].shape == (0,) and values[b"empty/float64"].shape == (2, 0, 3)


def test_overlapping_entries_are_read_once_and_copied(tmp_path):
    """Two index keys pointing at overlapping bytes (a hand-made index) still read correctly."""
    from orchestrator.protos import tensor_bundle_pb2 as pb2
    payload = np.arange(16, dtype=np.float32)
    data = tmp_path / "m.data-00000-of-00001"
    data.write_bytes(payload.tobytes())
    header = pb2.BundleHeaderProto(num_shards=1)
    rows = [(b"", header.SerializeToString())]
    for key, start, count in [(b"all", 0, 16), (b"middle", 4, 8)]:
        raw = payload[start:start + count].tobytes()
        entry = pb2.BundleEntryProto(dtype=DType.FLOAT, offset=start * 4, size=len(raw),
                                     crc32c=table.masked_crc32c(raw))
        entry.shape.dim.add().size = count
        rows.append((key, entry.SerializeToString()))
    (tmp_path / "m.index").write_bytes(table.build_table(rows))
    index = bundle_io.read_index(str(tmp_path / "m"))
    items = plan.stored_items(index)
    work = plan.plan_items(items, 1)
    assert len(work[0]) == 1                               # one request for both
    values = read.read_work_lists(work, items)
    np.testing.assert_array_equal(values[b"middle"], payload[4:12])
    np.testing.assert_array_equal(values[b"all"], payload)


def test_missing_file_and_truncation_name_the_tensor(bigger, tmp_path):
    prefix, _ = bigger
    index = bundle_io.read_index(prefix)
    index.prefix = str(tmp_path / "gone")
    items = plan.stored_items(index, [b"zzz/after_big"])
    with pytest.raises(NotFoundError, match=r"gone.data-00000-of-00001 is missing \(needed for tensor 'zzz/after_big'"):
        read.read_work_lists(plan.plan_items(items), items)


def test_file_shrinking_during_the_read_is_detected(bigger, tmp_path):
    """Sizes are checked up front; a file cut after that still gives DataLossError, not garbage."""
    prefix, _ = bigger
    data = Path(prefix + ".data-00000-of-00001").read_bytes()
    copy = tmp_path / "m.data-00000-of-00001"
    copy.write_bytes(data)
    index = bundle_io.read_index(prefix)
    index.prefix = str(tmp_path / "m")
    items = plan.stored_items(index, [b"big/kernel"])
    with read.FileSet([i.file for i in items]) as files:
        destinations = read.Destinations(items, files.sizes())
        os.truncate(copy, 1000)
        with pytest.raises(DataLossError, match=r"'big/kernel'.*file ended at byte 1000"):
            read.execute(plan.plan_items(items)[0], files, destinations)


def test_range_file_on_memory_and_local(tmp_path):
    body = bytes(range(256)) * 40
    fsspec.filesystem("memory").pipe_file("/read-test/blob", body)
    (tmp_path / "blob").write_bytes(body)
    for url in ["memory://read-test/blob", str(tmp_path / "blob")]:
        with storage.RangeFile(url) as handle:
            assert handle.size == len(body)
            first, second = bytearray(3), np.empty(1000, np.uint8)
            assert handle.read_into(250, [first, second]) == 1003
            assert bytes(first) == body[250:253] and second.tobytes() == body[253:1253]
            tail = bytearray(100)
            assert handle.read_into(len(body) - 10, [tail]) == 10          # short read = end of file
    with pytest.raises(NotFoundError, match="no such file"):
        storage.RangeFile(str(tmp_path / "absent"))


def test_write_chunks_streams_buffers(tmp_path):
    arrays = [np.arange(5, dtype=np.int64), b"abc", np.zeros((2, 0)), np.array(1.5, np.float32)]
    want = b"".join(np.asarray(a).tobytes() if not isinstance(a, bytes) else a for a in arrays)
    storage.write_chunks(str(tmp_path / "sub" / "f"), arrays)
    storage.write_chunks("memory://read-test/f", arrays)
    assert (tmp_path / "sub" / "f").read_bytes() == want
    assert storage.read_bytes("memory://read-test/f") == want
    assert storage.size("memory://read-test/f") == len(want)


@pytest.mark.parametrize("max_range", [16 << 20, 300_000])      # checksummed while streaming / once assembled
def test_crc_mismatch_whole_or_split(bigger, tmp_path, max_range):
    prefix, _ = bigger
    index = bundle_io.read_index(prefix)
    entry = index.entry("big/kernel")
    raw = bytearray(Path(prefix + ".data-00000-of-00001").read_bytes())
    raw[entry.offset + entry.size - 3] ^= 1
    (tmp_path / "m.data-00000-of-00001").write_bytes(bytes(raw))
    index.prefix = str(tmp_path / "m")
    items = plan.stored_items(index)
    with pytest.raises(DataLossError, match=r"'big/kernel' in .*m.data-00000-of-00001: crc32c mismatch"):
        read.read_items(items, readers=2, max_range_bytes=max_range)
    values = read.read_items(items, readers=2, max_range_bytes=max_range, verify=False)
    assert values[b"big/kernel"].reshape(-1).view(np.uint8)[entry.size - 3] == raw[entry.offset + entry.size - 3]


def test_object_stores_get_one_request_per_range(fixtures_dir, monkeypatch):
    """Local ranges are read a MiB at a time; remote ones must stay one request each."""
    case_dir = fixtures_dir / "checkpoints" / "bigger"
    fs = fsspec.filesystem("memory")
    for path in case_dir.iterdir():
        fs.pipe_file(f"/read-requests/{path.name}", path.read_bytes())
    calls = []
    real = storage.RangeFile._read_remote
    monkeypatch.setattr(storage.RangeFile, "_read_remote",
                        lambda self, offset, views: calls.append(offset) or real(self, offset, views))
    index = bundle_io.read_index("memory://read-requests/model.ckpt")
    items = plan.stored_items(index)
    work = plan.plan_items(items, readers=1)
    values = read.read_work_lists(work, items)
    assert len(calls) == sum(len(w) for w in work) == 1          # 3 MiB + small tensors: one coalesced range
    np.testing.assert_array_equal(values[b"big/kernel"], np.load(case_dir / "expected.npz")["big/kernel"])


def test_one_list_holding_part_of_a_split_tensor_is_refused(bigger):
    prefix, arrays = bigger
    work = plan.plan_restore(bundle_io.read_index(prefix), readers=2, max_range_bytes=1 << 20)
    with pytest.raises(InvalidArgumentError, match="'big/kernel'.*only partly in this work list"):
        read.read_work_list(work[0])
