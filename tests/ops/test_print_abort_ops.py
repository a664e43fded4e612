"""PrintV2 and Abort against what real TF did (tests/fixtures/ops/print_abort.*, made by
scripts/tf_fixtures/ops_array_coverage_cases.py): the text PrintV2 wrote and where, and
how TF's process ended on Abort — which here becomes an error naming the node."""
from __future__ import annotations

import logging
import types

import numpy as np
import pytest

from orchestrator.errors import InvalidArgumentError, OrchestratorError, UnimplementedError
from orchestrator.exec.state import KernelContext, SessionState
from orchestrator.ops import io_print_ops, search_ops
from orchestrator.ops.io_print_ops import AbortOpError
from orchestrator.ops.registry import get_kernel, registered_op_types

from optable import decode_attrs, load_table   # tests/ops/optable.py

CASES, ARRAYS = load_table("print_abort")
ARRAY_CASES, _ = load_table("array")


def ctx_for(name: str) -> KernelContext:
    return KernelContext(node=types.SimpleNamespace(name=name, inputs=()), state=SessionState())


def string_scalar(a: np.ndarray) -> np.ndarray:
    """A stored string array as the executor hands it over: object array of bytes, read-only."""
    out = np.array([bytes(v) for v in a.reshape(-1)], dtype=object).reshape(a.shape)
    out.flags.writeable = False
    return out


PRINT_CASES = [c for c in CASES if c["op"] == "PrintV2"]
ABORT_CASES = [c for c in CASES if c["op"] == "Abort"]


@pytest.mark.parametrize("case", PRINT_CASES, ids=[c["id"] for c in PRINT_CASES])
def test_print_v2_table(case, capsys, tmp_path):
    attrs = decode_attrs(case["attrs"], ())
    target = tmp_path / "printed.txt"
    if case["stream"] == "file":
        target.write_text("before\n")   # as the generator did: PrintV2 appends
        attrs["output_stream"] = f"file://{target}".encode()
    message = string_scalar(ARRAYS[case["inputs"][0]])
    run = get_kernel("PrintV2").fn
    if "error" in case:
        with pytest.raises(InvalidArgumentError) as info:
            run(message, ctx=ctx_for("log/print"), **attrs)
        for part in case["match"]:
            assert part in str(info.value)
        assert "PrintV2" in str(info.value) and "log/print" in str(info.value)
        return
    assert run(message, ctx=ctx_for("log/print"), **attrs) is None
    out, err = capsys.readouterr()
    written = {"stdout": out, "stderr": err, "file": target.read_text() if target.exists() else ""}
    assert written[case["stream"]] == case["printed"]
    for stream, text in written.items():   # and nothing anywhere else
        if stream != case["stream"]:
            assert text == "", stream


@pytest.mark.parametrize("level", ["info", "warning", "error"])
def test_print_v2_log_streams_go_to_the_python_logger(level, caplog):
    caplog.set_level(logging.INFO, logger="orchestrator.print")
    get_kernel("PrintV2").fn(np.array(b"hello", dtype=object), output_stream=f"log({level})".encode())
    (record,) = caplog.records
    assert record.levelname == level.upper() and record.getMessage() == "hello\n"


def test_print_v2_refuses_remote_files():
    with pytest.raises(UnimplementedError, match="PrintV2.*s3://bucket/x.*local"):
        get_kernel("PrintV2").fn(np.array(b"x", dtype=object), output_stream=b"file://s3://bucket/x")


@pytest.mark.parametrize("case", ABORT_CASES, ids=[c["id"] for c in ABORT_CASES])
def test_abort_raises_what_tf_logged_before_ending_its_process(case):
    attrs = decode_attrs(case["attrs"], ())
    assert not case["still_running"]   # TF's process never got past the op
    kdef = get_kernel("Abort")
    assert kdef.stateful   # never constant-folded: it has no inputs
    with pytest.raises(AbortOpError) as info:
        kdef.fn(ctx=ctx_for("stop/abort"), **attrs)
    err = info.value
    assert isinstance(err, OrchestratorError)   # the CLI prints it as one message
    assert case["stderr_line"] in str(err)
    assert "stop/abort" in str(err) and err.node == "stop/abort"
    assert err.error_msg == case["attrs"]["error_msg"]
    assert err.exit_without_error is case["attrs"]["exit_without_error"]
    # TF's child process: killed by SIGABRT (-6), or exit status 0.
    assert err.exit_status == (0 if case["returncode"] == 0 else 128 - case["returncode"])


def test_kernel_signatures_match_tf():
    recorded = {c["op"]: c["op_signature"] for c in CASES + ARRAY_CASES if "op_signature" in c}
    for module in (io_print_ops, search_ops):
        for op_type in registered_op_types():
            kdef = get_kernel(op_type)
            if kdef.fn.__module__ != module.__name__:
                continue
            signature = recorded[op_type]
            assert kdef.attr_names <= set(signature["attrs"]), op_type
            assert kdef.multi == signature["multi"], op_type
            assert list(kdef.ref_inputs) == signature["ref_inputs"], op_type


def test_every_kernel_of_these_modules_is_tabled():
    tabled = {c["op"] for c in CASES + ARRAY_CASES}
    for module in (io_print_ops, search_ops):
        ours = {t for t in registered_op_types() if get_kernel(t).fn.__module__ == module.__name__}
        assert ours and ours <= tabled, module.__name__
