"""Shared fixtures: the TensorFlow side venv (our oracle) and fixture paths."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"


def _tf_python() -> str | None:
    candidates = [os.environ.get("ORCH_TF_PYTHON")]
    venv = os.environ.get("ORCH_TF_VENV")
    if venv:
        candidates.append(str(Path(venv) / "bin" / "python"))
    candidates.append(str(REPO / ".tfvenv" / "bin" / "python"))
    for c in candidates:
        if c and Path(c).exists():
            return c
    return None


@pytest.fixture(scope="session")
def tf_python() -> str:
    """Path of the python that has TensorFlow. Skips locally when absent; fails in CI."""
    exe = _tf_python()
    if exe is None:
        msg = "TensorFlow side venv not found: run scripts/tf_venv.sh or set ORCH_TF_VENV"
        if os.environ.get("ORCH_REQUIRE_TF"):
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


@pytest.fixture(scope="session")
def run_tf(tf_python):
    """Run a python snippet under real TensorFlow; returns its stdout. Fails with TF's stderr."""

    def run(code: str, *args: str, timeout: float = 300) -> str:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_USE_LEGACY_KERAS="1",
                   TF_ENABLE_ONEDNN_OPTS="0", CUDA_VISIBLE_DEVICES="")
        proc = subprocess.run([tf_python, "-c", code, *args], capture_output=True, text=True,
                              timeout=timeout, env=env)
        if proc.returncode != 0:
            raise AssertionError(f"TensorFlow subprocess failed:\n{proc.stderr[-4000:]}")
        return proc.stdout

    return run


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def python_exe() -> str:
    return sys.executable


@pytest.fixture(scope="session")
def ray():
    """One real local Ray cluster (2 CPUs) for every test that needs actors (starting one
    takes ~10 s); shut down at the end of the session."""
    from orchestrator.distributed import cluster

    with cluster.connected(num_cpus=2) as ray_module:
        yield ray_module
