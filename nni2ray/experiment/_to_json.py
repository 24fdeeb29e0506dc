"""Turn an :class:`Experiment` into plain JSON data (paths as strings, secrets redacted)."""

from __future__ import annotations

import dataclasses
import re
from enum import Enum
from pathlib import Path
from typing import Any

from nni2ray.experiment.model import Experiment, Parameter

REDACTED = "***"
_SECRET_ARG = re.compile(r"pass(word|wd|phrase)|token|secret|api_?key|access_?key", re.I)


def redact(args: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``classArgs`` with password/token/secret-looking values replaced."""
    return {
        key: REDACTED if isinstance(key, str) and _SECRET_ARG.search(key) else value
        for key, value in args.items()
    }


def experiment_to_json(experiment: Experiment) -> dict[str, Any]:
    """The experiment as JSON-ready data, for ``nni2ray check --json`` and scripts."""
    data = _plain(experiment)
    assert isinstance(data, dict)
    for role in ("tuner", "assessor"):
        if isinstance(data.get(role), dict):
            data[role]["class_args"] = redact(data[role]["class_args"])
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, Parameter):
        return {**_fields(value), "nested": value.nested}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # YAML dates and the like


def _fields(value: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
