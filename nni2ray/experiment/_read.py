"""Read YAML and JSON files safely, keeping the line of every key; syntax errors -> ConfigError."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nni2ray.errors import ConfigError
from nni2ray.limits import MAX_VALUES, TOO_DEEP, check_size

#: A location inside a document: mapping keys (as written) and list indexes.
DocPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    """A parsed file: its data and the 1-based line of every key and list item."""

    data: Any
    lines: dict[DocPath, int] = field(default_factory=dict)

    def line_of(self, path: DocPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def read_yaml(path: Path, display: str) -> Document:
    """Parse a YAML file with the safe loader only (no ``!!python/...`` tags).

    Raises:
        ConfigError: the file cannot be read or is not valid YAML.
    """
    text = _read_text(path, display)
    try:
        node, data = _compose_and_construct(text)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, display) from None
    except yaml.YAMLError as exc:  # e.g. a control character in the text
        message = f"not valid YAML ({str(exc).splitlines()[0]})"
        raise ConfigError(message, file=display, hint="remove the special character") from None
    except (RecursionError, ValueError) as exc:  # hostile input: deep nesting, huge integers
        raise _unreadable(exc, display) from None
    _check_depth(data, display)  # before anything walks it: aliases can multiply it
    lines: dict[DocPath, int] = {}
    if node is not None:
        try:
            _collect_lines(node, (), lines)
        except RecursionError as exc:
            raise _unreadable(exc, display) from None
    return Document(data, lines)


def _check_depth(data: Any, display: str) -> None:
    # A "billion laughs" file of nested aliases would otherwise take hours to walk.
    try:
        check_size(data, max_values=MAX_VALUES)
    except ValueError as exc:
        raise ConfigError(
            f"cannot be read ({exc})", file=display, hint="fix or regenerate the file"
        ) from None


def _unreadable(exc: BaseException, display: str) -> ConfigError:
    if isinstance(exc, RecursionError):
        reason = TOO_DEEP
    else:  # e.g. Python's 4300-digit limit on integer conversion
        reason = str(exc).split(";")[0].split(":")[0]
    return ConfigError(
        f"cannot be read ({reason})", file=display, hint="fix or regenerate the file"
    )


def _compose_and_construct(text: str) -> tuple[yaml.Node | None, Any]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def read_json_or_yaml(path: Path, display: str) -> Document:
    """Parse a search-space file as JSON first, then as YAML, like NNI.

    JSON numbers such as ``1e-4`` keep their JSON meaning; the YAML composer is used only
    to find line numbers, when the JSON text happens to be valid YAML too.
    """
    text = _read_text(path, display)
    try:
        data = json.loads(text)
    except (RecursionError, ValueError) as exc:
        if not isinstance(exc, json.JSONDecodeError):
            raise _unreadable(exc, display) from None
        json_exc = exc
        try:
            return read_yaml(path, display)
        except ConfigError:
            if path.suffix.lower() in (".yml", ".yaml"):
                raise
            raise ConfigError(
                f"not valid JSON ({json_exc.msg}) nor YAML",
                file=display,
                line=json_exc.lineno,
                hint="fix the syntax; a search space file holds one JSON object",
            ) from None
    try:
        lines = read_yaml(path, display).lines
    except ConfigError:
        lines = {}
    _check_depth(data, display)
    return Document(data, lines)


def _read_text(path: Path, display: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason})", file=display) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc.strerror})", file=display) from None


def _yaml_error(exc: yaml.MarkedYAMLError, display: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    problem = exc.problem or exc.context or "syntax error"
    if isinstance(exc, yaml.constructor.ConstructorError):
        return ConfigError(
            f"YAML tag not allowed ({problem})",
            file=display,
            line=line,
            hint="nni2ray reads configs with YAML's safe loader; remove the tag",
        )
    hint = "fix the YAML syntax"
    if "\\t" in problem or "\t" in problem:
        hint = "indent with spaces; YAML does not allow tabs"
    return ConfigError(f"not valid YAML: {problem}", file=display, line=line, hint=hint)


def _collect_lines(node: yaml.Node, path: DocPath, lines: dict[DocPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _collect_lines(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _collect_lines(item, (*path, index), lines)
