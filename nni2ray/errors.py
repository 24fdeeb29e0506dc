"""The exceptions nni2ray raises for failures a user can fix.

Hierarchy::

    Nni2RayError                    printed by the CLI as one line per problem, exit 1
    ├── ExperimentNotFoundError     no NNI config in the folder (or several and no --config)
    ├── ConfigError                 YAML/JSON syntax error or config schema violation
    ├── SearchSpaceError            a search space that NNI's samplers cannot honour
    ├── UnsupportedError            valid NNI with no Ray Tune equivalent
    ├── MissingDependencyError      an optional back-end is not installed
    ├── ResourceError               a trial asks for more than the cluster can ever give
    ├── TrialLaunchError            the trial command or its directory cannot be started
    ├── TrialProtocolError          a trial broke the NNI trial contract
    ├── OutputError                 the output folder cannot be used
    │   └── DiskFullError           the output folder's disk filled up during a run
    ├── HistoryError                an NNI experiment folder or database cannot be read
    ├── AlgorithmError              a custom tuner/assessor cannot be loaded, or it raised
    └── ConvertError                a trial file cannot be parsed for conversion

Anything that is not an ``Nni2RayError`` is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One located problem: ``file:line: field: message; hint``."""

    message: str
    file: Path | str | None = None
    field: str | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = ":".join(str(part) for part in (self.file, self.line) if part is not None)
        text = ": ".join(part for part in (where, self.field, self.message) if part)
        return f"{text}; {self.hint}" if self.hint else text


class Nni2RayError(Exception):
    """A failure the user can fix. The CLI prints it without a traceback.

    An error carries one or more :class:`Problem` records; ``str(error)`` is one line per
    problem, so every problem found in a file is reported at once.
    """

    def __init__(
        self,
        message: str = "",
        *,
        file: Path | str | None = None,
        field: str | None = None,
        line: int | None = None,
        hint: str | None = None,
        problems: Iterable[Problem] | None = None,
    ) -> None:
        found = list(problems or [])
        if message:
            found.insert(0, Problem(message, file=file, field=field, line=line, hint=hint))
        if not found:
            raise ValueError("an Nni2RayError needs a message or at least one problem")
        self.problems: tuple[Problem, ...] = tuple(found)
        first = self.problems[0]
        self.message, self.file, self.field = first.message, first.file, first.field
        self.line, self.hint = first.line, first.hint
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


class ExperimentNotFoundError(Nni2RayError):
    """No NNI experiment config could be found (or several, and none was chosen)."""


class ConfigError(Nni2RayError):
    """A config file does not parse or breaks the NNI config schema."""


class SearchSpaceError(Nni2RayError):
    """A search space entry that NNI's samplers cannot honour."""


class UnsupportedError(Nni2RayError):
    """Valid NNI input that has no Ray Tune equivalent."""


class MissingDependencyError(Nni2RayError):
    """An optional package needed by the chosen searcher is not installed."""


class ResourceError(Nni2RayError):
    """A trial asks for resources the Ray cluster can never provide."""


class TrialLaunchError(Nni2RayError):
    """The trial command cannot be started (missing directory or program)."""


class TrialProtocolError(Nni2RayError):
    """A trial broke the NNI trial contract."""


class OutputError(Nni2RayError):
    """The output folder cannot be created or written."""


class DiskFullError(OutputError):
    """The disk under the output folder filled up: the run stopped, its records kept."""


class HistoryError(Nni2RayError):
    """An NNI experiment folder or database that cannot be read as NNI's history."""


class AlgorithmError(Nni2RayError):
    """A user's custom tuner or assessor could not be loaded, or one of its methods raised."""


class ConvertError(Nni2RayError):
    """A trial source file cannot be parsed for conversion."""
