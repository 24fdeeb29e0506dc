"""Replace ``nni.utils.merge_parameter(base, override)`` with an equivalent local helper."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from nni2ray.convert._rewrite_context import Refusal, RewriteContext


class RewriteMergeParameter:
    DESCRIPTION: ClassVar[str] = (
        "nni.utils.merge_parameter(base, override) -> _merge_parameter(...), a local copy"
    )
    TARGETS: ClassVar[tuple[str, ...]] = ("nni.utils.merge_parameter",)

    def rewrite(
        self, call: cst.Call, target: str, context: RewriteContext
    ) -> cst.BaseExpression | Refusal:
        if len(call.args) != 2 or any(arg.star for arg in call.args):
            return Refusal("merge_parameter() needs exactly two arguments")
        context.need_helper("_merge_parameter")
        return call.with_changes(func=cst.Name("_merge_parameter"))
