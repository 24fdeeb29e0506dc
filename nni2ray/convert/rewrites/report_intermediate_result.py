"""Replace ``nni.report_intermediate_result(x)`` with ``tune.report`` carrying the same metric."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from nni2ray.convert._rewrite_context import Refusal, RewriteContext
from nni2ray.convert.rewrites._calls import one_argument, targets
from nni2ray.convert.rewrites._metric import report


class RewriteReportIntermediateResult:
    DESCRIPTION: ClassVar[str] = (
        'nni.report_intermediate_result(x) -> tune.report({"default": x}) (dicts kept whole)'
    )
    TARGETS: ClassVar[tuple[str, ...]] = targets("report_intermediate_result")

    def rewrite(
        self, call: cst.Call, target: str, context: RewriteContext
    ) -> cst.BaseExpression | Refusal:
        value = one_argument(call, target, keyword="metric")
        if isinstance(value, Refusal):
            return value
        return report(call, value, context, final=False)
