"""Why trials failed: the most common failure of a run, with the end of one trial's stderr."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from nni2ray.results._records import TrialRecord
from nni2ray.trials import TrialStatus

#: How much of a stderr file is read (its end), and how many of its last lines are shown.
TAIL_BYTES = 8192
TAIL_LINES = 6


@dataclass(frozen=True)
class FailureReport:
    """The most common failure among a run's failed trials.

    Attributes:
        cause: one line: the last line of the example trial's stderr, or its exit code.
        count: failed trials with this cause; ``failed``: all failed trials; ``total``: all
            trials of the run.
        stderr: the example trial's ``trial.stderr``; ``tail``: its last lines.
    """

    cause: str
    count: int
    failed: int
    total: int
    stderr: Path
    tail: tuple[str, ...]

    @property
    def every_trial(self) -> bool:
        """Whether every trial of the run failed."""
        return self.failed == self.total


def failure_report(records: list[TrialRecord], output: Path) -> FailureReport | None:
    """The most common failure of the FAILED trials in ``records`` (None if none failed)."""
    failed = [r for r in records if r.status == TrialStatus.FAILED]
    if not failed:
        return None
    examples: dict[str, tuple[str, Path, tuple[str, ...]]] = {}
    kinds: Counter[str] = Counter()
    for record in sorted(failed, key=lambda r: r.sequence):
        stderr = output / "trials" / record.trial_id / "trial.stderr"
        tail = _tail(stderr)
        cause = tail[-1].strip() if tail else _no_stderr(record)
        kind = re.sub(r"\d+(\.\d+)?", "#", cause)  # the same failure with other numbers
        kinds[kind] += 1
        examples.setdefault(kind, (cause, stderr, tail))
    kind, count = kinds.most_common(1)[0]
    cause, stderr, tail = examples[kind]
    return FailureReport(cause, count, len(failed), len(records), stderr, tail)


def _tail(path: Path) -> tuple[str, ...]:
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(size - TAIL_BYTES, 0))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ()
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return tuple(lines[-TAIL_LINES:])


def _no_stderr(record: TrialRecord) -> str:
    if record.end_reason:
        return record.end_reason
    if record.exit_code is not None:
        return f"exit code {record.exit_code}, nothing on stderr"
    return "no exit code, nothing on stderr"
