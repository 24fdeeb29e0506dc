"""ConvertResult: what converting one source file produced (LibCST's result union, as data)."""

from __future__ import annotations

from dataclasses import dataclass, field

from nni2ray.errors import Problem
from nni2ray.notes import Note


@dataclass(frozen=True)
class Converted:
    """The file used NNI and was rewritten; ``code`` is the new source."""

    filename: str
    code: str
    notes: tuple[Note, ...] = field(default=())


@dataclass(frozen=True)
class Unchanged:
    """Nothing to rewrite; ``code`` is the input, byte for byte (notes may explain why)."""

    filename: str
    code: str
    notes: tuple[Note, ...] = field(default=())


@dataclass(frozen=True)
class Skipped:
    """The file is not Python source and was copied verbatim."""

    filename: str
    reason: str
    notes: tuple[Note, ...] = field(default=())


@dataclass(frozen=True)
class Failed:
    """The file does not parse; ``problem`` says where (``file:line:col``) and why."""

    filename: str
    code: str
    problem: Problem
    notes: tuple[Note, ...] = field(default=())


ConvertResult = Converted | Unchanged | Skipped | Failed
