"""Turn an :class:`Experiment` into plain JSON data (paths as strings, secrets redacted)."""

from __future__ import annotations

import dataclasses
from enum import Enum
from pathlib import Path
from typing import Any

from nni2ray.experiment._paths import is_inside
from nni2ray.experiment.model import Experiment, Parameter
from nni2ray.secrets import redact


def experiment_to_json(experiment: Experiment) -> dict[str, Any]:
    """The experiment as JSON-ready data, for ``nni2ray check --json`` and scripts."""
    data = _plain(experiment)
    assert isinstance(data, dict)
    space_file = experiment.search_space_file
    folder = experiment.root or experiment.config_file.parent
    if space_file is not None and not is_inside(space_file, folder):
        # A custom tuner keeps any file as its space: one outside is named, not printed.
        data["raw_search_space"] = f"(not shown: {space_file} is outside the experiment folder)"
    redacted = redact(data)  # classArgs, the trial command, any text: the one rule
    assert isinstance(redacted, dict)
    return redacted


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
