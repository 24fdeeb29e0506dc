"""A user's own NNI Tuner class (``className`` + ``codeDirectory``): it runs unchanged.

A custom advisor whose class is, read from its source, an NNI message dispatcher
(``MsgDispatcherBase``) is refused here, with the line ``run`` gives after importing it, so
that ``check`` refuses it too (nothing is imported: the module's source is parsed).
"""

from __future__ import annotations

import ast
from pathlib import Path

from nni2ray.errors import UnsupportedError
from nni2ray.experiment import AlgorithmSpec, Experiment
from nni2ray.translate.plan import SearcherCall, SearcherKind
from nni2ray.translate.tuners._common import TunerMapping

_GENERATES = {"generate_parameters", "generate_multiple_parameters"}


def custom_tuner(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    if spec.role == "advisor":
        _refuse_dispatcher(spec)
    kwargs = {
        "class_name": spec.class_name,
        "code_directory": str(spec.code_directory) if spec.code_directory else None,
        "class_args": dict(spec.class_args),
        "role": spec.role,
        "include_intermediate_results": spec.include_intermediate_results,
    }
    call = SearcherCall(SearcherKind.CUSTOM, spec.class_name or "", kwargs, exact=True)
    return TunerMapping(call)


def dispatcher_message(class_name: str) -> str:
    """The refusal of a class that is no Tuner (``run``'s line, shared with ``check``)."""
    return (
        f"{class_name} is not an NNI Tuner (custom advisors that implement NNI's message "
        "dispatcher cannot run on Ray Tune)"
    )


DISPATCHER_HINT = "subclass nni.tuner.Tuner and implement generate_parameters"


def _refuse_dispatcher(spec: AlgorithmSpec) -> None:
    """Raise when the advisor's class is, in its source, a message dispatcher and no tuner."""
    module, _, attr = (spec.class_name or "").rpartition(".")
    if spec.code_directory is None or not module:
        return
    source = Path(spec.code_directory, *module.split(".")).with_suffix(".py")
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return  # run imports it and says what is wrong
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name != attr:
            continue
        bases = [
            b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases
        ]
        methods = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        dispatcher = any(b.endswith("MsgDispatcherBase") for b in bases)
        if dispatcher and not methods & _GENERATES:
            raise UnsupportedError(
                dispatcher_message(spec.class_name or ""),
                file=str(source),
                field=f"{spec.role}.className",
                hint=DISPATCHER_HINT,
            )
