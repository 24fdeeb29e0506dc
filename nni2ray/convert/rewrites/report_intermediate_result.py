"""Replace ``nni.report_intermediate_result(x)`` with ``tune.report`` carrying the same metric."""

from __future__ import annotations

from typing import ClassVar

from nni2ray.convert.rewrites._calls import targets
from nni2ray.convert.rewrites._metric import ReportRewrite


class RewriteReportIntermediateResult(ReportRewrite):
    DESCRIPTION: ClassVar[str] = (
        'nni.report_intermediate_result(x) -> tune.report({"default": x}) (dicts kept whole)'
    )
    TARGETS: ClassVar[tuple[str, ...]] = targets("report_intermediate_result")
    FINAL: ClassVar[bool] = False
