"""io kernels: string helpers of sharded savers, SaveV2/RestoreV2/MergeV2Checkpoints on real files."""
from __future__ import annotations

import os
import types

import numpy as np
import pytest

from orchestrator.checkpoint import bundle_io
from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError, NotFoundError
from orchestrator.exec.state import KernelContext, SessionState
from orchestrator.ops.registry import get_kernel


def _ctx(name="save/SaveV2"):
    return KernelContext(node=types.SimpleNamespace(name=name), state=SessionState())


def _s(value):
    return np.asarray(value, dtype=object)


def test_registered_flags():
    assert get_kernel("SaveV2").stateful and get_kernel("SaveV2").needs_ctx
    assert get_kernel("RestoreV2").multi
    assert get_kernel("StaticRegexFullMatch").attr_names == frozenset({"pattern"})


def test_string_join_broadcasts_scalars():
    fn = get_kernel("StringJoin").fn
    assert fn(_s(b"/ckpt/model"), _s(b"_temp/part")).item() == b"/ckpt/model_temp/part"
    out = fn(_s([b"a", b"b"]), _s(b"-"), _s([b"x", b"y"]), separator=b"/")
    assert out.tolist() == [b"a/-/x", b"b/-/y"]
    with pytest.raises(InvalidArgumentError, match="one shape"):
        fn(_s([b"a", b"b"]), _s([b"a", b"b", b"c"]))


def test_sharded_filename_and_spec_match_tf_format():
    assert get_kernel("ShardedFilename").fn(_s(b"m_temp/part"), np.int32(1), np.int32(2)).item() == \
        b"m_temp/part-00001-of-00002"
    assert get_kernel("ShardedFilespec").fn(_s(b"m"), np.int32(12)).item() == b"m-?????-of-00012"


def test_static_regex_full_match_like_sharded_saver():
    fn = get_kernel("StaticRegexFullMatch").fn
    out = fn(_s([b"s3://b/m", b"/tmp/m", b"xs3://"]), pattern=b"^s3://.*")
    assert out.dtype == bool and out.tolist() == [True, False, False]
    assert fn(_s(b"abc"), pattern=b"ab").item() is False          # full match, not search
    with pytest.raises(InvalidArgumentError, match="invalid pattern"):
        fn(_s(b"a"), pattern=b"(")


def test_save_then_restore_whole_and_sliced(tmp_path):
    prefix = _s(str(tmp_path / "model").encode())
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    get_kernel("SaveV2").fn(prefix, _s([b"w", b"p", b"p", b"s"]),
                            _s([b"", b"4 3 0,2:0,3", b"4 3 2,2:0,3", b""]), w, w[:2] + 1, w[2:] + 1,
                            _s([b"x", b""]), ctx=_ctx())
    assert sorted(os.listdir(tmp_path)) == ["model.data-00000-of-00001", "model.index"]
    restore = get_kernel("RestoreV2").fn
    out = restore(prefix, _s([b"w", b"p", b"p", b"s"]), _s([b"", b"", b"4 3 1,2:1,2", b""]),
                  dtypes=[DType.FLOAT, DType.FLOAT, DType.FLOAT, DType.STRING], ctx=_ctx("save/RestoreV2"))
    np.testing.assert_array_equal(out[0], w)
    np.testing.assert_array_equal(out[1], w + 1)
    np.testing.assert_array_equal(out[2], (w + 1)[1:3, 1:3])
    assert out[3].tolist() == [b"x", b""]
    with pytest.raises(InvalidArgumentError, match="'w'.*dtype float32.*expects float64"):
        restore(prefix, _s([b"w"]), _s([b""]), dtypes=[DType.DOUBLE], ctx=_ctx("save/RestoreV2"))
    with pytest.raises(NotFoundError, match="'ww'.*Did you mean 'w'"):
        restore(prefix, _s([b"ww"]), _s([b""]), dtypes=[DType.FLOAT], ctx=_ctx("save/RestoreV2"))


def test_save_count_mismatch_names_the_op(tmp_path):
    with pytest.raises(InvalidArgumentError, match="SaveV2 'save/SaveV2': 2 tensor_names"):
        get_kernel("SaveV2").fn(_s(str(tmp_path / "m").encode()), _s([b"a", b"b"]), _s([b"", b""]),
                                np.zeros(1), ctx=_ctx())


def test_sharded_save_then_merge_like_tf(tmp_path):
    """The op sequence of Saver(sharded=True): temp prefix, one SaveV2 per shard, merge."""
    k = {name: get_kernel(name).fn for name in ("StringJoin", "ShardedFilename", "SaveV2", "MergeV2Checkpoints")}
    final = _s(str(tmp_path / "model.ckpt-5").encode())
    tmp = k["StringJoin"](final, _s(b"_temp/part"))
    a, b = np.ones((2, 2), np.float32), np.arange(3, dtype=np.int64)
    shard0 = k["ShardedFilename"](tmp, np.int32(0), np.int32(2))
    shard1 = k["ShardedFilename"](tmp, np.int32(1), np.int32(2))
    k["SaveV2"](shard0, _s([b"a"]), _s([b""]), a, ctx=_ctx())
    k["SaveV2"](shard1, _s([b"b", b"c", b"c"]), _s([b"", b"2 1 0,1:0,1", b"2 1 1,1:0,1"]), b,
                np.array([[1.5]]), np.array([[2.5]]), ctx=_ctx("save/SaveV2_1"))
    k["MergeV2Checkpoints"](np.stack([shard0, shard1]), final, ctx=_ctx("save/MergeV2Checkpoints"))
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt-5.data-00000-of-00002", "model.ckpt-5.data-00001-of-00002",
                                            "model.ckpt-5.index"]
    values = bundle_io.read_tensors(str(tmp_path / "model.ckpt-5"), [("a", ""), ("b", ""), ("c", "")])
    np.testing.assert_array_equal(values[0], a)
    np.testing.assert_array_equal(values[1], b)
    np.testing.assert_array_equal(values[2], [[1.5], [2.5]])
    with pytest.raises(NotFoundError, match="part-00000-of-00002.index does not exist"):
        k["MergeV2Checkpoints"](np.stack([shard0]), final, ctx=_ctx("save/MergeV2Checkpoints"))
