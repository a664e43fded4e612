"""Read any checkpoint with real TensorFlow and dump what ``tf.train.load_checkpoint`` returns.

    /work/tfvenv/bin/python scripts/tf_read_checkpoint.py PREFIX OUT.npz [--json OUT.json]

Tests use it (through the TF venv's python) to check that TF reads what we write. Output:

- ``OUT.npz``: tensor name → value for every numeric/bool tensor; bfloat16 values are stored as
  their uint16 bit patterns (numpy has no bfloat16), marked ``"bits": true`` in the json;
- ``OUT.json`` (default: OUT.npz with .json): ``{"tensors": {name: {"dtype": TF dtype name,
  "shape": [...], "npz": bool, "bits": bool, "strings": [base64, ...] (string tensors only,
  flattened row-major)}}}``.

String tensors live only in the json (base64), because npz would strip trailing NUL bytes.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import pathlib
import sys
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")


def read_checkpoint(prefix: str) -> tuple[dict[str, Any], dict[str, dict]]:
    """(npz arrays, json info) for every tensor TF's reader lists in the checkpoint."""
    import numpy as np
    import tensorflow as tf
    reader = tf.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    shapes = reader.get_variable_to_shape_map()
    arrays: dict[str, Any] = {}
    info: dict[str, dict] = {}
    for name in sorted(dtypes):
        dtype = tf.as_dtype(dtypes[name])
        value = reader.get_tensor(name)
        entry: dict[str, Any] = {"dtype": dtype.name, "shape": list(shapes[name]),
                                 "npz": dtype != tf.string, "bits": dtype == tf.bfloat16}
        if dtype == tf.string:
            flat = np.asarray(value, dtype=object).reshape(-1)
            entry["strings"] = [base64.b64encode(bytes(v)).decode("ascii") for v in flat]
        elif dtype == tf.bfloat16:
            arrays[name] = np.asarray(value).view(np.uint16)
        else:
            arrays[name] = np.asarray(value)
        info[name] = entry
    return arrays, info


def dump(prefix: str, out_npz: pathlib.Path, out_json: pathlib.Path | None = None,
         extra: dict | None = None) -> dict[str, dict]:
    """Write OUT.npz + OUT.json for ``prefix``; ``extra`` keys are merged into the json."""
    import numpy as np
    arrays, info = read_checkpoint(prefix)
    out_npz.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_npz, **arrays)
    out_json = out_json or out_npz.with_suffix(".json")
    out_json.write_text(json.dumps({"tensors": info, **(extra or {})}, indent=1) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefix", help="checkpoint prefix (e.g. dir/model.ckpt-0) or V1 file")
    parser.add_argument("out", type=pathlib.Path, help="output .npz")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="output .json")
    args = parser.parse_args(argv)
    info = dump(args.prefix, args.out, args.json)
    print(f"{len(info)} tensors from {args.prefix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
