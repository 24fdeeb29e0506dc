"""The problems and notes collected while loading one config, with where each field came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from nni2ray.errors import (
    ConfigError,
    Nni2RayError,
    Problem,
    SearchSpaceError,
    UnsupportedError,
)
from nni2ray.notes import Note, Severity
from nni2ray.secrets import REDACTED, is_secret_key, mask_text

#: A canonical (camelCase, v2) location in the config: keys and list indexes.
Key = tuple[str | int, ...]
ProblemKind = Literal["config", "space", "unsupported"]

#: How a missing field is named in a v1 config.
_V1_NAMES: dict[Key, str] = {
    ("trialCommand",): "trial.command",
    ("trialCodeDirectory",): "trial.codeDir",
    ("searchSpaceFile",): "searchSpacePath",
    ("maxTrialNumber",): "maxTrialNum",
    ("maxExperimentDuration",): "maxExecDuration",
}
_ERROR_CLASSES: dict[str, type[Nni2RayError]] = {
    "config": ConfigError,
    "space": SearchSpaceError,
    "unsupported": UnsupportedError,
}


def is_secret(path: Key) -> bool:
    """True for values that must never be echoed (the rule of :mod:`nni2ray.secrets`)."""
    keys = [part for part in path if isinstance(part, str)]
    strict = any(
        k in ("trainingService", "machineList", "sharedStorage", "classArgs") for k in keys
    )
    return any(is_secret_key(key, strict) for key in keys if key not in ("searchSpace",))


def show(value: object, path: Key = ()) -> str:
    """A short repr of a user value for messages; secrets become ``'***'``."""
    if is_secret(path):
        return f"'{REDACTED}'"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    text = mask_text(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Origin:
    """Where a canonical field was written: the field as the user spelled it, and its line."""

    field: str
    line: int | None


@dataclass
class Context:
    """Collects every problem and note for one config file before anything is raised."""

    file: str
    base_dir: Path
    version: Literal["v1", "v2"] = "v2"
    origins: dict[Key, Origin] = field(default_factory=dict)
    bad: set[Key] = field(default_factory=set)
    aliased: set[Key] = field(default_factory=set)  # set by a v1 spelling in a v2 file
    problems: list[tuple[ProblemKind, Problem]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    code_dir: Path | None = None  # the trial code directory, once it is known
    #: The experiment folder the user named: the config's folder, or the folder given to
    #: check/run/convert when the config was found in one of its subfolders.
    root: Path | None = None

    @property
    def tree(self) -> Path:
        """The experiment folder files are expected in (see ``root``)."""
        return self.root if self.root is not None else self.base_dir

    def in_tree(self, path: Path) -> bool:
        """True for a file inside the experiment folder or the trial code directory."""
        from nni2ray.experiment._paths import is_inside

        folders = [self.tree] + ([self.code_dir] if self.code_dir is not None else [])
        return any(is_inside(path, folder) for folder in folders)

    def where(self, path: Key) -> Origin:
        """The user's spelling and line of ``path`` (its parent's line when it is missing)."""
        if path in self.origins:
            return self.origins[path]
        if self.version == "v1" and path in _V1_NAMES:
            return Origin(_V1_NAMES[path], None)
        parent = self.where(path[:-1]) if len(path) > 1 else Origin("", None)
        last = path[-1] if path else ""
        name = f"{parent.field}[{last}]" if isinstance(last, int) else f"{parent.field}.{last}"
        return Origin(name.lstrip("."), parent.line)

    def error(
        self, path: Key, message: str, hint: str | None = None, kind: ProblemKind = "config"
    ) -> None:
        """Record a problem at ``path``; later checks skip that path."""
        origin = self.where(path)
        problem = Problem(message, file=self.file, field=origin.field, line=origin.line, hint=hint)
        self.problems.append((kind, problem))
        self.bad.add(path)

    def add(self, kind: ProblemKind, problems: tuple[Problem, ...]) -> None:
        """Merge problems found elsewhere (the search-space parser, a file reader)."""
        self.problems.extend((kind, problem) for problem in problems)

    def note(self, path: Key, severity: Severity, message: str) -> None:
        """Record a note at ``path``."""
        origin = self.where(path)
        self.notes.append(Note(severity, message, self.file, origin.field or None, origin.line))

    def note_at(self, origin: Origin, severity: Severity, message: str) -> None:
        """Record a note at a place that has no canonical path (an unknown key)."""
        self.notes.append(Note(severity, message, self.file, origin.field or None, origin.line))

    def raise_problems(self) -> None:
        """Raise one error carrying every problem, sorted by file and line, if there are any."""
        if not self.problems:
            return
        ordered = sorted(
            self.problems,
            key=lambda kp: (str(kp[1].file), kp[1].line or 0, kp[1].field or ""),
        )
        kinds = {kind for kind, _ in ordered}
        cls = _ERROR_CLASSES[kinds.pop()] if len(kinds) == 1 else ConfigError
        raise cls(problems=[problem for _, problem in ordered])
