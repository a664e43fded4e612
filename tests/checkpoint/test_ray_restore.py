"""Checkpoint reads on Ray actors (distributed/restore.py), on a real local Ray cluster:
TF-made checkpoints read exactly as TF reads them, from local files and from an S3 server,
with tensors split across actors; corrupt or truncated data named; the resume job restoring
through actors lands where the in-process restore does."""
from __future__ import annotations

from pathlib import Path

import fsspec
import numpy as np
import pytest
from test_reader import check_values, copy_case, expected, s3_options  # noqa: F401 - s3_options: a fixture

from orchestrator.checkpoint import bundle_io, plan
from orchestrator.config import parse_config
from orchestrator.distributed.restore import ActorReader, batches, read_pieces
from orchestrator.errors import DataLossError, FailedPreconditionError, InvalidArgumentError
from orchestrator.job import run_job

V2_CASES = ["all_dtypes", "bigger", "partitioned", "sharded"]


def read_all(prefix: str, item_reader, **storage_options) -> dict:
    index = bundle_io.read_index(prefix, **storage_options)
    names = sorted(index.names())
    values = bundle_io.read_tensors(prefix, [(n, "") for n in names], item_reader=item_reader, **storage_options)
    return dict(zip(names, values))


# ------------------------------------------------------------------ what an actor runs (no Ray)

def test_read_pieces_cover_every_byte_once(fixtures_dir):
    info, arrays = expected(fixtures_dir / "checkpoints" / "bigger")
    index = bundle_io.read_index(str(fixtures_dir / "checkpoints" / "bigger" / info["prefix"]))
    items = plan.stored_items(index)
    work = plan.plan_items(items, readers=3, max_range_bytes=1000, coalesce_gap=0)
    pieces = [p for w in work for p in read_pieces(w, threads=2)]
    assembled = {item.key: np.zeros(item.size, np.uint8) for item in items}
    counts = {item.key: 0 for item in items}
    for p in pieces:
        assembled[p.key][p.offset:p.offset + p.data.nbytes] = p.data
        counts[p.key] += p.data.nbytes
        whole = p.offset == 0 and p.data.nbytes == next(i.size for i in items if i.key == p.key)
        assert (p.crc is not None) == whole
    assert counts == {item.key: item.size for item in items}
    for item in items:
        name = item.key.decode()
        np.testing.assert_array_equal(assembled[item.key].view(arrays[name].dtype).reshape(arrays[name].shape),
                                      arrays[name])


def test_batches_keep_order_and_never_split_a_range():
    ranges = [plan.ReadRange("f", i * 10, 10 + i, []) for i in range(7)]
    cut = batches(ranges, batch_bytes=25)
    assert [r for b in cut for r in b] == ranges
    assert all(sum(r.length for r in b[:-1]) < 25 for b in cut)
    assert batches([], 25) == []


# ------------------------------------------------------------------ on Ray actors

@pytest.mark.parametrize("case", V2_CASES)
def test_actors_read_every_fixture_exactly_as_tf(fixtures_dir, ray, case):
    case_dir = fixtures_dir / "checkpoints" / case
    info, arrays = expected(case_dir)
    reader = ActorReader(ray, actors=3, threads=2, max_range_bytes=4096, coalesce_gap=512)
    try:
        values = read_all(str(case_dir / info["prefix"]), reader.read_items)
    finally:
        reader.close()
    check_values({n: values[n] for n in info["tensors"]}, info, arrays)


def test_actors_read_from_s3(fixtures_dir, ray, s3_options):
    case_dir = fixtures_dir / "checkpoints" / "all_dtypes"
    info, arrays = expected(case_dir)
    fs = fsspec.filesystem("s3", **s3_options)
    for path in case_dir.iterdir():
        fs.pipe_file(f"reader-bucket/ray/{path.name}", path.read_bytes())
    prefix = f"s3://reader-bucket/ray/{info['prefix']}"
    reader = ActorReader(ray, actors=2, threads=2, max_range_bytes=2048, **s3_options)
    try:
        values = read_all(prefix, reader.read_items, **s3_options)
    finally:
        reader.close()
    check_values({n: values[n] for n in info["tensors"]}, info, arrays)


def test_corrupt_tensor_split_across_actors_is_named(fixtures_dir, ray, tmp_path):
    prefix = copy_case(fixtures_dir / "checkpoints" / "bigger", tmp_path / "c")
    index = bundle_io.read_index(prefix)
    biggest = max(plan.stored_items(index), key=lambda item: item.size)
    data = Path(biggest.file)
    raw = bytearray(data.read_bytes())
    raw[biggest.offset + biggest.size // 2] ^= 0xFF            # a byte in the middle: a split piece
    data.write_bytes(bytes(raw))
    reader = ActorReader(ray, actors=3, max_range_bytes=max(1, biggest.size // 4))
    try:
        with pytest.raises(DataLossError, match=biggest.key.decode()):
            read_all(prefix, reader.read_items)
    finally:
        reader.close()


def truncated_copy(fixtures_dir: Path, dest: Path) -> tuple[str, plan.StoredItem]:
    """The "bigger" checkpoint with its data file cut 3 bytes into its last tensor."""
    prefix = copy_case(fixtures_dir / "checkpoints" / "bigger", dest)
    last = max(plan.stored_items(bundle_io.read_index(prefix)), key=lambda item: item.offset + item.size)
    Path(last.file).write_bytes(Path(last.file).read_bytes()[:last.offset + 3])
    return prefix, last


def test_truncated_data_file_is_found_before_any_actor_reads(fixtures_dir, ray, tmp_path):
    prefix, last = truncated_copy(fixtures_dir, tmp_path / "c")
    reader = ActorReader(ray, actors=2)
    try:
        with pytest.raises(DataLossError, match=rf"{last.key.decode()}.*needs bytes .*truncated"):
            read_all(prefix, reader.read_items)
    finally:
        reader.close()


def test_an_actors_error_comes_back_as_itself(fixtures_dir, ray, tmp_path):
    # The file shrank after planning (the driver's size check passed): the actor finds out.
    prefix, last = truncated_copy(fixtures_dir, tmp_path / "c")
    item = plan.StoredItem(last.key, last.file, last.offset, last.size, last.entry)
    (work,) = plan.plan_items([item], readers=1)
    reader = ActorReader(ray, actors=1)
    try:
        with pytest.raises(DataLossError, match=rf"{last.key.decode()}.*file ended at byte .*truncated"):
            reader.result(reader.actors[0].read.remote(work, 1, True))
    finally:
        reader.close()


def test_a_dead_actor_is_a_clear_error(fixtures_dir, ray):
    info, _ = expected(fixtures_dir / "checkpoints" / "bigger")
    prefix = str(fixtures_dir / "checkpoints" / "bigger" / info["prefix"])
    reader = ActorReader(ray, actors=2, max_range_bytes=4096)     # both actors get ranges
    ray.kill(reader.actors[1])
    try:
        with pytest.raises(FailedPreconditionError, match="reader actor died"):
            read_all(prefix, reader.read_items)
    finally:
        reader.close()


def test_reader_arguments_are_checked(ray):
    with pytest.raises(InvalidArgumentError, match="actors and threads must be >= 1"):
        ActorReader(ray, actors=0)


def test_job_restores_through_actors_like_in_process(ray, tmp_path):
    model = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "mlp_sgd"
    ref = np.load(model / "reference.npz")

    def config(run: str, actors: int) -> dict:
        return {"model": {"meta_graph": str(model / "model.meta")},
                "checkpoint": {"restore_from": str(model / "ckpt"), "save_dir": str(tmp_path / run)},
                "train": {"steps": 5, "fetches": ["loss:0"], "log_every_steps": 0,
                          "feeds": {"file": str(model / "reference.npz")}},
                "cluster": {"restore_actors": actors, "restore_threads": 2}}

    lines: list[str] = []
    distributed = run_job(parse_config(config("ray", 2)), log=lines.append)
    local = run_job(parse_config(config("local", 0)), log=lambda _: None)
    assert any("2 reader actors" in line for line in lines)
    got = [float(r["loss:0"]) for r in distributed.fetched]
    assert got == [float(r["loss:0"]) for r in local.fetched]
    np.testing.assert_allclose(got, ref["loss"][:5], rtol=1e-4, atol=1e-6)
