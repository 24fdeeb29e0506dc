"""Replace the smart parameters of an expanded annotated trial (``nni.choice(..., key=K)``,
``nni.loguniform(..., key=K)``, ``nni.function_choice(..., key=K)``) with the trial's
parameter ``K``, read from the parameters the Tune launcher hands the trial."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from nni2ray.convert._rewrite_context import Refusal, RewriteContext
from nni2ray.convert.rewrites._calls import targets
from nni2ray.experiment import PARAMETER_TYPES

#: The ``_type``s whose smart parameter is a plain value (every one but ``choice``).
_NUMERIC = tuple(kind for kind in PARAMETER_TYPES if kind != "choice")


class RewriteSmartParameter:
    DESCRIPTION: ClassVar[str] = (
        "nni.<type>(..., key=K) (an expanded annotation) -> _tune_parameter(K, default); "
        "choice/function_choice -> _tune_choice(options, K, default) (called for a function)"
    )
    TARGETS: ClassVar[tuple[str, ...]] = targets(*_NUMERIC, "choice", "function_choice")

    def rewrite(
        self, call: cst.Call, target: str, context: RewriteContext
    ) -> cst.BaseExpression | Refusal:
        keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword}
        key = keywords.get("key")
        if not isinstance(key, cst.SimpleString):
            # Not an annotation nni2ray expanded: NNI 3.0's NAS mutable, or hand-written.
            return Refusal(
                f"{target} is an NNI NAS / annotation API, outside hyperparameter conversion"
            )
        # The annotated line's own value: what the script uses outside a Tune trial (NNI 2.x
        # ran the file as written there, its annotations being plain strings).
        default = [cst.Arg(keywords["default"])] if "default" in keywords else []
        context.need_import("json")
        context.need_import("os")
        if target.rpartition(".")[2] in _NUMERIC:
            context.need_helper("_tune_parameter")
            return cst.Call(cst.Name("_tune_parameter"), [cst.Arg(key), *default])
        positional = [arg for arg in call.args if arg.keyword is None and arg.star == ""]
        if len(positional) != 1 or not isinstance(positional[0].value, cst.Dict):
            return Refusal(f"{target}() whose options are not one dict (not expanded by nni2ray)")
        context.need_helper("_tune_choice")
        chosen = cst.Call(
            cst.Name("_tune_choice"), [cst.Arg(positional[0].value), cst.Arg(key), *default]
        )
        if target.endswith("function_choice"):
            return cst.Call(chosen)  # the chosen option is a lambda: call it
        return chosen
