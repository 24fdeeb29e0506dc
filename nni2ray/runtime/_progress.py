"""What a run says on the terminal while it goes: a first line at once (what runs, with
which limits), a line when Ray is up, then one status line that is redrawn in place on a
terminal, or one line per event when the output is a file or a pipe.

No library: a carriage return and an erase-line code draw the status line (rich would add
three packages to the base install; tqdm only comes with the hyperopt extra).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any, TextIO

from nni2ray.results import TrialRecord, rank
from nni2ray.translate import TunePlan, searcher_words
from nni2ray.trials import TrialStatus, scalar_of

#: Seconds between two redraws of the live line, and between two lines when nothing ends.
REDRAW_S = 0.25
QUIET_LINE_S = 30.0

_SCHEDULERS = {
    "asha": "ASHA early stopping",
    "medianstop": "median-stop early stopping",
    "hyperband": "HyperBand early stopping",
    "fifo": "no early stopping",
    "custom": "the config's assessor",
}


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def plan_line(plan: TunePlan, scheduler_flag: str | None = None) -> str:
    """``nni2ray: running NAME: TPE as Optuna's TPESampler ...; ASHA early stopping (...)``."""
    searcher = plan.searcher
    words = searcher_words(searcher)
    what = f"{searcher.nni_name} as {words}" if searcher.nni_name else words
    scheduler = plan.scheduler
    stopping = _SCHEDULERS.get(scheduler.kind, scheduler.kind)
    if scheduler.nni_name:
        stopping += f" for the assessor {scheduler.nni_name}"
    elif scheduler.kind == "asha" and scheduler_flag is None:
        stopping += " (the config has no assessor; --scheduler none to turn it off)"
    limits = [f"{plan.max_concurrent_trials} at a time"]
    limits.insert(0, f"{plan.num_samples} trials" if plan.num_samples > 0 else "no trial limit")
    if plan.time_budget_s:
        limits.append(f"at most {_duration(plan.time_budget_s)}")
    return f"nni2ray: running {plan.name}: {what}; {stopping}; {', '.join(limits)}"


class Tally:
    """The status line's figures, kept up to date one record at a time: how many trials are in
    each status and the best so far.

    Tune calls back on every step and every result; walking every record each time made a
    long run slower with every trial (10,000 trials: from 27 to under 1 trial/s), so each
    change is counted once, when the recorder makes it.
    """

    def __init__(self, mode: str = "max") -> None:
        self.mode = mode
        self.counts: Counter[str] = Counter()
        self._records: dict[str, TrialRecord] = {}
        self._statuses: dict[str, str] = {}  # the status each record was counted under
        self.best: TrialRecord | None = None

    @classmethod
    def of(cls, records: Iterable[TrialRecord], mode: str) -> Tally:
        tally = cls(mode)
        for record in records:
            tally.track(record)
        return tally

    def __len__(self) -> int:
        return len(self._records)

    def track(self, record: TrialRecord) -> None:
        """Count a new record, or a record whose status or final result has changed."""
        earlier = self._records.get(record.trial_id)
        if earlier is not None:
            self.counts[self._statuses.pop(record.trial_id)] -= 1
        self._records[record.trial_id] = record
        self._statuses[record.trial_id] = record.status
        self.counts[record.status] += 1
        best = self.best
        if best is not None and best.trial_id == record.trial_id and best is not record:
            # A retry replaced the best trial's record: rank again (rare).
            ranked = rank(list(self._records.values()), self.mode)
            self.best = ranked[0] if ranked else None
            return
        value = record.final_scalar
        if value is None:
            return
        top = best.final_scalar if best is not None else None
        if top is None or (value > top if self.mode == "max" else value < top):
            self.best = record


class Progress:
    """The run's terminal output after the first line.

    Args:
        stream: where to write (None: ``sys.stdout`` at each write).
        quiet: write nothing.
        started: ``time.monotonic()`` when the command started; elapsed times count from it.
        mode: ``max`` or ``min``, to name the best trial.
        total: trials the run may start in all (None: no limit), counting kept ones.
        live: redraw one line in place (None: when ``stream`` is a terminal).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        quiet: bool = False,
        started: float | None = None,
        mode: str = "max",
        total: int | None = None,
        live: bool | None = None,
    ) -> None:
        self._stream = stream
        self.quiet = quiet
        self.started = time.monotonic() if started is None else started
        self.mode = mode
        self.total = total
        self._live = live
        self._drawn = False  # a live line is on screen and has no newline yet
        self._last_write = time.monotonic()
        self._latest = ""
        self.tally = Tally(mode)

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stdout

    @property
    def live(self) -> bool:
        if self._live is None:
            isatty = getattr(self.stream, "isatty", None)
            self._live = bool(isatty and isatty())
        return self._live

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, line: str) -> None:
        """A line that stays (the live line, if any, is drawn again below it)."""
        if self.quiet:
            return
        self._clear()
        self._write(line + "\n")

    def report(self, trial_id: str, step: int, value: Any) -> None:
        """Remember the newest intermediate result, for the live line."""
        number = scalar_of(value)  # the tuned number; None beyond float range (10**400)
        if number is not None:
            self._latest = f" | {trial_id} step {step}: {number:.4g}"

    def track(self, record: TrialRecord) -> None:
        """A record was added or changed (its status, its final result)."""
        self.tally.track(record)

    def status(self, *, event: bool) -> None:
        """The status line: redrawn in place on a terminal, else written on each ``event``
        (a trial ended) and every ``QUIET_LINE_S`` seconds."""
        if self.quiet:
            return
        now = time.monotonic()
        if self.live:
            if not event and now - self._last_write < REDRAW_S:
                return
            text = status_line(self.tally, self.elapsed(), self.total) + self._latest
            width = shutil.get_terminal_size((100, 24)).columns - 1
            self._write("\r\x1b[2K" + text[:width])
            self._drawn = True
        elif event or now - self._last_write >= QUIET_LINE_S:
            self._write(status_line(self.tally, self.elapsed(), self.total) + "\n")
        else:
            return
        self._last_write = now

    def close(self) -> None:
        """End the live line (it stays on screen as the run's last status)."""
        if self._drawn and not self.quiet:
            self._write("\n")
        self._drawn = False

    def _clear(self) -> None:
        if self._drawn:
            self._write("\r\x1b[2K")
            self._drawn = False

    def _write(self, text: str) -> None:
        """Write and flush; a terminal that went away (SIGHUP, EIO) or a closed pipe ends
        the progress output, never the run."""
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.quiet = True

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks (and so this) with the experiment state.
        return dict(self.__dict__, _stream=None)


def status_line(tally: Tally, elapsed: float, total: int | None = None) -> str:
    """``[  12s] 4 done, 2 running, 1 failed, 1 early-stopped | best 0.9632 (trial ..) |
    6 trials left``."""
    counts = tally.counts
    text = (
        f"[{elapsed:5.0f}s] {counts[TrialStatus.SUCCEEDED]} done, "
        f"{counts[TrialStatus.RUNNING]} running, {counts[TrialStatus.FAILED]} failed, "
        f"{counts[TrialStatus.EARLY_STOPPED]} early-stopped"
    )
    if counts[TrialStatus.USER_CANCELED]:
        text += f", {counts[TrialStatus.USER_CANCELED]} cancelled"
    if tally.best is not None:
        text += f" | best {tally.best.final_scalar:.6g} (trial {tally.best.trial_id})"
    if total is not None:
        left = max(total - len(tally), 0)
        text += f" | {left} trial{'' if left == 1 else 's'} left"
    return text
