"""load_checkpoint / CheckpointReader on TF-made checkpoints: values, maps, URLs and bad input."""
from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import fsspec
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import orchestrator
from orchestrator.checkpoint import bundle_io, table
from orchestrator.checkpoint.reader import load_checkpoint
from orchestrator.compat import v1 as tf
from orchestrator.dtypes import DType
from orchestrator.errors import DataLossError, InvalidArgumentError, NotFoundError, OrchestratorError

CASES = ["all_dtypes", "bigger", "multi_step", "partitioned", "sharded", "v1_format"]


def expected(case_dir: Path) -> tuple[dict, dict]:
    info = json.loads((case_dir / "expected.json").read_text())
    return info, dict(np.load(case_dir / "expected.npz"))


def check_values(values: dict, info: dict, arrays: dict) -> None:
    """Every tensor exactly as TF's own reader returned it (bfloat16 compared bit for bit)."""
    assert sorted(values) == sorted(info["tensors"])
    for name, meta in info["tensors"].items():
        value = values[name]
        assert list(value.shape) == meta["shape"], name
        if meta["npz"]:
            got = value.view(np.uint16) if meta["bits"] else value
            assert got.dtype == arrays[name].dtype, name
            np.testing.assert_array_equal(got, arrays[name], err_msg=name)
        else:
            assert value.dtype == object
            assert [bytes(x) for x in value.reshape(-1)] == [base64.b64decode(s) for s in meta["strings"]], name


def copy_case(case_dir: Path, dest: Path) -> str:
    shutil.copytree(case_dir, dest)
    return str(dest / json.loads((case_dir / "expected.json").read_text())["prefix"])


@pytest.mark.parametrize("case", CASES)
def test_reads_every_fixture_exactly_as_tf(fixtures_dir, case):
    case_dir = fixtures_dir / "checkpoints" / case
    info, arrays = expected(case_dir)
    reader = load_checkpoint(str(case_dir / info["prefix"]))
    check_values({n: reader.get_tensor(n) for n in info["tensors"]}, info, arrays)
    check_values(reader.get_tensors(list(info["tensors"]), readers=3), info, arrays)
    assert reader.get_variable_to_shape_map() == {n: m["shape"] for n, m in info["tensors"].items()}
    dtypes = reader.get_variable_to_dtype_map()
    assert all(isinstance(d, DType) for d in dtypes.values())
    assert {n: d.tf_name for n, d in dtypes.items()} == {n: m["dtype"] for n, m in info["tensors"].items()}
    assert orchestrator.list_variables(str(case_dir / info["prefix"])) == \
        sorted((n, m["shape"]) for n, m in info["tensors"].items())


def test_partitioned_slices_are_hidden_and_assembled(fixtures_dir):
    case_dir = fixtures_dir / "checkpoints" / "partitioned"
    info, arrays = expected(case_dir)
    reader = load_checkpoint(str(case_dir / "model.ckpt"))
    assert sorted(reader.get_variable_to_shape_map()) == ["cols", "plain", "rows"]
    index = bundle_io.read_index(str(case_dir / "model.ckpt"))
    assert sum(k.startswith(b"\x00") for k in index.entries) == 6          # the slices are there, unlisted
    for part in info["slices"]["cols"]:
        (r0, c0), (rn, cn) = part["offset"], part["size"]
        spec = f"4 7 {r0},{rn}:{c0},{cn}"
        np.testing.assert_array_equal(reader.get_slice("cols", spec), arrays["cols"][r0:r0 + rn, c0:c0 + cn])
    with pytest.raises(InvalidArgumentError, match="full shape"):
        reader.get_slice("cols", "5 7 0,1:-")


def test_directory_resolves_the_latest_checkpoint(fixtures_dir):
    case_dir = fixtures_dir / "checkpoints" / "multi_step"
    reader = load_checkpoint(str(case_dir))
    assert reader.prefix == str(case_dir / "model.ckpt-50")
    assert reader.get_tensor("global_step") == 50


def test_tf_names_and_exports(fixtures_dir):
    prefix = str(fixtures_dir / "checkpoints" / "sharded" / "model.ckpt")
    assert tf.train.list_variables(prefix) == [("a", [3, 2]), ("b", [3, 2]), ("c", [3, 2]), ("d", [3, 2])]
    assert tf.train.load_checkpoint(prefix).has_tensor("c")
    assert not tf.train.NewCheckpointReader(prefix).has_tensor("e")
    assert isinstance(orchestrator.load_checkpoint(prefix), orchestrator.CheckpointReader)


def test_memory_url(fixtures_dir):
    case_dir = fixtures_dir / "checkpoints" / "partitioned"
    info, arrays = expected(case_dir)
    fs = fsspec.filesystem("memory")
    for path in case_dir.iterdir():
        fs.pipe_file(f"/reader-test/partitioned/{path.name}", path.read_bytes())
    reader = load_checkpoint("memory://reader-test/partitioned")       # directory -> state file -> prefix
    check_values(reader.get_tensors(list(info["tensors"])), info, arrays)


@pytest.fixture(scope="module")
def s3_options():
    pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server._server.server_address[:2]
    options = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": f"http://{host}:{port}"}}
    import urllib.request
    urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/reader-bucket", method="PUT")).close()
    yield options
    server.stop()


@pytest.mark.parametrize("case", ["all_dtypes", "bigger", "v1_format"])
def test_s3_with_storage_options(fixtures_dir, s3_options, case):
    case_dir = fixtures_dir / "checkpoints" / case
    info, arrays = expected(case_dir)
    fs = fsspec.filesystem("s3", **s3_options)
    for path in case_dir.iterdir():
        fs.pipe_file(f"reader-bucket/{case}/{path.name}", path.read_bytes())
    reader = load_checkpoint(f"s3://reader-bucket/{case}/{info['prefix']}", **s3_options)
    check_values(reader.get_tensors(list(info["tensors"]), readers=2), info, arrays)


# ------------------------------------------------------------------ bad input

def test_missing_key_suggests_near_names(fixtures_dir):
    reader = load_checkpoint(str(fixtures_dir / "checkpoints" / "bigger" / "model.ckpt"))
    with pytest.raises(NotFoundError, match=r"'big/kernal' not found.*Did you mean 'big/kernel'"):
        reader.get_tensor("big/kernal")


def test_missing_checkpoint_and_empty_directory(tmp_path):
    with pytest.raises(NotFoundError, match="not a checkpoint"):
        load_checkpoint(str(tmp_path / "nope"))
    with pytest.raises(NotFoundError, match="state file"):
        load_checkpoint(str(tmp_path))


def test_missing_data_shard_names_the_file(fixtures_dir, tmp_path):
    prefix = copy_case(fixtures_dir / "checkpoints" / "sharded", tmp_path / "c")
    Path(prefix + ".data-00001-of-00002").unlink()
    reader = load_checkpoint(prefix)
    np.testing.assert_array_equal(reader.get_tensor("a"), expected(tmp_path / "c")[1]["a"])  # shard 0 still reads
    with pytest.raises(NotFoundError, match=r"data-00001-of-00002 is missing"):
        reader.get_tensor("c")


def test_truncated_data_file(fixtures_dir, tmp_path):
    prefix = copy_case(fixtures_dir / "checkpoints" / "bigger", tmp_path / "c")
    data = Path(prefix + ".data-00000-of-00001")
    data.write_bytes(data.read_bytes()[:1_000_000])
    reader = load_checkpoint(prefix)
    with pytest.raises(DataLossError, match=r"'big/kernel'.*truncated"):
        reader.get_tensor("big/kernel")


def test_crc_mismatch_names_tensor_and_file(fixtures_dir, tmp_path):
    prefix = copy_case(fixtures_dir / "checkpoints" / "bigger", tmp_path / "c")
    entry = bundle_io.read_index(prefix).entry("big/kernel")
    data = Path(prefix + ".data-00000-of-00001")
    raw = bytearray(data.read_bytes())
    raw[entry.offset + entry.size // 2] ^= 0x10
    data.write_bytes(bytes(raw))
    reader = load_checkpoint(prefix)
    with pytest.raises(DataLossError, match=r"'big/kernel' in .*data-00000-of-00001: crc32c mismatch"):
        reader.get_tensor("big/kernel")
    assert reader.get_tensor("small/step") == load_checkpoint(str(fixtures_dir / "checkpoints" / "bigger" /
                                                                  "model.ckpt")).get_tensor("small/step")
    assert load_checkpoint(prefix, verify=False).get_tensor("big/kernel").shape == (768, 1024)


@pytest.mark.parametrize("where, match", [(-1, "bad table magic"), (-56, "crc32c check"),
                                          (10, "crc32c check")])
def test_corrupt_index(fixtures_dir, tmp_path, where, match):
    prefix = copy_case(fixtures_dir / "checkpoints" / "all_dtypes", tmp_path / "c")
    index = Path(prefix + ".index")
    raw = bytearray(index.read_bytes())
    raw[where] ^= 0x41
    index.write_bytes(bytes(raw))
    with pytest.raises(DataLossError, match=match):
        load_checkpoint(prefix)


def test_truncated_index(fixtures_dir, tmp_path):
    prefix = copy_case(fixtures_dir / "checkpoints" / "all_dtypes", tmp_path / "c")
    index = Path(prefix + ".index")
    index.write_bytes(index.read_bytes()[:-7])
    with pytest.raises(DataLossError, match="magic|truncated"):
        load_checkpoint(prefix)


def _index_with(entries: dict[bytes, object]) -> bytes:
    from orchestrator.protos import tensor_bundle_pb2 as pb2
    header = pb2.BundleHeaderProto(num_shards=1)
    header.version.producer = 1
    rows = [(b"", header.SerializeToString())] + [(k, entries[k].SerializeToString()) for k in sorted(entries)]
    return table.build_table(rows)


def _entry(dtype: int, shape: list[int], offset: int, size: int, crc: int = 0):
    from orchestrator.protos import tensor_bundle_pb2 as pb2
    entry = pb2.BundleEntryProto(dtype=dtype, offset=offset, size=size, crc32c=crc)
    for d in shape:
        entry.shape.dim.add().size = d
    return entry


def test_sizes_larger_than_the_file_fail_before_allocating(tmp_path):
    prefix = str(tmp_path / "huge")
    (tmp_path / "huge.data-00000-of-00001").write_bytes(b"\x00" * 64)
    entries = {b"huge": _entry(DType.FLOAT, [2 ** 38], 0, 2 ** 40),        # 1 TiB claimed
               b"lying_shape": _entry(DType.FLOAT, [2 ** 30], 0, 16),
               b"str": _entry(DType.STRING, [2 ** 40], 0, 64)}
    Path(prefix + ".index").write_bytes(_index_with(entries))
    reader = load_checkpoint(prefix)
    with pytest.raises(DataLossError, match=r"'huge'.*only 64 bytes"):
        reader.get_tensor("huge")
    with pytest.raises(DataLossError, match=r"'lying_shape'.*16 bytes for shape"):
        reader.get_tensor("lying_shape")
    with pytest.raises(DataLossError, match=r"'str'.*more strings"):
        reader.get_tensor("str")


def test_snappy_compressed_index_blocks(fixtures_dir, tmp_path):
    case_dir = fixtures_dir / "checkpoints" / "all_dtypes"
    info, arrays = expected(case_dir)
    prefix = copy_case(case_dir, tmp_path / "c")
    rows = table.read_table(Path(prefix + ".index").read_bytes(), "x")
    compressed = table.build_table(rows, snappy_blocks=True)
    assert compressed != Path(prefix + ".index").read_bytes()
    Path(prefix + ".index").write_bytes(compressed)
    check_values(load_checkpoint(prefix).get_tensors(list(info["tensors"])), info, arrays)


def test_v1_probe_of_a_random_file(tmp_path):
    (tmp_path / "notes.txt").write_bytes(b"hello, not a checkpoint" * 10)
    with pytest.raises(DataLossError, match="neither a V2 checkpoint prefix"):
        load_checkpoint(str(tmp_path / "notes.txt"))


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_fuzz_mutated_index_only_raises_our_errors(fixtures_dir, tmp_path_factory, data):
    case_dir = fixtures_dir / "checkpoints" / "partitioned"
    raw = bytearray((case_dir / "model.ckpt.index").read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/fuzz-reader/m.index", bytes(raw))
    fs.pipe_file("/fuzz-reader/m.data-00000-of-00001", (case_dir / "model.ckpt.data-00000-of-00001").read_bytes())
    try:
        reader = load_checkpoint("memory://fuzz-reader/m")
        reader.get_tensors(list(reader.get_variable_to_shape_map()))
    except OrchestratorError:
        pass
