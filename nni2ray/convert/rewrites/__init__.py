"""The rewrite registry: one module per NNI call removed, plus the import clean-up."""

from __future__ import annotations

from nni2ray.convert.rewrites._calls import CallRewrite
from nni2ray.convert.rewrites.get_next_parameter import RewriteGetNextParameter
from nni2ray.convert.rewrites.merge_parameter import RewriteMergeParameter
from nni2ray.convert.rewrites.report_final_result import RewriteReportFinalResult
from nni2ray.convert.rewrites.report_intermediate_result import RewriteReportIntermediateResult
from nni2ray.convert.rewrites.smart_parameter import RewriteSmartParameter
from nni2ray.convert.rewrites.trial_identity import RewriteTrialIdentity

#: Every call rewrite, in the order the README lists them.
CALL_REWRITES: tuple[CallRewrite, ...] = (
    RewriteGetNextParameter(),
    RewriteMergeParameter(),
    RewriteReportIntermediateResult(),
    RewriteReportFinalResult(),
    RewriteTrialIdentity(),
    RewriteSmartParameter(),
)

#: Qualified NNI name → the rewrite that replaces calls to it.
REWRITES_BY_TARGET: dict[str, CallRewrite] = {
    target: rewrite for rewrite in CALL_REWRITES for target in rewrite.TARGETS
}

__all__ = ["CALL_REWRITES", "REWRITES_BY_TARGET", "CallRewrite"]
