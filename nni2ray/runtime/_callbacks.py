"""Driver-side Tune callbacks: keep every trial's record, show progress, stop on request."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from ray.tune import Callback
from ray.tune.stopper import Stopper

from nni2ray.results import (
    DISK_FULL_REASON,
    RUNNING,
    TrialRecord,
    append_metric,
    failed_path,
    free_bytes,
    inside_output,
    is_disk_full,
    low_on_space,
    write_json,
)
from nni2ray.runtime._progress import Progress
from nni2ray.startup import mark
from nni2ray.trials import (
    FINAL,
    MetricType,
    ResultKey,
    TrialContext,
    TrialStatus,
    end_leftover_trials,
    reported_value,
    sequence_of,
    trial_parameters,
)


def _loads(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return text


class RunStopper(Stopper):
    """Ends the whole run on Ctrl-C, when maxExperimentDuration has passed, or when the
    disk under the run folder is full (``disk_full``: the path a write failed on)."""

    def __init__(self, time_budget_s: float | None, stop_event: Any = None) -> None:
        self._start = time.monotonic()
        self._budget = time_budget_s
        self._stop_event = stop_event  # a threading.Event: a Python launcher's stop()
        self.interrupted = False
        self.out_of_time = False
        self.disk_full: Path | None = None
        self.disk_free: int | None = None  # bytes free when the disk was found full
        self.output = "."  # the run folder (set by the driver)

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        return False

    def stop_all(self) -> bool:
        if self._budget is not None and time.monotonic() - self._start >= self._budget:
            self.out_of_time = True
        if self._stop_event is not None and self._stop_event.is_set():
            self.interrupted = True
        return self.interrupted or self.out_of_time or self.disk_full is not None

    def on_disk_full(self, exc: OSError, path: Path) -> None:
        """A write failed for want of space: stop the run (raise anything else)."""
        if not is_disk_full(exc):
            raise exc
        self.mark_disk_full(failed_path(exc) or path)

    def mark_disk_full(self, path: Path) -> None:
        if self.disk_full is None:
            self.disk_full, self.disk_free = path, free_bytes(path)

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its stoppers with the experiment state; an Event is not picklable.
        return dict(self.__dict__, _stop_event=None)


def _forget_statistics(trial: Any) -> None:
    """Drop the running statistics Tune keeps for every metric of a trial that has ended
    (max, min, averages and two windows per key: about 20 KB a trial, kept to the end of
    the run). nni2ray never reads them: the record holds what the trial reported."""
    metadata = getattr(trial, "run_metadata", None)
    for name in ("metric_analysis", "metric_n_steps"):
        stats = getattr(metadata, name, None)
        if isinstance(stats, dict):
            stats.clear()
    # Tune caches each trial's state as JSON for its experiment checkpoint: write it again.
    for owner, method in ((metadata, "invalidate_cache"), (trial, "invalidate_json_state")):
        invalidate = getattr(owner, method, None)
        if callable(invalidate):
            invalidate()


class Recorder(Callback):
    """Writes ``trials/<id>/metrics.jsonl`` as results arrive and ``trial.json`` at the end,
    and keeps the run's status line (``runtime._progress``) up to date."""

    def __init__(
        self,
        context: TrialContext,
        stopper: RunStopper,
        mode: str,
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.records: dict[str, TrialRecord] = {}
        self._trials: list[Any] = []  # Tune's own list of the run's trials, kept up to date
        self._unwritten: set[str] = set()  # closed trials whose trial.json a full disk refused
        self._context = context
        self._stopper = stopper
        self._progress = progress or Progress(stream, quiet=quiet, mode=mode)

    def keep(self, records: Iterable[TrialRecord]) -> None:
        """Records of trials an earlier run (or NNI) finished: exported and counted with
        this run's."""
        for record in records:
            self.records[record.trial_id] = record
            self._progress.track(record)

    def _trial_dir(self, trial_id: str) -> Path:
        output = Path(self._context.output_dir)
        path = inside_output(output, output / "trials" / trial_id)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._stopper.on_disk_full(exc, path)
        return path

    def on_step_begin(self, iteration: int, trials: list[Any], **info: Any) -> None:
        self._trials = trials

    def on_trial_start(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        mark("Tune started the first trial's actor")
        self._open(trial)

    def _open(self, trial: Any) -> None:
        trial_dir = self._trial_dir(trial.trial_id)
        config = dict(trial.config)
        params = trial_parameters(self._context, config, trial_dir)
        earlier = self.records.get(trial.trial_id)
        record = TrialRecord(trial.trial_id, sequence_of(config), params)
        if earlier is not None:  # a retry after its worker died: same trial, new attempt
            record.retries = earlier.retries
        self.records[trial.trial_id] = record
        self._progress.track(record)

    def on_trial_recover(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        """The trial's worker died (or the trial errored) and Tune starts it again: end
        what the lost attempt left running, keep its metrics aside, count the retry."""
        trial_dir = self._trial_dir(trial.trial_id)
        # The dead worker could not end its trial's process group; on this machine we can.
        end_leftover_trials(Path(self._context.output_dir), trial.trial_id, grace_s=1.0)
        self._check_space()  # a trial that failed for want of space would fail again
        record = self.records.get(trial.trial_id)
        if record is None:
            return
        record.retries += 1
        record.metrics = []
        metrics = trial_dir / "metrics.jsonl"
        if metrics.exists():
            try:
                metrics.rename(trial_dir / f"metrics.attempt-{record.retries}.jsonl")
            except OSError as exc:
                self._stopper.on_disk_full(exc, metrics)
        reason = getattr(trial, "error_file", None) or "its Ray worker died"
        with contextlib.suppress(OSError, ValueError):  # a terminal gone: go on
            print(
                f"nni2ray: warning: trial {trial.trial_id} failed ({reason}); "
                f"starting it again (retry {record.retries})",
                file=sys.stderr,
            )

    def on_trial_result(
        self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any
    ) -> None:
        mark("first trial result reached the driver")
        kind = result.get(ResultKey.TYPE)
        record = self.records.get(trial.trial_id)
        if record is None or kind in (MetricType.HEARTBEAT, MetricType.END, None):
            return
        row = {
            "type": kind,
            "sequence": result.get(ResultKey.SEQUENCE),
            "value": reported_value(result),
            "time": time.time(),
        }
        record.metrics.append(row)
        if kind == FINAL:
            self._progress.track(record)
        trial_dir = self._trial_dir(trial.trial_id)
        try:
            append_metric(trial_dir, row)
        except OSError as exc:
            self._stopper.on_disk_full(exc, trial_dir / "metrics.jsonl")
        if kind != FINAL:
            self._progress.report(trial.trial_id, len(record.intermediate), row["value"])
        self._progress.status(event=False)

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        last = trial.last_result or {}
        if ResultKey.STATUS in last:
            self._finish(trial, last[ResultKey.STATUS], last.get(ResultKey.END_REASON), last)
        else:
            self._finish(trial, *self._stop_reason(), last)
        _forget_statistics(trial)

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        reason = str(getattr(trial, "error_file", None) or "trial actor failed")
        self._finish(trial, TrialStatus.FAILED, reason, trial.last_result or {})
        _forget_statistics(trial)

    def finish_open(self) -> None:
        """Close the records of trials Tune ended without a callback (Ctrl-C, time limit).

        A trial's process starts in its actor's set-up, before the driver hears that the
        actor started: a stop in between leaves a trial that ran (its folder exists) with
        no record yet; it gets one here, so that no trial that ran goes missing.
        """
        output = Path(self._context.output_dir)
        for trial in self._trials:
            if trial.trial_id not in self.records and (output / "trials" / trial.trial_id).is_dir():
                self._open(trial)
        for record in self.records.values():
            # Only this run's open trials: a kept record of an earlier run (or of NNI)
            # without an endTime is not rewritten.
            if record.end_time is None and record.status == RUNNING:
                status, reason = self._stop_reason()
                self._close(record, status, reason, {})

    def _stop_reason(self) -> tuple[str, str]:
        if self._stopper.disk_full is not None:
            return TrialStatus.USER_CANCELED, DISK_FULL_REASON
        if self._stopper.interrupted:
            return TrialStatus.USER_CANCELED, "interrupted"
        if self._stopper.out_of_time:
            return TrialStatus.EARLY_STOPPED, "maxExperimentDuration"
        return TrialStatus.EARLY_STOPPED, "assessor"

    def _finish(self, trial: Any, status: str, reason: str | None, last: dict[str, Any]) -> None:
        record = self.records.get(trial.trial_id)
        if record is not None and record.end_time is None:
            if status == TrialStatus.FAILED:
                self._check_space()
            if status == TrialStatus.FAILED and self._stopper.disk_full is not None:
                # Its own writes (prints, files) most likely failed for want of space:
                # it runs again on --resume instead of counting as failed.
                status, reason = TrialStatus.USER_CANCELED, DISK_FULL_REASON
            self._close(record, status, reason, last)

    def _check_space(self) -> None:
        output = Path(self._context.output_dir)
        if self._stopper.disk_full is None and low_on_space(output):
            self._stopper.mark_disk_full(output)

    def _close(
        self, record: TrialRecord, status: str, reason: str | None, last: dict[str, Any]
    ) -> None:
        record.status, record.end_reason, record.end_time = status, reason, time.time()
        record.exit_code = last.get(ResultKey.EXIT_CODE)
        record.protocol_errors = list(last.get(ResultKey.PROTOCOL_ERRORS) or [])
        record.ignored_finals = [_loads(t) for t in last.get(ResultKey.IGNORED_FINALS) or []]
        self._write_record(record)
        self._progress.track(record)
        self._progress.status(event=True)

    def _write_record(self, record: TrialRecord) -> None:
        path = self._trial_dir(record.trial_id) / "trial.json"
        try:
            write_json(path, record.to_record_json())
            self._unwritten.discard(record.trial_id)
        except OSError as exc:  # without trial.json, --resume runs the trial again
            self._stopper.on_disk_full(exc, path)
            self._unwritten.add(record.trial_id)

    def write_unwritten(self) -> None:
        """Try again the ``trial.json`` files a full disk refused (once space is back)."""
        for trial_id in sorted(self._unwritten):
            self._write_record(self.records[trial_id])

    def on_step_end(self, iteration: int, trials: list[Any], **info: Any) -> None:
        self._progress.status(event=False)
