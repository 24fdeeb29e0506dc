"""Turn the argument of an NNI report call into a Ray Tune result dict, as readably as is safe."""

from __future__ import annotations

from typing import ClassVar, Literal

import libcst as cst

from nni2ray.convert._rewrite_context import Bindings, Refusal, RewriteContext
from nni2ray.convert.rewrites._calls import one_argument, tune_call

MetricKind = Literal["dict", "number", "unknown"]

#: The key added to the final report, so Tune results tell it from intermediate ones.
FINAL_KEY = "final_result"

_NUMBER_FUNCTIONS = {"float", "int", "round", "abs", "len", "sum", "min", "max", "bool"}
_NUMBER_METHODS = {"item", "mean", "sum", "std", "max", "min"}


def metric_kind(value: cst.BaseExpression, bindings: Bindings, depth: int = 0) -> MetricKind:
    """Whether ``value`` is certainly a dict, certainly not a dict, or cannot be told."""
    if isinstance(value, cst.Dict | cst.DictComp):
        return "dict"
    if isinstance(value, cst.Integer | cst.Float | cst.UnaryOperation | cst.Comparison):
        return "number"
    if isinstance(value, cst.BinaryOperation):
        if not isinstance(value.operator, cst.BitOr):
            return "number"
        return _same(metric_kind(value.left, bindings, depth), "dict")
    if isinstance(value, cst.IfExp):
        body = metric_kind(value.body, bindings, depth)
        return _same(body, metric_kind(value.orelse, bindings, depth))
    if isinstance(value, cst.Call):
        return _call_kind(value)
    if isinstance(value, cst.Name) and depth < 3:
        return _name_kind(value.value, bindings, depth + 1)
    return "unknown"


def _same(first: MetricKind, second: MetricKind) -> MetricKind:
    return first if first == second else "unknown"


def _call_kind(call: cst.Call) -> MetricKind:
    if isinstance(call.func, cst.Name):
        if call.func.value == "dict":
            return "dict"
        if call.func.value in _NUMBER_FUNCTIONS:
            return "number"
    if isinstance(call.func, cst.Attribute) and call.func.attr.value in _NUMBER_METHODS:
        return "number"
    return "unknown"


def _name_kind(name: str, bindings: Bindings, depth: int) -> MetricKind:
    values = bindings.get(name, ())
    kinds = {
        metric_kind(value, bindings, depth) if value is not None else "unknown" for value in values
    }
    return kinds.pop() if len(kinds) == 1 else "unknown"


def _constant_keys(value: cst.Dict) -> set[str] | None:
    keys = set()
    for element in value.elements:
        if not isinstance(element, cst.DictElement):
            return None  # a ** splat: keys unknown
        if not isinstance(element.key, cst.SimpleString):
            return None
        keys.add(str(element.key.evaluated_value))
    return keys


def _with_final_key(value: cst.Dict) -> cst.Dict:
    new = cst.DictElement(cst.SimpleString(f'"{FINAL_KEY}"'), cst.Name("True"))
    elements = list(value.elements)
    if not elements:
        return value.with_changes(elements=[new])
    last, closing = elements[-1], value.rbrace.whitespace_before
    if isinstance(last.comma, cst.Comma) and isinstance(closing, cst.ParenthesizedWhitespace):
        # One element per line with a trailing comma: ours goes on a new line, comments stay.
        indent = cst.SimpleWhitespace(closing.last_line.value + "    ")
        before = elements[-2].comma if len(elements) > 1 else None
        if isinstance(before, cst.Comma) and isinstance(
            before.whitespace_after, cst.ParenthesizedWhitespace
        ):
            indent = before.whitespace_after.last_line
        elements[-1] = last.with_changes(
            comma=last.comma.with_changes(whitespace_after=closing.with_changes(last_line=indent))
        )
        elements.append(new.with_changes(comma=cst.Comma()))
        end = cst.ParenthesizedWhitespace(indent=closing.indent, last_line=closing.last_line)
        return value.with_changes(
            elements=elements, rbrace=value.rbrace.with_changes(whitespace_before=end)
        )
    elements[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    elements.append(new)
    return value.with_changes(elements=elements)


def _tune_report(call: cst.Call, metrics: cst.BaseExpression, context: RewriteContext) -> cst.Call:
    """The NNI call itself with a new function and argument, so its comments stay in place."""
    function = tune_call(context, "tune.report")
    argument = call.args[0].with_changes(
        value=metrics, keyword=None, equal=cst.MaybeSentinel.DEFAULT
    )
    return call.with_changes(func=function, args=[argument])


def report(
    call: cst.Call, value: cst.BaseExpression, context: RewriteContext, *, final: bool
) -> cst.BaseExpression | Refusal:
    """``call`` as ``tune.report(...)`` carrying the same metric; dicts keep every key."""
    kind = metric_kind(value, context.bindings)
    if isinstance(value, cst.Dict):
        keys = _constant_keys(value)
        if final and keys is not None and "default" not in keys:
            return Refusal("metric dict has no 'default' key, which NNI's final result needs")
        # An intermediate dict without "default" is kept as it is: NNI accepts it (only an
        # assessor would read it) and the launcher does not insist on the metric.
        return _tune_report(call, _with_final_key(value) if final else value, context)
    final_item = f', "{FINAL_KEY}": True' if final else ""
    if kind == "dict":
        template = f"{{**METRICS{final_item}}}" if final else "METRICS"
    elif kind == "number":
        template = f'{{"default": METRICS{final_item}}}'
    else:
        context.need_helper("_tune_metrics")
        keyword = f", {FINAL_KEY}=True" if final else ""
        template = f"_tune_metrics(METRICS{keyword})"
    metrics = cst.parse_expression(template).visit(_Substitute(value))
    return _tune_report(call, metrics, context)  # type: ignore[arg-type]


class _Substitute(cst.CSTTransformer):
    """Put the user's own metric expression (comments and all) where the template says METRICS."""

    def __init__(self, value: cst.BaseExpression) -> None:
        self.value = value

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self.value if updated_node.value == "METRICS" else updated_node


class ReportRewrite:
    """``nni.report_*_result(metric)`` -> :func:`report`; subclasses name the call."""

    FINAL: ClassVar[bool]

    def rewrite(
        self, call: cst.Call, target: str, context: RewriteContext
    ) -> cst.BaseExpression | Refusal:
        value = one_argument(call, target, keyword="metric")
        if isinstance(value, Refusal):
            return value
        return report(call, value, context, final=self.FINAL)
