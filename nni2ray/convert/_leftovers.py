"""Why a use of ``nni`` is left unchanged: the reasons that go into notes and MIGRATION.md."""

from __future__ import annotations

import libcst as cst

from nni2ray.convert.rewrites import REWRITES_BY_TARGET
from nni2ray.experiment.model import PARAMETER_TYPES

_DYNAMIC = {"getattr", "setattr", "hasattr", "delattr", "vars", "dir"}
_NAS_PREFIXES = ("nni.nas", "nni.retiarii", "nni.mutable", "nni.compression", "nni.algorithms")
# nni.choice(...), nni.uniform(...), ...: NAS mutables in 3.0, the annotation runtime in 2.x.
_NAS_NAMES = {
    f"nni.{name}"
    for name in (*PARAMETER_TYPES, "function_choice", "mutable_layer", "training_update")
}


def leftover_reason(
    name: str, node: cst.CSTNode, parent: cst.CSTNode | None, grandparent: cst.CSTNode | None
) -> str:
    """One sentence saying why the use of ``name`` at ``node`` is not rewritten."""
    if isinstance(parent, cst.Arg) and isinstance(grandparent, cst.Call):
        function = grandparent.func
        if isinstance(function, cst.Name) and function.value in _DYNAMIC:
            return f"dynamic attribute access ({function.value}) on nni cannot be followed"
    if name in REWRITES_BY_TARGET:
        return f"{name} is used as a value, not called directly (a helper or alias calls it)"
    if name == "nni.trace" or name.startswith("nni.trace."):
        return "nni.trace (serialisation tracing) has no Ray Tune counterpart"
    if name in _NAS_NAMES or name.startswith(_NAS_PREFIXES):
        return f"{name} is an NNI NAS / annotation API, outside hyperparameter conversion"
    if name == "nni" and isinstance(parent, cst.Comparison | cst.If | cst.BooleanOperation):
        return "the code tests whether nni is importable; without nni that branch never runs"
    if name in {"nni", "nni.utils", "nni.trial"}:
        return f"the module {name} itself is used (passed around or inspected)"
    return f"{name} has no Ray Tune rewrite"


def annotation_text(node: cst.Expr) -> str | None:
    """The text of an NNI annotation statement (``'''@nni.variable(...)'''``), else None."""
    value = node.value
    if not isinstance(value, cst.SimpleString | cst.ConcatenatedString):
        return None
    text = value.evaluated_value
    if isinstance(text, bytes) or text is None:
        return None
    stripped = text.strip()
    return stripped if stripped.startswith("@nni.") else None
