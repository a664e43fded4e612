"""Restore plan: pure properties (coverage, balance, files) and its shape on a real index."""
from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from orchestrator.checkpoint import bundle_io, plan
from orchestrator.errors import InvalidArgumentError, NotFoundError


def _items(layout: list[list[tuple[int, int]]]) -> list[plan.StoredItem]:
    """Items from per-file lists of (gap before, size); offsets follow one another like TF's."""
    items = []
    for f, tensors in enumerate(layout):
        offset = 0
        for t, (gap, size) in enumerate(tensors):
            offset += gap
            entry = SimpleNamespace(offset=offset, size=size)
            items.append(plan.StoredItem(f"f{f}t{t}".encode(), f"file{f}", offset, size, entry))
            offset += size
    return items


def check_plan(items: list[plan.StoredItem], work: list[list[plan.ReadRange]], readers: int,
               max_range_bytes: int) -> None:
    assert len(work) == readers
    covered: dict[bytes, list[tuple[int, int]]] = defaultdict(list)
    by_key = {i.key: i for i in items}
    for ranges in work:
        assert ranges == sorted(ranges, key=lambda r: (r.file, r.offset))
        for rng in ranges:
            assert rng.length <= max(max_range_bytes, 0) or rng.length == 0
            for piece in rng.tensors:
                item = by_key[piece.key]
                assert item.file == rng.file                                  # no range crosses files
                assert 0 <= piece.offset_in_range and piece.offset_in_range + piece.length <= rng.length
                start = piece.offset_in_tensor(rng.offset)
                covered[piece.key].append((start, piece.length))
    for item in items:                                                        # every byte exactly once
        spans = sorted(covered[item.key])
        assert spans, item.key
        pos = 0
        for start, length in spans:
            assert start == pos, (item.key, spans)
            pos += length
        assert pos == item.size
    loads = [sum(r.length for r in ranges) for ranges in work]
    largest = max((r.length for ranges in work for r in ranges), default=0)
    assert max(loads) - min(loads) <= largest                                  # balanced within the largest


layouts = st.lists(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 3000)), min_size=0, max_size=12),
                   min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(layouts, st.integers(1, 6), st.integers(50, 4096), st.integers(0, 600))
def test_plan_properties(layout, readers, max_range_bytes, gap):
    items = _items(layout)
    work = plan.plan_items(items, readers=readers, max_range_bytes=max_range_bytes, coalesce_gap=gap)
    check_plan(items, work, readers, max_range_bytes)


def test_neighbours_coalesce_and_gaps_split():
    items = _items([[(0, 100), (0, 100), (50, 100), (500, 100)], [(0, 10)]])
    work = plan.plan_items(items, readers=1, max_range_bytes=1000, coalesce_gap=64)
    ranges = work[0]
    assert [(r.file, r.offset, r.length, [p.key for p in r.tensors]) for r in ranges] == [
        ("file0", 0, 350, [b"f0t0", b"f0t1", b"f0t2"]),      # gap of 50 <= 64 read through
        ("file0", 850, 100, [b"f0t3"]),                      # gap of 500: a new request
        ("file1", 0, 10, [b"f1t0"])]


def test_large_tensor_is_split_and_spread_over_readers():
    items = _items([[(0, 10_000)]])
    work = plan.plan_items(items, readers=3, max_range_bytes=3000, coalesce_gap=0)
    assert sorted(len(w) for w in work) == [1, 1, 2]
    assert sorted(r.length for w in work for r in w) == [1000, 3000, 3000, 3000]
    check_plan(items, work, 3, 3000)


def test_greedy_largest_first_balance():
    items = _items([[(1, s) for s in (70, 50, 40, 30, 10)]])
    work = plan.plan_items(items, readers=2, max_range_bytes=1000, coalesce_gap=0)
    assert sorted(sum(r.length for r in w) for w in work) == [100, 100]


def test_bad_arguments():
    with pytest.raises(InvalidArgumentError, match="readers"):
        plan.plan_items([], readers=0)
    with pytest.raises(InvalidArgumentError, match="max_range_bytes"):
        plan.plan_items([], max_range_bytes=0)


def test_plan_restore_on_tf_index(fixtures_dir):
    """Partitioned names expand to their slice entries; sharded files stay separate."""
    index = bundle_io.read_index(str(fixtures_dir / "checkpoints" / "partitioned" / "model.ckpt"))
    work = plan.plan_restore(index, readers=2, keys=[b"rows", b"plain"])
    keys = sorted(p.key for w in work for r in w for p in r.tensors)
    assert len(keys) == 4 and keys[-1] == b"plain" and all(k.startswith(b"\x00rows") for k in keys[:3])
    with pytest.raises(NotFoundError, match="Did you mean 'rows'"):
        plan.plan_restore(index, keys=[b"row"])
    sharded = bundle_io.read_index(str(fixtures_dir / "checkpoints" / "sharded" / "model.ckpt"))
    ranges = plan.plan_restore(sharded, readers=1)[0]
    assert [r.file.rsplit(".", 1)[1] for r in ranges] == ["data-00000-of-00002", "data-00001-of-00002"]
    assert [[p.key for p in r.tensors] for r in ranges] == [[b"a", b"b"], [b"c", b"d"]]
