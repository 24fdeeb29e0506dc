"""NNI annotation (``useAnnotation: true``, NNI 2.x): generate the search space from the
``'''@nni.variable(...)'''`` strings of the trial code, and the expanded code trials run.

As NNI 2.x does (reference section 7): each annotation string is replaced by the call it
stands for (``lr = nni.choice({...}, name='lr', key='main/lr/choice')``), every
``nni.<type>(...)`` call gets a ``key`` keyword ``<module>/<name>/<type>`` and one search
space entry under that key. Problems name the file and line of the annotation.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nni2ray.errors import Problem
from nni2ray.experiment._paths import display_path
from nni2ray.experiment.model import PARAMETER_TYPES

#: Folders never scanned nor copied (results of earlier runs live inside the code dir).
SKIPPED_DIRS = frozenset({"__pycache__", ".git", "nni2ray-results", ".venv", "venv"})
_VALUE_ANNOTATIONS = ("report_intermediate_result", "report_final_result", "get_next_parameter")
_NAS = ("mutable_layers", "training_update")
_HINT = "see NNI's annotation syntax: '''@nni.variable(nni.choice(1, 2), name=x)''' then x = 1"


class AnnotationError(Exception):
    def __init__(self, message: str, line: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.hint = message, line, hint


@dataclass
class AnnotatedCode:
    """The generated search space and the expanded text of each annotated file."""

    search_space: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # path relative to the code dir
    problems: list[Problem] = field(default_factory=list)


def expand_annotations(
    code_dir: Path, *, keep_layout: bool = False, keep_defaults: bool = False
) -> AnnotatedCode:
    """Scan every ``.py`` file under ``code_dir``; nothing is written.

    ``keep_layout`` and ``keep_defaults`` (for ``convert``): see :func:`expand_source`.
    """
    result = AnnotatedCode()
    for path in sorted(_python_files(code_dir)):
        relative = path.relative_to(code_dir).as_posix()
        display = display_path(path)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.problems.append(Problem(f"cannot read the file ({exc})", file=display))
            continue
        module = relative[: -len(".py")].replace("/", ".")
        try:
            expanded = expand_source(
                source,
                module,
                result.search_space,
                keep_layout=keep_layout,
                keep_defaults=keep_defaults,
            )
        except AnnotationError as exc:
            result.problems.append(
                Problem(exc.message, file=display, line=exc.line, hint=exc.hint or _HINT)
            )
            continue
        if expanded is not None:
            result.files[relative] = expanded
    return result


def write_annotated_copy(code_dir: Path, files: dict[str, str], dest: Path) -> Path:
    """Copy ``code_dir`` to ``dest`` (replacing it) with the expanded files written over."""
    if dest.exists():
        shutil.rmtree(dest)
    dest_resolved = dest.resolve()

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in SKIPPED_DIRS}
        skipped |= {n for n in names if (Path(folder) / n).resolve() == dest_resolved}
        return skipped

    shutil.copytree(code_dir, dest, ignore=ignore, symlinks=True)
    for relative, text in files.items():
        (dest / relative).write_text(text, encoding="utf-8")
    return dest


def _python_files(code_dir: Path) -> list[Path]:
    found = []
    for path in code_dir.rglob("*.py"):
        parts = path.relative_to(code_dir).parts
        if any(part in SKIPPED_DIRS for part in parts[:-1]):
            continue
        if path.is_file():
            found.append(path)
    return found


def expand_source(
    source: str,
    module: str,
    space: dict[str, Any],
    *,
    keep_layout: bool = False,
    keep_defaults: bool = False,
) -> str | None:
    """The expanded text of one file (None when it has no annotation); entries go to ``space``.

    The text is the whole module unparsed (NNI 2.x's way: comments and layout are lost),
    or, with ``keep_layout``, the original text with only the annotations and the
    statements they annotate replaced (and ``import nni`` added); ``keep_layout`` falls back
    to the unparsed module when a replacement does not own whole lines, replacements
    overlap, or a smart parameter was keyed outside an annotation. ``keep_defaults`` gives
    each generated smart parameter a ``default=`` keyword: the value the annotated statement
    had (a lambda making the original call for ``function_choice``), which NNI 2.x's
    standalone run used; nni2ray's stand-in ``nni`` does not take it, ``convert`` does.

    Raises:
        AnnotationError: a malformed annotation or smart parameter.
    """
    if "@nni." not in source and "nni." not in source:
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise AnnotationError(f"Bad Python code ({exc.msg})", exc.lineno or 1) from None
    expander = _Expander(keep_defaults)
    expander.visit_body_lists(tree)
    ast.fix_missing_locations(tree)  # generated calls take the line of their statement
    keyer = _Keyer(module, space)
    keyer.visit(tree)
    if not expander.changed and not keyer.found:
        return None
    if keep_layout:
        spliced = _splice(source, tree, expander.replacements, keyer.keyed)
        if spliced is not None:
            return spliced
    _insert_import(tree)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _annotation_text(stmt: ast.stmt) -> str | None:
    if (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    ):
        text = stmt.value.value.strip()
        if text.startswith("@nni."):
            return text[1:]
    return None


def _nni_attr(node: ast.AST) -> str | None:
    """``nni.X`` -> ``X``."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "nni"
    ):
        return node.attr
    return None


@dataclass
class _Replacement:
    """Original lines (1-based, inclusive) an expanded statement replaces: the annotation
    string's, and the annotated statement's (None for a report annotation)."""

    annotation: tuple[int, int, int, int]  # lineno, col, end_lineno, end_col
    target: tuple[int, int, int, int] | None
    new: ast.stmt


def _span(stmt: ast.stmt) -> tuple[int, int, int, int]:
    end_line = stmt.end_lineno if stmt.end_lineno is not None else stmt.lineno
    end_col = stmt.end_col_offset if stmt.end_col_offset is not None else 0
    return stmt.lineno, stmt.col_offset, end_line, end_col


class _Expander:
    """Replace annotation strings (and the statements they annotate) in every body."""

    def __init__(self, keep_defaults: bool = False) -> None:
        self.changed = False
        self.keep_defaults = keep_defaults
        self.replacements: list[_Replacement] = []

    def visit_body_lists(self, node: ast.AST) -> None:
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                setattr(node, name, self._body(body))
        for child in ast.iter_child_nodes(node):
            self.visit_body_lists(child)

    def _body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        index = 0
        while index < len(body):
            stmt = body[index]
            text = _annotation_text(stmt)
            if text is None:
                out.append(stmt)
                index += 1
                continue
            self.changed = True
            call, func = _parse_annotation(text, stmt.lineno)
            if func in _VALUE_ANNOTATIONS:
                new = ast.Expr(_nni_call(func, list(call.args), list(call.keywords)))
                out.append(ast.copy_location(new, stmt))
                self.replacements.append(_Replacement(_span(stmt), None, new))
                index += 1
                continue
            target = body[index + 1] if index + 1 < len(body) else None
            if target is None:
                raise AnnotationError("Annotation has no target", stmt.lineno)
            if _annotation_text(target) is not None:
                raise AnnotationError("Annotating an annotation", stmt.lineno)
            annotation_span, target_span = _span(stmt), _span(target)
            if func == "variable":
                out.append(_variable(call, target, stmt.lineno, self.keep_defaults))
            else:  # function_choice
                out.append(_function_choice(call, target, stmt.lineno, self.keep_defaults))
            self.replacements.append(_Replacement(annotation_span, target_span, out[-1]))
            index += 2
        return out


def _parse_annotation(text: str, line: int) -> tuple[ast.Call, str]:
    try:
        expr = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise AnnotationError("Annotation is not expression", line) from None
    if not isinstance(expr, ast.Call):
        raise AnnotationError("Annotation is not a function call", line)
    func = _nni_attr(expr.func)
    if func is None:
        raise AnnotationError("Annotation is not a NNI function", line)
    if func in _NAS:
        raise AnnotationError(
            f"@nni.{func} is NNI's legacy NAS annotation, which nni2ray does not run",
            line,
            "use it with NNI 2.x, or move the model search to a search space",
        )
    if func not in ("variable", "function_choice", *_VALUE_ANNOTATIONS):
        raise AnnotationError(f"Unexpected annotation function @nni.{func}", line)
    if func in ("variable", "function_choice"):
        if len(expr.keywords) != 1:
            raise AnnotationError(
                "Annotation function contains more than one keyword argument"
                if expr.keywords
                else "Annotation has no name= keyword argument",
                line,
            )
        if expr.keywords[0].arg != "name":
            raise AnnotationError('Annotation keyword argument is not "name"', line)
    return expr, func


def _name_text(call: ast.Call) -> str:
    return ast.unparse(call.keywords[0].value)


def _variable(call: ast.Call, target: ast.stmt, line: int, keep_default: bool) -> ast.stmt:
    if len(call.args) != 1:
        raise AnnotationError("nni.variable contains more than one arguments", line)
    value = call.args[0]
    if not isinstance(value, ast.Call):
        raise AnnotationError("Value of nni.variable is not a function call", line)
    kind = _nni_attr(value.func)
    if kind not in PARAMETER_TYPES:
        raise AnnotationError(
            "nni.variable value is not a NNI function",
            line,
            f"use one of nni.{', nni.'.join(PARAMETER_TYPES)}",
        )
    if not isinstance(target, ast.Assign) or len(target.targets) != 1:
        raise AnnotationError("nni.variable is not annotating assignment expression", line)
    name = _name_text(call)
    if ast.unparse(target.targets[0]) != name:
        raise AnnotationError(
            f"Annotated variable has wrong name (name={name}, but line "
            f"{target.lineno} assigns {ast.unparse(target.targets[0])})",
            line,
        )
    args: list[ast.expr] = (
        [_options_dict(value.args, line)] if kind == "choice" else list(value.args)
    )
    keywords = [ast.keyword("name", ast.Constant(name))]
    if keep_default:
        keywords.insert(0, ast.keyword("default", target.value))
    # The generated call carries the annotation's line: problems found later point there.
    new_value = _nni_call(kind, args, keywords)
    new_value.lineno, new_value.col_offset = line, 0
    return ast.copy_location(ast.Assign([target.targets[0]], new_value), target)


def _function_choice(call: ast.Call, target: ast.stmt, line: int, keep_default: bool) -> ast.stmt:
    if not call.args or not all(isinstance(a, ast.Call) for a in call.args):
        raise AnnotationError("function_choice arguments must be function calls", line)
    wanted = {ast.dump(a) for a in call.args}
    options = ast.Dict(
        keys=[ast.Constant(_source_key(a)) for a in call.args],
        values=[_lambda(a) for a in call.args],
    )
    name = _name_text(call)
    replacement = _nni_call("function_choice", [options], [ast.keyword("name", ast.Constant(name))])

    class Replace(ast.NodeTransformer):
        done = False

        def visit_Call(self, node: ast.Call) -> ast.AST:
            if not self.done and ast.dump(node) in wanted:
                self.done = True
                if keep_default:  # the call the statement made, as the option's lambda
                    replacement.keywords.insert(0, ast.keyword("default", _lambda(node)))
                replacement.lineno = line  # problems found later point at the annotation
                replacement.col_offset = node.col_offset
                return replacement
            return self.generic_visit(node)

    replacer = Replace()
    new = replacer.visit(target)
    if not replacer.done:
        raise AnnotationError(
            f"the statement after @nni.function_choice (line {target.lineno}) makes none of "
            "its calls",
            line,
        )
    return new  # type: ignore[no-any-return]


def _lambda(body: ast.expr) -> ast.Lambda:
    arguments = ast.arguments(
        posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
    )
    return ast.Lambda(arguments, body)


def _nni_call(func: str, args: list[ast.expr], keywords: list[ast.keyword]) -> ast.Call:
    return ast.Call(ast.Attribute(ast.Name("nni", ast.Load()), func, ast.Load()), args, keywords)


def _literal(node: ast.expr) -> tuple[bool, Any]:
    """(True, value) for a number or string literal (a negative number included)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        if not isinstance(node.value, bool):
            return True, node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        value = node.operand.value
        return True, -value if isinstance(node.op, ast.USub) else value
    return False, None


_PARENTHESISED = (ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Lambda)


def _source_key(node: ast.expr) -> str:
    text = ast.unparse(node)
    # NNI 2.x wrote expressions with astor, which puts operators in parentheses.
    return f"({text})" if isinstance(node, _PARENTHESISED) else text


def _options_dict(options: list[ast.expr], line: int) -> ast.Dict:
    if not options:
        raise AnnotationError("nni.choice needs at least one option", line)
    keys: list[ast.expr | None] = []
    for option in options:
        is_literal, value = _literal(option)
        keys.append(ast.Constant(value if is_literal else _source_key(option)))
    return ast.Dict(keys=keys, values=list(options))


class _Keyer(ast.NodeVisitor):
    """Give every ``nni.<type>(...)`` call a key and a search-space entry."""

    def __init__(self, module: str, space: dict[str, Any]) -> None:
        self.module, self.space = module, space
        self.found = False
        self.keyed: list[ast.Call] = []
        self._lines: dict[int, int] = {}

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = _nni_attr(node.func)
        if func not in (*PARAMETER_TYPES, "function_choice"):
            return
        if any(k.arg == "key" for k in node.keywords):
            return
        self.found = True
        line = getattr(node, "lineno", 0)
        self._lines[line] = self._lines.get(line, 0) + 1
        if self._lines[line] > 1:
            raise AnnotationError("Only one smart parameter is allowed in a line", line)
        name_kw = next((k for k in node.keywords if k.arg == "name"), None)
        if name_kw is None:
            name = f"__line{line}"
        elif isinstance(name_kw.value, ast.Constant) and isinstance(name_kw.value.value, str):
            name = name_kw.value.value
        else:
            name = ast.unparse(name_kw.value)
        if func in ("choice", "function_choice"):
            if not (len(node.args) == 1 and isinstance(node.args[0], ast.Dict)):
                node.args = [_options_dict(list(node.args), line)]
            options = node.args[0]
            assert isinstance(options, ast.Dict)
            values = [k.value for k in options.keys if isinstance(k, ast.Constant)]
            entry = {"_type": "choice", "_value": values}
        else:
            numbers = []
            for arg in node.args:
                is_literal, value = _literal(arg)
                if not is_literal or isinstance(value, str):
                    raise AnnotationError(
                        "Smart parameter's arguments must be number literals", line
                    )
                numbers.append(value)
            entry = {"_type": func, "_value": numbers}
        key = f"{self.module}/{name}/{func}"
        if key in self.space:
            raise AnnotationError(
                f"Different smart parameters have same name ({key})",
                line,
                "give each annotated variable its own name",
            )
        self.space[key] = entry
        self.keyed.append(node)
        node.keywords = [
            *(k for k in node.keywords if k.arg != "name"),
            ast.keyword("name", ast.Constant(name)),
            ast.keyword("key", ast.Constant(key)),
        ]


def _splice(
    source: str, tree: ast.Module, replacements: list[_Replacement], keyed: list[ast.Call]
) -> str | None:
    """The original text with each replacement's lines rewritten, or None (see
    :func:`expand_source`)."""
    inside = {id(node) for r in replacements for node in ast.walk(r.new)}
    if any(id(call) not in inside for call in keyed):
        return None  # a smart parameter written outside an annotation: unparse all
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []  # first line index, last index + 1, new text
    for replacement in replacements:
        spans = [replacement.annotation] + ([replacement.target] if replacement.target else [])
        owned = [_whole_lines(lines, span) for span in spans]
        if any(comment is None for comment in owned):
            return None
        first, _, _, _ = spans[-1]
        indent = lines[first - 1][: len(lines[first - 1]) - len(lines[first - 1].lstrip())]
        text = "".join(f"{indent}{line}\n" for line in ast.unparse(replacement.new).split("\n"))
        comment = owned[-1]
        if comment:
            text = f"{text[:-1]}  {comment}\n"
        if replacement.target is not None:
            edits.append((replacement.annotation[0] - 1, replacement.annotation[2], ""))
        edits.append((first - 1, spans[-1][2], text))
    edits.sort()
    if any(a[1] > b[0] for a, b in zip(edits, edits[1:], strict=False)):
        return None  # an annotation inside a statement another annotation replaces
    for start, stop, text in reversed(edits):
        lines[start:stop] = [text] if text else []
    lines.insert(_import_line(tree), "import nni\n")
    return "".join(lines)


def _whole_lines(lines: list[str], span: tuple[int, int, int, int]) -> str | None:
    """The trailing comment ("" if none) when the statement owns its lines, else None."""
    line, col, end_line, end_col = span
    if line < 1 or end_line > len(lines):
        return None
    head = lines[line - 1].encode("utf-8")[:col].decode("utf-8", "replace")
    tail = lines[end_line - 1].encode("utf-8")[end_col:].decode("utf-8", "replace").strip()
    if head.strip() or (tail and not tail.startswith("#")):
        return None
    return tail


def _import_line(tree: ast.Module) -> int:
    """Where ``import nni`` goes: after the ``__future__`` imports or the docstring."""
    position = 0
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            position = stmt.end_lineno or stmt.lineno
    if position == 0 and tree.body and _is_docstring(tree.body[0]):
        position = tree.body[0].end_lineno or tree.body[0].lineno
    if position == 0 and tree.body:
        position = tree.body[0].lineno - 1
    return position


def _insert_import(tree: ast.Module) -> None:
    """``import nni`` after the last ``from __future__`` import (or the docstring)."""
    position = 0
    for index, stmt in enumerate(tree.body):
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            position = index + 1
    if position == 0 and tree.body and _is_docstring(tree.body[0]):
        position = 1
    tree.body.insert(position, ast.Import([ast.alias("nni")]))


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )
