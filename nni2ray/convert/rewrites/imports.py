"""Drop NNI imports nothing uses any more; add the imports and helpers the rewrites need."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, ImportItem
from libcst.helpers import get_full_name_for_node
from libcst.metadata import ImportAssignment, MetadataWrapper, ScopeProvider

from nni2ray.convert._helpers import HELPERS
from nni2ray.convert._rewrite_context import RewriteContext


def is_nni_module(name: str | None) -> bool:
    return name == "nni" or (name or "").startswith("nni.")


class RewriteImports:
    DESCRIPTION: ClassVar[str] = (
        "drop `import nni` / `from nni import ...` once unused; add json, os, ray.tune imports"
    )

    def apply(self, module: cst.Module, context: RewriteContext) -> cst.Module:
        """Return ``module`` with its imports and helper functions brought up to date."""
        wrapper = MetadataWrapper(module)
        unused = _unused_nni_aliases(wrapper)
        module = wrapper.module.visit(_DropAliases(unused)) if unused else wrapper.module
        items = [ImportItem(mod, obj) for mod, obj in sorted(context.imports, key=_import_order)]
        if items:
            module = AddImportsVisitor(CodemodContext(), items).transform_module(module)
        return _add_helpers(module, [name for name in HELPERS if name in context.helpers])


def _import_order(item: tuple[str, str | None]) -> tuple[bool, str, str]:
    module, name = item
    return (module == "ray", module, name or "")  # standard library first, then Ray


def _bound_names(alias: cst.ImportAlias) -> set[str]:
    if alias.asname is not None:
        return {get_full_name_for_node(alias.asname.name) or ""}
    dotted = get_full_name_for_node(alias.name) or ""
    parts = dotted.split(".")
    return {".".join(parts[: index + 1]) for index in range(len(parts))}


def _nni_aliases(node: cst.Import | cst.ImportFrom) -> Iterable[cst.ImportAlias]:
    if isinstance(node, cst.Import):
        return [a for a in node.names if is_nni_module(get_full_name_for_node(a.name))]
    if node.relative or isinstance(node.names, cst.ImportStar) or node.module is None:
        return []
    return node.names if is_nni_module(get_full_name_for_node(node.module)) else []


def _unused_nni_aliases(wrapper: MetadataWrapper) -> set[int]:
    """ids of the ImportAlias nodes that import from nni and whose names nothing reads."""
    used: dict[int, bool] = {}
    scopes = {scope for scope in wrapper.resolve(ScopeProvider).values() if scope is not None}
    for scope in scopes:
        for assignment in scope.assignments:
            if not isinstance(assignment, ImportAssignment):
                continue
            node = assignment.node
            if not isinstance(node, cst.Import | cst.ImportFrom):
                continue
            for alias in _nni_aliases(node):
                if assignment.name in _bound_names(alias):
                    referenced = bool(assignment.references)
                    used[id(alias)] = used.get(id(alias), False) or referenced
    return {alias_id for alias_id, is_used in used.items() if not is_used}


class _DropAliases(cst.CSTTransformer):
    def __init__(self, unused: set[int]) -> None:
        self.unused = unused

    def _keep(self, names: Sequence[cst.ImportAlias]) -> list[cst.ImportAlias]:
        kept = [alias for alias in names if id(alias) not in self.unused]
        if kept:  # the last alias must not keep a trailing comma
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return kept

    def leave_Import(
        self, original_node: cst.Import, updated_node: cst.Import
    ) -> cst.Import | cst.RemovalSentinel:
        kept = self._keep(original_node.names)
        return updated_node.with_changes(names=kept) if kept else cst.RemoveFromParent()

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom | cst.RemovalSentinel:
        if isinstance(original_node.names, cst.ImportStar):
            return updated_node
        kept = self._keep(original_node.names)
        if not kept:
            return cst.RemoveFromParent()
        return updated_node.with_changes(names=kept)

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        if updated_node.body:
            if len(updated_node.body) < len(original_node.body):
                return _trim_first(original_node, updated_node)
            return updated_node
        # `try: import nni` with the import gone: a block needs a statement.
        return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])


def _trim_first(original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
    """A removed first statement must not leave the block starting with blank lines."""
    first = updated.body[0]
    first_lines: Sequence[cst.EmptyLine] = getattr(first, "leading_lines", ())
    if getattr(original.body[0], "leading_lines", ()) or any(line.comment for line in first_lines):
        return updated
    body = [first.with_changes(leading_lines=[]), *updated.body[1:]]
    return updated.with_changes(body=body)


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, cst.Import | cst.ImportFrom) for small in statement.body
    )


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _add_helpers(module: cst.Module, names: list[str]) -> cst.Module:
    if not names:
        return module
    body = list(module.body)
    position = 0
    for index, statement in enumerate(body):
        if _is_import_line(statement) or (index == 0 and _is_docstring(statement)):
            position = index + 1
        else:
            break
    two_blank = [cst.EmptyLine(), cst.EmptyLine()]
    helpers = [
        cst.parse_statement(HELPERS[name].strip() + "\n").with_changes(leading_lines=two_blank)
        for name in names
    ]
    if position < len(body):
        following = body[position]
        blank = [line for line in following.leading_lines if line.comment is None]
        missing = max(0, 2 - len(blank))
        leading = [cst.EmptyLine()] * missing + list(following.leading_lines)
        body[position] = following.with_changes(leading_lines=leading)
    return module.with_changes(body=body[:position] + helpers + body[position:])
