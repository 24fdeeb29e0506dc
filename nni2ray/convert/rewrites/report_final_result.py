"""Replace ``nni.report_final_result(x)`` with a final ``tune.report`` carrying the same metric."""

from __future__ import annotations

from typing import ClassVar

from nni2ray.convert.rewrites._calls import targets
from nni2ray.convert.rewrites._metric import ReportRewrite


class RewriteReportFinalResult(ReportRewrite):
    DESCRIPTION: ClassVar[str] = (
        'nni.report_final_result(x) -> tune.report({"default": x, "final_result": True})'
    )
    TARGETS: ClassVar[tuple[str, ...]] = targets("report_final_result")
    FINAL: ClassVar[bool] = True
