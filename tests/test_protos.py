"""Our .proto files against the facts: the generated modules are current, and every
message and enum we declare matches TensorFlow's own descriptor field by field (name,
number, type, label, message type, packing), checked against real TF in its side venv."""
from __future__ import annotations

import importlib
import json
import pathlib
import subprocess
import sys


from proto_describe import TF_MODULES, describe_file

REPO = pathlib.Path(__file__).resolve().parents[1]
PROTO_DIR = REPO / "protos" / "orchestrator" / "protos"
MODULES = sorted(p.stem for p in PROTO_DIR.glob("*.proto"))

# Messages we declare on purpose without fields (their bytes are carried as unknown fields).
OPAQUE = {"tensorflow.SavedObjectGraph", "tensorflow.TypeSpecProto"}



DUMP_TF = f"""
import importlib, json, sys
sys.path.insert(0, {str(pathlib.Path(__file__).parent)!r})
from proto_describe import describe_file, TF_MODULES
out = {{}}
for name in TF_MODULES:
    describe_file(importlib.import_module(name).DESCRIPTOR, out)
print(json.dumps(out))
"""


def ours() -> dict:
    out: dict = {}
    for name in MODULES:
        describe_file(importlib.import_module(f"orchestrator.protos.{name}_pb2").DESCRIPTOR, out)
    return out


def test_generated_modules_are_current():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_protos.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_source_has_a_module():
    generated = {p.stem.removesuffix("_pb2") for p in (REPO / "orchestrator" / "protos").glob("*_pb2.py")}
    assert generated == set(MODULES)


def test_descriptors_match_tensorflow(run_tf):
    theirs = json.loads(run_tf(DUMP_TF))
    mine = ours()
    problems = []
    for name, fields in mine.items():
        if name in OPAQUE:
            continue
        if name not in theirs:
            problems.append(f"{name}: not in TensorFlow")
            continue
        for field, spec in fields.items():
            if field not in theirs[name]:
                problems.append(f"{name}.{field}: not in TensorFlow")
            elif theirs[name][field] != spec:
                problems.append(f"{name}.{field}: ours {spec}, TF {theirs[name][field]}")
        for field in theirs[name].keys() - fields.keys():
            problems.append(f"{name}.{field}: missing from ours (TF {theirs[name][field]})")
    assert not problems, "\n".join(problems)
