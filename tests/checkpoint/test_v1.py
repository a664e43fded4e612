"""V1 checkpoints (one SavedTensorSlices table): TF's fixture, a TF-made file of every dtype with a
partitioned variable, and corrupt files."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from orchestrator.checkpoint import table, v1
from orchestrator.checkpoint.reader import load_checkpoint
from orchestrator.dtypes import DType
from orchestrator.errors import DataLossError, NotFoundError, OrchestratorError


def test_fixture_through_the_reader_api(fixtures_dir):
    case_dir = fixtures_dir / "checkpoints" / "v1_format"
    reader = load_checkpoint(str(case_dir))                  # state file -> model.ckpt, a V1 file
    assert reader.format == "v1"
    assert reader.get_variable_to_shape_map() == {"count": [], "s": [2], "w": [3, 4]}
    assert reader.get_variable_to_dtype_map() == {"count": DType.INT64, "s": DType.STRING, "w": DType.FLOAT}
    np.testing.assert_array_equal(reader.get_tensor("w"), np.load(case_dir / "expected.npz")["w"])
    assert list(reader.get_tensor("s")) == [b"x", b""]
    with pytest.raises(NotFoundError, match="Did you mean 'count'"):
        reader.get_tensor("cont")
    assert v1.is_v1_table((case_dir / "model.ckpt").read_bytes())


TF_V1 = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    t = tf.compat.v1
    t.disable_eager_execution()
    out = sys.argv[1]
    rng = np.random.default_rng(0)
    values = {
        "f16": rng.standard_normal((2, 3)).astype(np.float16),
        "f64": rng.standard_normal((4,)),
        "c64": (rng.standard_normal(3) + 1j * rng.standard_normal(3)).astype(np.complex64),
        "c128": rng.standard_normal((2, 2)) + 1j,
        "b": np.array([True, False, True]),
        "i8": np.array([-128, 0, 127], np.int8), "u8": np.array([0, 255], np.uint8),
        "i16": np.array([-32768, 7], np.int16), "i32": np.array([[-5, 2 ** 31 - 1]], np.int32),
        "i64": np.array([2 ** 62, -3], np.int64), "scalar": np.float32(2.5),
    }
    variables = {k: t.Variable(v, name=k) for k, v in values.items()}   # V1 cannot save bfloat16
    variables["s"] = t.Variable(tf.constant([b"a\\x00b", b"", b"\\xff"]), name="s")
    part = t.get_variable("part", [10, 3], initializer=t.random_normal_initializer(seed=1),
                          partitioner=t.fixed_size_partitioner(3))
    saver = t.train.Saver(write_version=t.train.SaverDef.V1)
    with t.Session() as sess:
        sess.run(t.global_variables_initializer())
        saver.save(sess, out + "/v1.ckpt", write_meta_graph=False, write_state=False)
        got = sess.run({**variables, "part": tf.concat(list(part), 0)})
    np.savez(out + "/values.npz", **{k: v for k, v in got.items() if k != "s"})
    # sharded: one file per device (3 here: cpu:0, cpu:1 and the partitioned "emb" unplaced)
    with tf.Graph().as_default():
        with tf.device("/cpu:0"):
            a = t.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="a")
        with tf.device("/cpu:1"):
            b = t.Variable(np.array([7, 8], np.int64), name="b")
        emb = t.get_variable("emb", [6, 2], initializer=t.random_normal_initializer(seed=2),
                             partitioner=t.fixed_size_partitioner(2))
        saver = t.train.Saver(write_version=t.train.SaverDef.V1, sharded=True)
        config = t.ConfigProto(device_count={"CPU": 2}, allow_soft_placement=True)
        with t.Session(config=config) as sess:
            sess.run(t.global_variables_initializer())
            path = saver.save(sess, out + "/sharded.ckpt", write_meta_graph=False)
            values = sess.run({"a": a, "b": b, "emb": tf.concat(list(emb), 0)})
    np.savez(out + "/sharded.npz", **values)
    print(json.dumps({"strings": [x.hex() for x in got["s"]], "sharded": path}))
""")


def test_every_dtype_and_a_partitioned_variable_written_by_tf(run_tf, tmp_path):
    printed = json.loads(run_tf(TF_V1, str(tmp_path)).strip().splitlines()[-1])
    strings = printed["strings"]
    want = dict(np.load(tmp_path / "values.npz"))
    reader = load_checkpoint(str(tmp_path / "v1.ckpt"))
    assert reader.format == "v1"
    assert reader.get_variable_to_shape_map()["part"] == [10, 3]
    for name, value in want.items():
        got = reader.get_tensor(name)
        assert got.dtype == value.dtype, name
        np.testing.assert_array_equal(got, value, err_msg=name)
    assert [x.hex() for x in reader.get_tensor("s")] == strings
    # the sharded save: a pattern names the checkpoint, the state file too
    assert "?????" in printed["sharded"]
    for where in (printed["sharded"], str(tmp_path)):
        sharded = load_checkpoint(where)
        assert sharded.prefix == printed["sharded"] and sharded.format == "v1"
        for name, value in np.load(tmp_path / "sharded.npz").items():
            np.testing.assert_array_equal(sharded.get_tensor(name), value, err_msg=name)


def _v1_file(meta_tensors, data_rows) -> bytes:
    from orchestrator.protos import saved_tensor_slice_pb2 as pb2
    meta = pb2.SavedTensorSlices()
    for name, dtype, shape, slices in meta_tensors:
        item = meta.meta.tensor.add(name=name, type=dtype)
        for d in shape:
            item.shape.dim.add().size = d
        for extents in slices:
            proto = item.slice.add()
            for start, length in extents:
                ext = proto.extent.add(start=start)
                if length >= 0:
                    ext.length = length
    rows = [(b"", meta.SerializeToString())]
    for name, extents, fill in data_rows:
        value = pb2.SavedTensorSlices()
        value.data.name = name
        fill(value.data.data)
        rows.append((table.encode_slice_key(name, extents), value.SerializeToString()))
    return table.build_table(sorted(rows))


def test_slices_assembled_and_corruption_detected(tmp_path):
    slices = [((0, 2), (0, -1)), ((2, 1), (0, -1))]
    good = _v1_file([("w", DType.INT32, [3, 2], slices)],
                    [("w", slices[0], lambda d: d.int_val.extend([1, 2, 3, 4])),
                     ("w", slices[1], lambda d: d.int_val.extend([5, 6]))])
    (tmp_path / "good").write_bytes(good)
    np.testing.assert_array_equal(load_checkpoint(str(tmp_path / "good")).get_tensor("w"),
                                  np.arange(1, 7, dtype=np.int32).reshape(3, 2))
    missing = _v1_file([("w", DType.INT32, [3, 2], slices)],
                       [("w", slices[0], lambda d: d.int_val.extend([1, 2, 3, 4]))])
    (tmp_path / "missing").write_bytes(missing)
    with pytest.raises(DataLossError, match=r"'w' slice \[\(2, 1\), \(0, -1\)\].*no data entry"):
        load_checkpoint(str(tmp_path / "missing")).get_tensor("w")
    short = _v1_file([("w", DType.INT32, [3, 2], slices[:1])],
                     [("w", slices[0], lambda d: d.int_val.extend([1, 2, 3]))])
    (tmp_path / "short").write_bytes(short)
    with pytest.raises(DataLossError, match="3 values stored for shape \\[2, 2\\]"):
        load_checkpoint(str(tmp_path / "short")).get_tensor("w")
    gap = _v1_file([("w", DType.INT32, [3, 2], slices[:1])],
                   [("w", slices[0], lambda d: d.int_val.extend([1, 2, 3, 4]))])
    (tmp_path / "gap").write_bytes(gap)
    with pytest.raises(DataLossError, match="cover 4 of its 6"):
        load_checkpoint(str(tmp_path / "gap")).get_tensor("w")


def test_corrupt_v1_table(fixtures_dir, tmp_path):
    raw = bytearray((fixtures_dir / "checkpoints" / "v1_format" / "model.ckpt").read_bytes())
    raw[20] ^= 0xFF
    (tmp_path / "model.ckpt").write_bytes(bytes(raw))
    with pytest.raises(DataLossError, match="crc32c"):
        load_checkpoint(str(tmp_path / "model.ckpt"))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_fuzz_mutated_v1_file_only_raises_our_errors(fixtures_dir, data):
    raw = bytearray((fixtures_dir / "checkpoints" / "v1_format" / "model.ckpt").read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        checkpoint = v1.V1Checkpoint("fuzz.ckpt", bytes(raw))
        checkpoint.read(checkpoint.names())
    except OrchestratorError:
        pass


def test_slice_outside_the_tensor_is_data_loss(tmp_path):
    extents = ((2, 3), (0, -1))
    bad = _v1_file([("w", DType.INT32, [3, 2], [extents])], [("w", extents, lambda d: d.int_val.extend([1] * 6))])
    (tmp_path / "bad").write_bytes(bad)
    with pytest.raises(DataLossError, match="does not fit the shape"):
        load_checkpoint(str(tmp_path / "bad")).get_tensor("w")
