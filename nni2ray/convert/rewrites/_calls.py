"""Shared pieces of the call rewrites: the rewrite protocol, argument checks, common nodes."""

from __future__ import annotations

from typing import ClassVar, Protocol

import libcst as cst

from nni2ray.convert._rewrite_context import Refusal, RewriteContext


class CallRewrite(Protocol):
    """A rewrite that replaces calls to the NNI functions in ``TARGETS`` (qualified names)."""

    DESCRIPTION: ClassVar[str]
    TARGETS: ClassVar[tuple[str, ...]]

    def rewrite(
        self, call: cst.Call, target: str, context: RewriteContext
    ) -> cst.BaseExpression | Refusal:
        """Return the replacement expression, or a :class:`Refusal` saying why not."""
        ...


def targets(*names: str) -> tuple[str, ...]:
    """NNI exposes the trial API both as ``nni.X`` and ``nni.trial.X``."""
    return tuple(f"{module}.{name}" for name in names for module in ("nni", "nni.trial"))


def no_arguments(call: cst.Call, what: str) -> Refusal | None:
    if call.args:
        return Refusal(f"{what}() called with arguments; NNI's takes none")
    return None


def one_argument(call: cst.Call, what: str, keyword: str) -> cst.BaseExpression | Refusal:
    """The single argument of ``what(x)`` or ``what(keyword=x)``."""
    if len(call.args) != 1 or call.args[0].star:
        return Refusal(f"{what}() needs exactly one argument")
    arg = call.args[0]
    if arg.keyword is not None and arg.keyword.value != keyword:
        return Refusal(f"{what}() called with unknown keyword {arg.keyword.value!r}")
    return arg.value


def tune_call(context: RewriteContext, source: str) -> cst.BaseExpression:
    """Parse ``source`` (which uses ``tune.``) and record that it needs ``from ray import tune``."""
    context.need_import("ray", "tune")
    return cst.parse_expression(source)
