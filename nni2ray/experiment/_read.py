"""Read YAML and JSON files safely, keeping the line of every key; syntax errors -> ConfigError."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nni2ray.errors import ConfigError
from nni2ray.limits import (
    MAX_DEPTH,
    MAX_EXPANDED_BYTES,
    MAX_FILE_BYTES,
    MAX_VALUES,
    TOO_DEEP,
    check_size,
)

#: A location inside a document: mapping keys (as written) and list indexes.
DocPath = tuple[str | int, ...]


@dataclass
class Document:
    """A parsed file: its data and the 1-based line of every key and list item.

    ``json_text``: a JSON file whose lines are found only when a message first needs one
    (a valid 10,000-key search space is never parsed a second time).
    """

    data: Any
    known_lines: dict[DocPath, int] = field(default_factory=dict)
    json_text: str | None = None

    @property
    def lines(self) -> dict[DocPath, int]:
        """Every key's and list item's line (found on first use for a JSON file)."""
        if self.json_text is not None:
            self.known_lines.update(_json_lines(self.json_text))
            self.json_text = None
        return self.known_lines

    def line_of(self, path: DocPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        lines = self.lines
        while path:
            if path in lines:
                return lines[path]
            path = path[:-1]
        return None


def read_yaml(path: Path, display: str) -> Document:
    """Parse a YAML file with the safe loader only (no ``!!python/...`` tags).

    Raises:
        ConfigError: the file cannot be read or is not valid YAML.
    """
    text = _read_text(path, display)
    try:
        node, data = _compose_and_construct(text, display)
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


def _limit_error(display: str, reason: str) -> ConfigError:
    return ConfigError(
        f"cannot be read ({reason})", file=display, hint="fix or regenerate the file"
    )


def _measure(root: yaml.Node, display: str) -> None:
    """Refuse a composed document whose expansion (every alias use counted) is too big or
    too deep, before it is built; linear in the number of distinct nodes."""
    sizes: dict[int, tuple[int, int, int]] = {}  # id(node) -> (values, bytes, depth)
    started: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = (1, len(str(node.value)), 1)
            continue
        children: list[yaml.Node] = (
            [part for pair in node.value for part in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        if not ready:
            if key in started:
                raise _limit_error(display, "a YAML alias refers to itself")
            started.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        values = 1 + sum(sizes[id(child)][0] for child in children)
        size = sum(sizes[id(child)][1] for child in children)
        depth = 1 + max((sizes[id(child)][2] for child in children), default=0)
        if isinstance(node, yaml.MappingNode):  # keys are one level below their mapping
            depth = 1 + max((sizes[id(v)][2] for _, v in node.value), default=0)
        if values > MAX_VALUES:
            raise _limit_error(display, f"more than {MAX_VALUES:,} values, counting YAML aliases")
        if size > MAX_EXPANDED_BYTES:
            reason = f"more than {MAX_EXPANDED_BYTES:,} bytes of text, counting YAML aliases"
            raise _limit_error(display, reason)
        if depth > MAX_DEPTH:
            raise _limit_error(display, TOO_DEEP)
        sizes[key] = (values, size, depth)


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


def _json_lines(text: str) -> dict[DocPath, int]:
    """The line of every key of a JSON text (which is YAML too), or {} when it is not."""
    lines: dict[DocPath, int] = {}
    try:
        loader = _FAST_LOADER(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
        if node is not None:
            _collect_lines(node, (), lines)
    except (yaml.YAMLError, RecursionError, ValueError):
        return {}
    return lines


#: libyaml's parser when PyYAML was built with it (10-20x faster); the pure-Python one
#: otherwise, and always for the wording of syntax errors.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose_and_construct(text: str, display: str) -> tuple[yaml.Node | None, Any]:
    if _FAST_LOADER is not yaml.SafeLoader:
        try:
            return _load_with(_FAST_LOADER, text, display)
        except yaml.YAMLError:
            pass  # parse again below: its messages are the ones users see (and goldens pin)
    return _load_with(yaml.SafeLoader, text, display)


def _load_with(loader_class: Any, text: str, display: str) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _measure(node, display)  # before anything is built from it
        return node, loader.construct_document(node)
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
    _check_depth(data, display)
    return Document(data, json_text=text)


def _read_text(path: Path, display: str) -> str:
    try:
        size = path.stat().st_size
        limit = f"more than the limit of {MAX_FILE_BYTES:,} bytes"
        if size > MAX_FILE_BYTES:
            raise _limit_error(display, f"the file is {size:,} bytes, {limit}")
        with path.open("rb") as handle:  # a file that grows while read: still bounded
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise _limit_error(display, f"the file is {limit}")
        return raw.decode("utf-8")
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
