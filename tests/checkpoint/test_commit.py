"""Commit protocol: kill a real saving process right after each stage, then resume.

The child process restores a TF-made checkpoint, saves step 1, changes a variable and
saves again with ``ORCH_CRASH_AFTER_STAGE`` set, which SIGKILLs it after that stage.
The parent then checks that the latest checkpoint is intact (the old one before the
state file is written, the new one after), restores it, and that the next save
succeeds and leaves no leftovers.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from orchestrator.checkpoint import commit, files, state_file
from orchestrator.checkpoint.saver import Saver
from orchestrator.exec.state import SessionState
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.model import Graph

CHILD = r"""
import sys
import numpy as np
from orchestrator.exec.state import SessionState
from orchestrator.graph.load import import_meta_graph
from orchestrator.graph.model import Graph
case, out, second_path, crash = sys.argv[1:5]
graph = Graph()
with graph.as_default():
    saver = import_meta_graph(case + "/model.meta")
state = SessionState()
saver.restore(state, case + "/model.ckpt-0")
saver.saver_def.max_to_keep = 1
saver.save(state, out + "/m", global_step=1)
w = state.resources[("", "w")]
w.set(w.value + 100.0)
import os
os.environ["ORCH_CRASH_AFTER_STAGE"] = crash
saver.save(state, out + "/" + second_path)
print("not killed")
"""


def _run_child(case, out, second_path, stage):
    proc = subprocess.run([sys.executable, "-c", CHILD, str(case), str(out), second_path, stage],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    return proc


def _load(case):
    graph = Graph()
    with graph.as_default():
        saver = import_meta_graph(str(case / "model.meta"))
    return graph, saver


def _w_after_restore(saver, prefix):
    state = SessionState()
    saver.restore(state, prefix)
    return state, state.resources[("", "w")].value


NEW_PREFIX_STAGES = ["cleanup", "data:0", "data", "index", "meta", "state", "retention"]


@pytest.mark.parametrize("stage", NEW_PREFIX_STAGES)
def test_crash_after_stage_keeps_a_readable_latest(fixtures_dir, tmp_path, stage):
    case = fixtures_dir / "saver" / "renamed"
    _run_child(case, tmp_path, "m-2", stage)
    graph, saver = _load(case)
    original = np.load(case / "values.npz")["w"]
    latest = state_file.latest_checkpoint(str(tmp_path))
    committed = NEW_PREFIX_STAGES.index(stage) >= NEW_PREFIX_STAGES.index("state")
    assert latest == str(tmp_path / ("m-2" if committed else "m-1"))
    state, w = _w_after_restore(saver, latest)
    np.testing.assert_array_equal(w, original + 100.0 if committed else original)
    # the resumed run saves again over the same step: succeeds, nothing half-written remains
    resumed = Saver(saver_def=saver.saver_def, graph=graph)
    resumed.recover_last_checkpoints(state_file.get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths)
    resumed.saver_def.max_to_keep = 2
    prefix = resumed.save(state, str(tmp_path / "m"), global_step=2)
    assert state_file.latest_checkpoint(str(tmp_path)) == prefix
    names = sorted(os.listdir(tmp_path))
    assert not [n for n in names if files.TEMP_MARKER in n]
    stems = {n.split(".")[0] for n in names if n != "checkpoint"}
    for stem in stems:                       # every data file left has its index
        assert f"{stem}.index" in names, names
    np.testing.assert_array_equal(_w_after_restore(resumed, prefix)[1], w)


OVERWRITE_STAGES = ["data:0", "index", "meta", "staged-state", "state"]


@pytest.mark.parametrize("stage", OVERWRITE_STAGES)
def test_crash_while_overwriting_the_latest_prefix(fixtures_dir, tmp_path, stage):
    """``save(sess, "m-1")`` again: the old m-1 stays readable until the new one is."""
    case = fixtures_dir / "saver" / "renamed"
    _run_child(case, tmp_path, "m-1", stage)
    graph, saver = _load(case)
    original = np.load(case / "values.npz")["w"]
    latest = state_file.latest_checkpoint(str(tmp_path))
    assert latest is not None
    state, w = _w_after_restore(saver, latest)
    # first-time "index"/"meta" hooks fire for the staging copy: the old checkpoint is still latest
    committed = stage in ("staged-state", "state")
    np.testing.assert_array_equal(w, original + 100.0 if committed else original)
    if stage == "staged-state":
        assert files.TEMP_MARKER in latest           # the staged copy is the latest, complete checkpoint
    saver.save(state, str(tmp_path / "m-1"))
    names = sorted(os.listdir(tmp_path))
    assert names == ["checkpoint", "m-1.data-00000-of-00001", "m-1.index", "m-1.meta"]
    assert state_file.latest_checkpoint(str(tmp_path)) == str(tmp_path / "m-1")


def test_cleanup_keeps_referenced_and_removes_orphans(tmp_path):
    for name in ["a.index", "a.data-00000-of-00001", "b.data-00000-of-00001", "checkpoint.orch-tmp-1234",
                 "c.orch-tmp-99.data-00000-of-00001", "c.orch-tmp-99.index", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    removed = commit.cleanup_leftovers(str(tmp_path), {str(tmp_path / "c.orch-tmp-99")})
    assert sorted(removed) == ["b.data-00000-of-00001", "checkpoint.orch-tmp-1234"]
    assert sorted(os.listdir(tmp_path)) == ["a.data-00000-of-00001", "a.index", "c.orch-tmp-99.data-00000-of-00001",
                                            "c.orch-tmp-99.index", "notes.txt"]


def test_memory_store_protocol_writes_state_last(fixtures_dir):
    """On an object store the state file is one PUT written after the index."""
    import fsspec
    case = fixtures_dir / "saver" / "renamed"
    graph, saver = _load(case)
    state, _ = _w_after_restore(saver, str(case / "model.ckpt-0"))
    fs = fsspec.filesystem("memory")
    order = []
    real_pipe = fs.pipe_file

    def recording_pipe(path, data, **kw):                 # observe, then really write
        order.append(path.rsplit("/", 1)[-1])
        return real_pipe(path, data, **kw)

    fs.pipe_file = recording_pipe
    try:
        saver.save(state, "memory://h5-commit/run/m", global_step=1)
    finally:
        del fs.pipe_file
    assert order == ["m-1.data-00000-of-00001", "m-1.index", "m-1.meta", "checkpoint"]


@pytest.fixture(scope="module")
def s3_options():
    pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server._server.server_address[:2]
    options = {"key": "testing", "secret": "testing",
               "client_kwargs": {"endpoint_url": f"http://{host}:{port}"}}
    import urllib.request
    urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/h5-bucket", method="PUT")).close()
    yield options
    server.stop()


def test_s3_save_retention_and_resume(fixtures_dir, s3_options):
    """An object store without rename: state file after index, retention after state, latest restores."""
    case = fixtures_dir / "saver" / "renamed"
    graph, saver = _load(case)
    saver = Saver(saver_def=saver.saver_def, graph=graph, storage_options=s3_options)
    saver.saver_def.max_to_keep = 2
    state, w = _w_after_restore(saver, str(case / "model.ckpt-0"))
    run = "s3://h5-bucket/run"
    for step in (1, 2, 3):
        saver.save(state, f"{run}/model.ckpt", global_step=step)
    names = files.list_names(run, **s3_options)
    assert "model.ckpt-1.index" not in names and "model.ckpt-3.index" in names
    assert not [n for n in names if files.TEMP_MARKER in n]
    raw = state_file.read_checkpoint_state(run, **s3_options)
    assert list(raw.all_model_checkpoint_paths) == ["model.ckpt-2", "model.ckpt-3"]
    latest = state_file.latest_checkpoint(run, **s3_options)
    assert latest == f"{run}/model.ckpt-3"
    back = SessionState()
    saver.restore(back, latest)
    np.testing.assert_array_equal(back.resources[("", "w")].value, w)
