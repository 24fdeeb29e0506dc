"""Run the rewrite pipeline on one module; bad input becomes a Failed result, never a raise."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import (
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    QualifiedNameSource,
)

from nni2ray.convert._bindings import collect_bindings, merged
from nni2ray.convert._leftovers import annotation_text, leftover_reason
from nni2ray.convert._result import Converted, ConvertResult, Failed, Unchanged
from nni2ray.convert._rewrite_context import Bindings, Refusal, RewriteContext
from nni2ray.convert.rewrites import REWRITES_BY_TARGET
from nni2ray.convert.rewrites.imports import RewriteImports, is_nni_module
from nni2ray.errors import Problem
from nni2ray.notes import Note, Severity


def convert_code(code: str, filename: str) -> ConvertResult:
    """Rewrite the NNI calls of one module; see :func:`nni2ray.convert.convert_source`."""
    try:
        compile(code, filename, "exec", dont_inherit=True)
        module = cst.parse_module(code)
    except SyntaxError as exc:
        problem = Problem(f"{exc.msg} (col {exc.offset})", file=filename, line=exc.lineno)
        return Failed(filename, code, problem)
    except cst.ParserSyntaxError as exc:
        where = f"{exc.raw_line}:{exc.raw_column + 1}"
        return Failed(filename, code, Problem(f"{where}: {exc.message}", file=filename))
    rewriter = _Rewriter(filename, module)
    new = MetadataWrapper(module, unsafe_skip_copy=True).visit(rewriter)
    new = RewriteImports().apply(new, rewriter.context)
    notes = tuple(rewriter.notes) + _kept_import_notes(new, filename)
    if new.code == code:
        return Unchanged(filename, code, notes)
    return Converted(filename, new.code, notes)


def _requote(expression: cst.BaseExpression, quotes: list[str]) -> cst.BaseExpression:
    """Before Python 3.12 an f-string's expressions cannot reuse its quote character."""
    if any(len(quote) == 3 for quote in quotes) or '"' not in "".join(quotes):
        return expression
    return expression.visit(_SingleQuotes())  # type: ignore[return-value]


class _SingleQuotes(cst.CSTTransformer):
    def leave_SimpleString(
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.SimpleString:
        return updated_node.with_changes(value=repr(updated_node.evaluated_value))


def _kept_import_notes(module: cst.Module, filename: str) -> tuple[Note, ...]:
    finder = _NniImportFinder()
    module.visit(finder)
    if not finder.found:
        return ()
    message = "`nni` is still imported because some of its uses were left unchanged (see above)"
    return (Note(Severity.WARNING, message, file=filename, field="import nni"),)


class _NniImportFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Import(self, node: cst.Import) -> None:
        names = [cst.helpers.get_full_name_for_node(alias.name) for alias in node.names]
        self.found = self.found or any(is_nni_module(name) for name in names)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None and not node.relative:
            name = cst.helpers.get_full_name_for_node(node.module)
            self.found = self.found or is_nni_module(name)


# Where an `a or b` replacement needs no parentheses.
_LOOSE_PARENTS = (
    cst.Arg,
    cst.Assign,
    cst.AnnAssign,
    cst.Return,
    cst.Expr,
    cst.Element,
    cst.DictElement,
    cst.FormattedStringExpression,
)


class _Rewriter(cst.CSTTransformer):
    """Replace every NNI call a rewrite understands; note every other use of ``nni``."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider, ParentNodeProvider)

    def __init__(self, filename: str, module: cst.Module) -> None:
        super().__init__()
        self.filename = filename
        self.scopes: list[Bindings] = [collect_bindings(module.body)]
        self.context = RewriteContext()
        self.explained: dict[int, str | None] = {}  # id(call.func) -> target, None: refused
        self.notes: list[Note] = []
        self.fstring_quotes: list[str] = []  # quotes of the f-strings around the current node

    def _note(self, node: cst.CSTNode, field: str, message: str) -> None:
        line = self.get_metadata(PositionProvider, node).start.line
        note = Note(Severity.WARNING, f"left unchanged: {message}", self.filename, field, line)
        self.notes.append(note)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        inner = collect_bindings([node.body], node.params)
        self.scopes.append(merged(inner, self.scopes[-1]))

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.scopes.pop()
        return updated_node

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def _import_names(self, node: cst.CSTNode) -> set[str]:
        found = self.get_metadata(QualifiedNameProvider, node, set())
        return {q.name for q in found if q.source is QualifiedNameSource.IMPORT}

    def visit_Call(self, node: cst.Call) -> None:
        names = {q.name for q in self.get_metadata(QualifiedNameProvider, node.func, set())}
        targets = names & REWRITES_BY_TARGET.keys()
        if not targets:
            return
        target = targets.pop()
        if len(names) > 1:
            self.explained[id(node.func)] = None
            self._note(node, target, "the name may refer to something else besides NNI's")
            return
        dry_run = RewriteContext(bindings=self.scopes[-1])
        result = REWRITES_BY_TARGET[target].rewrite(node, target, dry_run)
        if isinstance(result, Refusal):
            self.explained[id(node.func)] = None
            self._note(node, target, str(result))
        else:
            self.explained[id(node.func)] = target

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        target = self.explained.get(id(original_node.func))
        if target is None:
            return updated_node
        self.context.bindings = self.scopes[-1]
        result = REWRITES_BY_TARGET[target].rewrite(updated_node, target, self.context)
        if isinstance(result, Refusal):
            raise AssertionError(f"unreachable: {target} refused after its dry run: {result}")
        if self.fstring_quotes:
            result = _requote(result, self.fstring_quotes)
        if updated_node.lpar:
            return result.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        if isinstance(result, cst.BooleanOperation | cst.IfExp) and not isinstance(
            self.get_metadata(ParentNodeProvider, original_node), _LOOSE_PARENTS
        ):
            return result.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return result

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self.fstring_quotes.append(node.quote)

    def leave_FormattedString(
        self, original_node: cst.FormattedString, updated_node: cst.FormattedString
    ) -> cst.FormattedString:
        self.fstring_quotes.pop()
        return updated_node

    def visit_Name(self, node: cst.Name) -> None:
        names = {name for name in self._import_names(node) if is_nni_module(name)}
        if not names:
            return
        top: cst.CSTNode = node
        parent = self.get_metadata(ParentNodeProvider, top)
        while isinstance(parent, cst.Attribute) and parent.value is top:
            top, parent = parent, self.get_metadata(ParentNodeProvider, parent)
        if isinstance(parent, cst.Call) and parent.func is top and id(top) in self.explained:
            return
        qualified = self._import_names(top) or names
        name = min(qualified)
        self._note(node, name, leftover_reason(name, top, parent, self._grandparent(parent)))

    def _grandparent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.get_metadata(ParentNodeProvider, node, None)

    def visit_Expr(self, node: cst.Expr) -> None:
        text = annotation_text(node)
        if text is not None:
            reason = "NNI annotation (a string statement); annotations are not converted"
            self._note(node, text.split("(", 1)[0], reason)
