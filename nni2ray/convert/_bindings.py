"""Collect what each name in a scope is bound to, so rewrites can tell a dict from a number."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from nni2ray.convert._rewrite_context import Bindings


class _BindingCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: dict[str, list[cst.BaseExpression | None]] = {}

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.found.setdefault(target.value, []).append(value)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._bind(element.value, None)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        # `x |= {...}` may merge dicts; every other operator keeps a number a number.
        value = None if isinstance(node.operator, cst.BitOrAssign) else cst.Integer("0")
        self._bind(node.target, value)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._bind(node.name, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, node.value)

    def visit_Param(self, node: cst.Param) -> bool:
        self._bind(node.name, None)
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._bind(node.name, None)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._bind(node.name, None)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self._bind(item.name, None)


def collect_bindings(
    statements: Sequence[cst.CSTNode], params: cst.Parameters | None = None
) -> Bindings:
    """Map each name bound by ``statements`` (not inside nested defs) to its bound values."""
    collector = _BindingCollector()
    if params is not None:
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            collector._bind(param.name, None)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                collector._bind(star.name, None)
    for statement in statements:
        statement.visit(collector)
    return collector.found


def merged(inner: Bindings, outer: Bindings) -> Bindings:
    """Python's lookup rule: a name bound in the function shadows the module's."""
    return {**outer, **inner}
