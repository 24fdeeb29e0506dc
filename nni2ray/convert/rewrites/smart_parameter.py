"""Replace the smart parameters of an expanded annotated trial (``nni.choice(..., key=K)``,
``nni.loguniform(..., key=K)``, ``nni.function_choice(..., key=K)``) with the trial's
parameter ``K``, read from the parameters the Tune launcher hands the trial."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from nni2ray.convert._rewrite_context import Refusal, RewriteContext
from nni2ray.convert.rewrites._calls import targets

_NUMERIC = (
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
    "randint",
)


class RewriteSmartParameter:
    DESCRIPTION: ClassVar[str] = (
        "nni.<type>(..., key=K) (an expanded annotation) -> _tune_parameter(K); "
        "choice/function_choice pick (and call) the option whose key it is"
    )
    TARGETS: ClassVar[tuple[str, ...]] = targets(*_NUMERIC, "choice", "function_choice")

    def rewrite(
        self, call: cst.Call, target: str, context: RewriteContext
    ) -> cst.BaseExpression | Refusal:
        key = next(
            (arg.value for arg in call.args if arg.keyword and arg.keyword.value == "key"), None
        )
        if not isinstance(key, cst.SimpleString):
            # Not an annotation nni2ray expanded: NNI 3.0's NAS mutable, or hand-written.
            return Refusal(
                f"{target} is an NNI NAS / annotation API, outside hyperparameter conversion"
            )
        context.need_import("json")
        context.need_import("os")
        context.need_helper("_tune_parameter")
        parameter = cst.Call(cst.Name("_tune_parameter"), [cst.Arg(key)])
        if target.rpartition(".")[2] in _NUMERIC:
            return parameter
        positional = [arg for arg in call.args if arg.keyword is None and arg.star == ""]
        if len(positional) != 1 or not isinstance(positional[0].value, cst.Dict):
            return Refusal(f"{target}() whose options are not one dict (not expanded by nni2ray)")
        chosen = cst.Subscript(positional[0].value, [cst.SubscriptElement(cst.Index(parameter))])
        if target.endswith("function_choice"):
            return cst.Call(chosen)  # the chosen option is a lambda: call it
        return chosen
