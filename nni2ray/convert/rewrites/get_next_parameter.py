"""Replace ``nni.get_next_parameter()`` with the parameters the Tune launcher hands the trial."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from nni2ray.convert._rewrite_context import Refusal, RewriteContext
from nni2ray.convert.rewrites._calls import no_arguments, targets

#: The environment variable ``tune_experiment.py`` sets to the trial's NNI parameters (JSON).
PARAMS_VARIABLE = "TUNE_TRIAL_PARAMS"


class RewriteGetNextParameter:
    DESCRIPTION: ClassVar[str] = (
        "nni.get_next_parameter() -> the trial's parameters from $TUNE_TRIAL_PARAMS ({} standalone)"
    )
    TARGETS: ClassVar[tuple[str, ...]] = targets("get_next_parameter", "get_next_parameters")

    def rewrite(
        self, call: cst.Call, target: str, context: RewriteContext
    ) -> cst.BaseExpression | Refusal:
        refusal = no_arguments(call, target)
        if refusal is not None:
            return refusal
        context.need_import("json")
        context.need_import("os")
        # Standalone (no launcher) this is {}, exactly what NNI returns outside an experiment.
        return cst.parse_expression(f'json.loads(os.environ.get("{PARAMS_VARIABLE}", "{{}}"))')
