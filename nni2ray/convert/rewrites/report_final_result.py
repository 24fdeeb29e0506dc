"""Replace ``nni.report_final_result(x)`` with a final ``tune.report`` carrying the same metric."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from nni2ray.convert._rewrite_context import Refusal, RewriteContext
from nni2ray.convert.rewrites._calls import one_argument, targets
from nni2ray.convert.rewrites._metric import report


class RewriteReportFinalResult:
    DESCRIPTION: ClassVar[str] = (
        'nni.report_final_result(x) -> tune.report({"default": x, "final_result": True})'
    )
    TARGETS: ClassVar[tuple[str, ...]] = targets("report_final_result")

    def rewrite(
        self, call: cst.Call, target: str, context: RewriteContext
    ) -> cst.BaseExpression | Refusal:
        value = one_argument(call, target, keyword="metric")
        if isinstance(value, Refusal):
            return value
        return report(call, value, context, final=True)
