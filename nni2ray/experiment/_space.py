"""Find and parse the search space: ``searchSpaceFile``, inline ``searchSpace`` or annotation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nni2ray.errors import ConfigError, Nni2RayError, Problem, SearchSpaceError, UnsupportedError
from nni2ray.experiment._annotation import expand_annotations
from nni2ray.experiment._findings import Context, Key
from nni2ray.experiment._paths import display_path, resolve_path
from nni2ray.experiment._read import read_json_or_yaml
from nni2ray.experiment._search_space import parse_search_space
from nni2ray.experiment.model import AlgorithmSpec, SearchSpace
from nni2ray.notes import Severity

SpaceResult = tuple[SearchSpace | None, Any, Path | None]


def load_search_space(
    config: dict[str, Any], tuner: AlgorithmSpec | None, ctx: Context, code_dir: Path | None = None
) -> SpaceResult:
    """Return (parsed space, raw space, space file); problems go to ``ctx``.

    With ``useAnnotation: true`` the space is generated from the annotations of the trial
    code in ``code_dir`` (None: the code directory is itself wrong, already reported).
    """
    has_file = "searchSpaceFile" in config
    has_inline = "searchSpace" in config
    if config.get("useAnnotation") is True:
        return _annotation(has_file or has_inline, tuner, ctx, code_dir)
    if not has_file and not has_inline:
        hint = "set searchSpaceFile: search_space.json (or an inline searchSpace mapping)"
        ctx.error(("searchSpaceFile",), "no search space is set", hint)
        return None, None, None
    if has_file and has_inline:
        message = "set together with searchSpaceFile; the file wins, as in NNI"
        ctx.note(("searchSpace",), Severity.WARNING, message)
    if has_file:
        return _from_file(config["searchSpaceFile"], tuner, ctx)
    prefix = ctx.where(("searchSpace",)).field + "."

    def line_of(path: tuple[str | int, ...]) -> int | None:
        return ctx.where(("searchSpace", *path)).line

    raw = config["searchSpace"]
    space = _parse(raw, ctx.file, line_of, prefix, tuner, ctx)
    return space, raw, None


def _annotation(
    has_space: bool, tuner: AlgorithmSpec | None, ctx: Context, code_dir: Path | None
) -> SpaceResult:
    path: Key = ("useAnnotation",)
    if has_space:
        hint = "remove the search space or set useAnnotation: false"
        ctx.error(path, "a search space must not be set when annotation is enabled", hint)
        return None, None, None
    if code_dir is None:
        return None, None, None
    annotated = expand_annotations(code_dir)
    if annotated.problems:
        ctx.add("space", tuple(annotated.problems))
        return None, None, None
    if not annotated.search_space:
        hint = "annotate a variable: '''@nni.variable(nni.choice(1, 2), name=x)''' then x = 1"
        message = f"no NNI annotation found in the trial code ({display_path(code_dir)})"
        ctx.error(path, message, hint)
        return None, None, None
    raw = annotated.search_space
    space = _parse(raw, ctx.file, lambda _: ctx.where(path).line, "annotation ", tuner, ctx, path)
    return space, raw, None


def _from_file(raw_path: Any, tuner: AlgorithmSpec | None, ctx: Context) -> SpaceResult:
    path: Key = ("searchSpaceFile",)
    if path in ctx.bad:
        return None, None, None
    file = resolve_path(raw_path, ctx.base_dir)
    if not file.is_file():
        message = f"file not found (got {raw_path!r}, {display_path(file)})"
        ctx.error(path, message, "fix the path; it is relative to the config file")
        return None, None, None
    display = display_path(file)
    inside = ctx.in_tree(file)
    if not inside:
        message = (
            f"the search space file {display} is outside the experiment folder "
            f"{display_path(ctx.tree)}; `convert` uses it only with --allow-outside"
        )
        ctx.note(path, Severity.WARNING, message)
    known = len(ctx.problems)
    try:
        doc = read_json_or_yaml(file, display)
    except ConfigError as exc:
        ctx.add("config", exc.problems)
        doc = None
    space = None if doc is None else _parse(doc.data, display, doc.line_of, "", tuner, ctx, path)
    if not inside and len(ctx.problems) > known:
        _hide_content(ctx, known, display)  # e.g. /etc/shadow: name the file, not its lines
    return space, None if doc is None else doc.data, file


def _hide_content(ctx: Context, known: int, display: str) -> None:
    """Replace the problems found in a file outside the experiment by one that shows none of
    its content (a mistyped path to a secrets file must not print the secrets)."""
    count = len(ctx.problems) - known
    del ctx.problems[known:]
    message = (
        f"not an NNI search space ({count} problem(s); the file is outside the experiment "
        "folder, so its content is not shown)"
    )
    hint = "point searchSpaceFile at the search space file inside the experiment folder"
    ctx.problems.append(("space", Problem(message, file=display, hint=hint)))


def _parse(
    raw: Any,
    file: str,
    line_of: Any,
    prefix: str,
    tuner: AlgorithmSpec | None,
    ctx: Context,
    where: Key = ("searchSpace",),
) -> SearchSpace | None:
    try:
        return parse_search_space(raw, file=file, line_of=line_of, field_prefix=prefix)
    except Nni2RayError as exc:
        if tuner is not None and tuner.is_custom:
            message = (
                "not an NNI search space; kept as it is for the custom tuner "
                f"({len(exc.problems)} problem(s) ignored)"
            )
            ctx.note(where, Severity.IGNORED, message)
            return None
        kind = "unsupported" if isinstance(exc, UnsupportedError) else "space"
        kind = kind if isinstance(exc, SearchSpaceError | UnsupportedError) else "config"
        ctx.add(kind, exc.problems)  # type: ignore[arg-type]
        return None
