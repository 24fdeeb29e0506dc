"""Replace ``nni.get_trial_id/get_experiment_id/get_sequence_id()`` with Tune's trial context."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from nni2ray.convert._rewrite_context import Refusal, RewriteContext
from nni2ray.convert.rewrites._calls import no_arguments, targets, tune_call

# Outside a Tune session the context returns None; NNI answers "STANDALONE" there.
_SOURCES = {
    "get_trial_id": 'tune.get_context().get_trial_id() or "STANDALONE"',
    "get_experiment_id": 'tune.get_context().get_experiment_name() or "STANDALONE"',
}


class RewriteTrialIdentity:
    DESCRIPTION: ClassVar[str] = (
        "nni.get_trial_id/get_experiment_id/get_sequence_id() -> tune.get_context()"
    )
    TARGETS: ClassVar[tuple[str, ...]] = targets(
        "get_trial_id", "get_experiment_id", "get_sequence_id"
    )

    def rewrite(
        self, call: cst.Call, target: str, context: RewriteContext
    ) -> cst.BaseExpression | Refusal:
        refusal = no_arguments(call, target)
        if refusal is not None:
            return refusal
        name = target.rsplit(".", 1)[-1]
        if name == "get_sequence_id":
            # Tune has no sequence number; its trial ids end in a 0-based counter ("..._00003").
            context.need_import("ray", "tune")
            context.need_helper("_tune_sequence_id")
            return cst.parse_expression("_tune_sequence_id()")
        return tune_call(context, _SOURCES[name])
