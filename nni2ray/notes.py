"""Notes: what a translation or conversion mapped approximately, ignored or refused."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    """How far a note's subject is from NNI's behaviour."""

    EXACT = "exact"  # recorded for reports: mapped with the same semantics
    APPROXIMATED = "approximated"  # mapped to the nearest Ray Tune behaviour
    IGNORED = "ignored"  # accepted but has no effect under nni2ray
    WARNING = "warning"  # something the user should look at (typo'd key, odd value)
    REFUSED = "refused"  # cannot be honoured; only reported where nothing else breaks


@dataclass(frozen=True)
class Note:
    """One located remark about the user's experiment."""

    severity: Severity
    message: str
    file: Path | str | None = None
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ":".join(str(part) for part in (self.file, self.line) if part is not None)
        return ": ".join(part for part in (where, self.field, self.message) if part)
