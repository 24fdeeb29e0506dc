"""Check an NNI search space (shape via JSON Schema, then semantics) and build the model."""

from __future__ import annotations

import copy
import functools
import json
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nni2ray.errors import Problem, SearchSpaceError
from nni2ray.experiment.model import PARAMETER_TYPES, NestedOption, Parameter, SearchSpace

SpacePath = tuple[str | int, ...]
LineOf = Callable[[SpacePath], int | None]

_Q_TYPES = frozenset({"quniform", "qloguniform", "qnormal", "qlognormal"})
_BOUNDED = frozenset({"uniform", "quniform", "loguniform", "qloguniform"})
_LOG = frozenset({"loguniform", "qloguniform"})
_NORMAL = frozenset({"normal", "qnormal", "lognormal", "qlognormal"})
_SHAPES = {
    "choice": '["a", "b"]',
    "randint": "[low, high]",
    "uniform": "[low, high]",
    "quniform": "[low, high, q]",
    "loguniform": "[low, high]",
    "qloguniform": "[low, high, q]",
    "normal": "[mu, sigma]",
    "qnormal": "[mu, sigma, q]",
    "lognormal": "[mu, sigma]",
    "qlognormal": "[mu, sigma, q]",
}
_FIXED_HINT = "for a fixed value use a one-element choice"

#: Larger search spaces are refused before they are checked (nested parameters count).
MAX_PARAMETERS = 20_000
#: At most this many choice options in the whole search space.
MAX_OPTIONS = 1_000_000


def _too_large(raw: object) -> str | None:
    """Why the space is over a size limit (counted with one walk), or None."""
    parameters = options = 0
    stack = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "_type" in item:
                parameters += 1
                value = item.get("_value")
                if item.get("_type") == "choice" and isinstance(value, list):
                    options += len(value)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(part for part in item if isinstance(part, dict | list))
    if parameters > MAX_PARAMETERS:
        return f"{parameters:,} parameters; the limit is {MAX_PARAMETERS:,}"
    if options > MAX_OPTIONS:
        return f"{options:,} choice options; the limit is {MAX_OPTIONS:,}"
    return None


def parse_search_space(
    raw: object,
    *,
    file: Path | str | None,
    line_of: LineOf | None = None,
    field_prefix: str = "",
) -> SearchSpace:
    """Validate an NNI search space and return it as a :class:`SearchSpace`.

    Args:
        raw: the loaded JSON/YAML value (``{name: {"_type": ..., "_value": [...]}}``).
        file: the file the space came from, for messages.
        line_of: maps a path inside the space (``("lr", "_value")``) to a line number; when
            it has no line for a path, the nearest enclosing path's line is used.
        field_prefix: prepended to every field name (``"searchSpace."`` for inline spaces).

    Returns:
        The parameters in file order; an empty mapping gives zero parameters.

    Raises:
        SearchSpaceError: with one problem per violation found anywhere in the space.
    """
    parser = _Parser(file, line_of, field_prefix)
    parameters = parser.space(raw)
    if parser.problems:
        raise SearchSpaceError(problems=parser.problems)
    return SearchSpace(tuple(parameters))


@functools.cache
def _validators() -> tuple[Any, Any]:
    import jsonschema  # lazy: `nni2ray check` is the only path that needs it

    text = (Path(__file__).parent / "schemas" / "search_space.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    spec_schema = {"$defs": schema["$defs"], "$ref": "#/$defs/spec"}
    return jsonschema.Draft202012Validator(schema), jsonschema.Draft202012Validator(spec_schema)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _number(value: object) -> float | None:
    # YAML 1.1 loads `1e-4` as a string; NNI converts bounds with float(), so do we.
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _count_hint(kind: str, count: int) -> str:
    if kind in _Q_TYPES and count == 2:
        return f"add the step q as a third value: {_SHAPES[kind]}"
    if count == 3 and f"q{kind}" in _SHAPES:
        return f"NNI ignores a third value for {kind}; remove it, or use q{kind} for steps of q"
    return f"write {_SHAPES[kind]}"


def _rule_problems(kind: str, values: list[float]) -> list[tuple[str, str]]:
    """(message, hint) pairs for every semantic rule the numeric ``values`` break."""
    found: list[tuple[str, str]] = []
    if kind == "randint" and math.ceil(values[1]) <= math.ceil(values[0]):
        found.append(
            (
                "randint needs at least one integer in [ceil(low), ceil(high))",
                "the upper bound is exclusive: [3, 4] gives only 3",
            )
        )
    if kind in _BOUNDED and values[0] >= values[1]:
        found.append((f"{kind} needs low < high", f"swap the bounds; {_FIXED_HINT}"))
    if kind in _LOG and values[0] <= 0:
        found.append(
            (f"{kind} needs low > 0", "the log of a number <= 0 is undefined; use e.g. 1e-8")
        )
    if kind in _NORMAL and values[1] <= 0:
        found.append((f"{kind} needs sigma > 0", f"sigma is the standard deviation; {_FIXED_HINT}"))
    if kind in _Q_TYPES and values[2] <= 0:
        found.append((f"{kind} needs q > 0", "q is the step between values, e.g. 0.01"))
    return found


@dataclass
class _Parser:
    file: Path | str | None
    line_of: LineOf | None
    prefix: str
    problems: list[Problem] = field(default_factory=list)

    def report(self, path: SpacePath, where: str, message: str, hint: str) -> None:
        line = self._line(path)
        self.problems.append(Problem(message, self.file, where or None, line, hint))

    def _line(self, path: SpacePath) -> int | None:
        if self.line_of is None:
            return None
        for end in range(len(path), -1, -1):
            line = self.line_of(path[:end])
            if line is not None:
                return line
        return None

    def space(self, raw: object) -> list[Parameter]:
        too_large = _too_large(raw)
        if too_large is not None:
            hint = "split the experiment or search fewer parameters"
            self.report((), self.prefix.rstrip("."), f"search space too large ({too_large})", hint)
            return []
        root, _ = _validators()
        errors = list(root.iter_errors(raw))
        if not isinstance(raw, dict):
            # A file that is text, not a mapping, is not quoted: it may be any file at all.
            got = f"text of {len(raw)} characters" if isinstance(raw, str) else _show(raw)
            self.report(
                (),
                self.prefix.rstrip("."),
                f"search space must be a mapping of parameter names to specs (got {got})",
                'write {"name": {"_type": "choice", "_value": [...]}, ...}',
            )
            return []
        by_name: defaultdict[object, list[Any]] = defaultdict(list)
        for error in errors:
            by_name[error.relative_path[0]].append(error)
        parameters = []
        for name, spec in raw.items():
            where = f"{self.prefix}{name}"
            if by_name[name]:
                for error in by_name[name]:
                    self.shape_error(error, list(error.relative_path)[1:], (name,), where)
                continue
            parameter = self.parameter(str(name), spec, (name,), where, str(name))
            if parameter is not None:
                parameters.append(parameter)
        return parameters

    def shape_error(self, error: Any, rel: list[Any], path: SpacePath, where: str) -> None:
        spec: Any = error.instance
        if not rel and error.validator == "type":
            message = f"must be a mapping with _type and _value (got {_show(spec)})"
            self.report(path, where, message, 'write {"_type": "uniform", "_value": [0, 1]}')
        elif not rel and error.validator == "required":
            for key in ("_type", "_value"):
                if key not in spec and repr(key) in error.message:
                    hint = "add _type: one of " + ", ".join(PARAMETER_TYPES)
                    if key == "_value":
                        hint = "add _value: a list such as [low, high] or the choice options"
                    self.report(
                        path + (key,), f"{where}.{key}", f"missing (got {_show(spec)})", hint
                    )
        elif rel == ["_type"]:
            hint = "use one of " + ", ".join(PARAMETER_TYPES)
            message = f"unknown _type (got {_show(error.instance)})"
            self.report(path + ("_type",), f"{where}._type", message, hint)
        elif rel == ["_value"]:
            message = f"must be a list (got {_show(error.instance)})"
            self.report(path + ("_value",), f"{where}._value", message, "write _value as a list")
        else:  # the schema only has the rules above; keep anything new visible anyway
            suffix = "".join(f".{part}" for part in rel)
            self.report(
                path + tuple(rel), where + suffix, error.message, "see NNI's search space docs"
            )

    def nested_spec(self, name: str, spec: object, path: SpacePath, where: str, shown: str) -> Any:
        _, validator = _validators()
        errors = sorted(validator.iter_errors(spec), key=lambda e: [str(p) for p in e.path])
        for error in errors:
            self.shape_error(error, list(error.relative_path), path, where)
        return None if errors else self.parameter(name, spec, path, where, shown)

    def parameter(
        self, name: str, spec: Any, path: SpacePath, where: str, shown: str
    ) -> Parameter | None:
        kind, value = spec["_type"], spec["_value"]
        path, where = path + ("_value",), f"{where}._value"
        if kind == "choice":
            return self.choice(name, value, path, where, shown)
        got = f"(got {_show(value)})"
        want = 3 if kind in _Q_TYPES else 2
        if len(value) != want:
            self.report(
                path, where, f"{kind} needs {_SHAPES[kind]} {got}", _count_hint(kind, len(value))
            )
            return None
        numbers = [_number(item) for item in value]
        if any(number is None for number in numbers):
            hint = "write numbers such as 0.001 (numeric strings such as '1e-3' are accepted)"
            self.report(path, where, f"{kind} needs numbers {_SHAPES[kind]} {got}", hint)
            return None
        floats = [number for number in numbers if number is not None]
        if not all(math.isfinite(number) for number in floats):
            hint = "NaN and infinity cannot be sampled; write finite numbers"
            self.report(path, where, f"{kind} needs finite numbers {got}", hint)
            return None
        broken = _rule_problems(kind, floats)
        for message, hint in broken:
            self.report(path, where, f"{message} {got}", hint)
        return None if broken else Parameter(name, kind, values=tuple(floats), path=shown)

    def choice(
        self, name: str, options: list[Any], path: SpacePath, where: str, shown: str
    ) -> Parameter | None:
        if not options:
            hint = f"list the options, e.g. [16, 32]; {_FIXED_HINT}"
            self.report(path, where, "choice needs at least one option (got [])", hint)
            return None
        named = [isinstance(option, dict) and "_name" in option for option in options]
        if not any(named):
            return Parameter(name, "choice", options=tuple(copy.deepcopy(options)), path=shown)
        if not all(named):
            for index, option in enumerate(options):
                if not named[index]:
                    message = f"option {index} of a nested choice is not a dict with _name"
                    hint = (
                        "a choice is nested only if every option is a dict with _name: add "
                        '_name to this option (e.g. {"_name": "none"}) or remove it from the others'
                    )
                    self.report(
                        path + (index,),
                        f"{where}[{index}]",
                        f"{message} (got {_show(option)})",
                        hint,
                    )
            return None
        nested = [
            self.nested_option(option, path + (index,), f"{where}[{index}]", f"{shown}[{index}]")
            for index, option in enumerate(options)
        ]
        if any(option is None for option in nested):
            return None
        return Parameter(name, "choice", options=tuple(nested), path=shown)

    def nested_option(
        self, option: dict[Any, Any], path: SpacePath, where: str, shown: str
    ) -> NestedOption | None:
        parameters: list[Parameter] = []
        constants: list[tuple[str, Any]] = []
        failed = False
        for key, value in option.items():
            if key == "_name":
                continue
            # A dict with _type or _value is a sub-parameter; anything else is a constant that
            # reaches the trial unchanged (NNI's formatting code treats it the same way).
            if isinstance(value, dict) and ("_type" in value or "_value" in value):
                sub = self.nested_spec(
                    str(key), value, path + (key,), f"{where}.{key}", f"{shown}.{key}"
                )
                failed = failed or sub is None
                if sub is not None:
                    parameters.append(sub)
            else:
                constants.append((str(key), copy.deepcopy(value)))
        if failed:
            return None
        return NestedOption(copy.deepcopy(option["_name"]), tuple(parameters), tuple(constants))
