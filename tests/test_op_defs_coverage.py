"""The fallback OpDef table (orchestrator/graph/op_defs.binpb, made from TF's registry by
scripts/gen_op_defs.py) covers every op type that has a kernel, and each kernel's
registration agrees with its OpDef — the executor types a node's outputs from the OpDef and
calls the kernel as registered, so a disagreement breaks graphs that lack their own op list."""
from __future__ import annotations

from orchestrator.graph.op_defs import builtin_op_defs
from orchestrator.ops.registry import get_kernel, registered_op_types


def test_every_kernel_has_an_op_def():
    missing = sorted(set(registered_op_types()) - set(builtin_op_defs()))
    assert missing == [], (f"kernels without an OpDef in op_defs.binpb: {missing}; regenerate it with "
                           f"/work/tfvenv/bin/python scripts/gen_op_defs.py")


def test_kernel_registrations_agree_with_their_op_defs():
    op_defs = builtin_op_defs()
    wrong = []
    for op_type in registered_op_types():
        kdef, op_def = get_kernel(op_type), op_defs.get(op_type)
        if op_def is None:
            continue   # reported by the test above
        attrs = {a.name for a in op_def.attr}
        multi = len(op_def.output_arg) > 1 or any(a.number_attr or a.type_list_attr for a in op_def.output_arg)
        refs = [i for i, a in enumerate(op_def.input_arg) if a.is_ref]
        list_inputs = any(a.number_attr or a.type_list_attr for a in op_def.input_arg)
        # The optimizer kernels share one signature per family, declaring the union of the
        # family's flags (an attr the OpDef lacks is never passed, so its default applies).
        if not kdef.attr_names <= attrs and kdef.fn.__module__ != "orchestrator.ops.training_ops":
            wrong.append(f"{op_type}: declares attrs {sorted(kdef.attr_names - attrs)} the OpDef lacks")
        if kdef.multi != multi:
            wrong.append(f"{op_type}: multi={kdef.multi}, the OpDef has {len(op_def.output_arg)} output args")
        # ref_inputs counts input tensors, the OpDef counts args: comparable without list args.
        if not list_inputs and list(kdef.ref_inputs) != refs:
            wrong.append(f"{op_type}: ref_inputs={list(kdef.ref_inputs)}, the OpDef's ref inputs are {refs}")
    assert wrong == []


def test_the_table_has_what_gen_op_defs_promises():
    # A few op types that had kernels before they had OpDefs here, and ones only old graphs use.
    for op_type in ("LinSpace", "Roll", "SpaceToBatchND", "MatrixDiagV3", "TensorArrayV2",
                    "TensorListConcatLists", "LowerBound", "UniqueWithCountsV2"):
        assert op_type in builtin_op_defs(), op_type
    op_def = builtin_op_defs()["TensorArrayV2"]
    assert [a.name for a in op_def.output_arg] == ["handle"] and op_def.deprecation.version == 26
