"""Read a run folder (a run, a running run, an NNI import) as the views show it."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nni2ray.errors import OutputError
from nni2ray.results import RESULTS_DIR, RUNNING, TrialRecord, rank, read_run_meta
from nni2ray.trials import PARAMETER_FILE, TrialStatus

#: Statuses in the order the views list them.
STATUSES: tuple[str, ...] = (
    TrialStatus.SUCCEEDED,
    TrialStatus.RUNNING,
    TrialStatus.FAILED,
    TrialStatus.EARLY_STOPPED,
    TrialStatus.USER_CANCELED,
)


@dataclass
class RunInfo:
    """One run folder: its ``experiment.json`` and every trial's record.

    Attributes:
        folder: the run folder (absolute).
        meta: ``experiment.json``.
        records: every trial, in sequence order; a trial still running has no
            ``trial.json`` yet and is rebuilt from ``parameter.cfg`` and ``metrics.jsonl``.
        read_at: when the folder was read (seconds since the epoch).
    """

    folder: Path
    meta: dict[str, Any]
    records: list[TrialRecord] = field(default_factory=list)
    read_at: float = field(default_factory=time.time)

    @property
    def plan(self) -> dict[str, Any]:
        plan = self.meta.get("plan")
        return plan if isinstance(plan, dict) else {}

    @property
    def config(self) -> dict[str, Any]:
        config = self.meta.get("config")
        return config if isinstance(config, dict) else {}

    @property
    def imported(self) -> bool:
        return "importedFrom" in self.meta

    @property
    def experiment_id(self) -> str:
        return str(self.meta.get("experimentId") or "")

    @property
    def name(self) -> str:
        name = self.plan.get("name") or self.config.get("experimentName")
        return str(name) if name else f"nni-{self.experiment_id}"

    @property
    def status(self) -> str:
        return str(self.meta.get("status") or "UNKNOWN")

    @property
    def metric(self) -> str:
        return str(self.plan.get("metric") or "default")

    @property
    def mode(self) -> str:
        if self.plan.get("mode") in ("min", "max"):
            return str(self.plan["mode"])
        tuner = self.config.get("tuner") or self.config.get("advisor") or {}
        args = tuner.get("classArgs") if isinstance(tuner, dict) else None
        optimize = args.get("optimize_mode") if isinstance(args, dict) else None
        return "min" if optimize == "minimize" else "max"

    @property
    def start_time(self) -> float | None:
        return _seconds(self.meta.get("startTime"))

    @property
    def end_time(self) -> float | None:
        return _seconds(self.meta.get("endTime"))

    @property
    def elapsed_s(self) -> float:
        """The run's wall time as its summary gave it, else start to end (or now)."""
        wall = _seconds(self.meta.get("wallTime"))
        if wall is not None and self.status != "RUNNING":
            return wall
        start = self.start_time
        if start is None:
            return 0.0
        end = self.end_time if self.status != "RUNNING" else None
        return max((end or self.read_at) - start, 0.0)

    @property
    def max_trials(self) -> int | None:
        if self.imported:
            value = self.config.get("maxTrialNumber")
        else:
            value = self.plan.get("num_samples")
            if isinstance(value, int) and value > 0 and isinstance(self.meta.get("fromNni"), dict):
                value += int(self.meta["fromNni"].get("importedTrials") or 0)
        return value if isinstance(value, int) and value > 0 else None

    @property
    def max_duration_s(self) -> float | None:
        if not self.imported:
            return _seconds(self.plan.get("time_budget_s"))
        value = self.config.get("maxExperimentDuration")
        if value is None:
            return None
        from nni2ray.experiment import DurationError, parse_duration

        try:
            return float(parse_duration(value))
        except DurationError:
            return None

    def counts(self) -> dict[str, int]:
        """Trials by status, the usual ones always present."""
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for record in self.records:
            counts[record.status] = counts.get(record.status, 0) + 1
        return counts

    def best(self) -> list[TrialRecord]:
        return rank(self.records, self.mode)

    def trial_dir(self, record: TrialRecord) -> Path:
        return self.folder / "trials" / record.trial_id


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value):
        return None
    return float(value)


def load_run(folder: Path) -> RunInfo:
    """Read ``folder``'s ``experiment.json`` and every ``trials/<id>/``.

    Raises:
        OutputError: the folder is not an nni2ray run or import.
    """
    folder = folder.expanduser().resolve()
    meta = read_run_meta(
        folder,
        hint="pass a folder that `nni2ray run` or `nni2ray import` wrote "
        f"(see `nni2ray list`, default {RESULTS_DIR}/)",
    )
    info = RunInfo(folder, meta)
    trials = folder / "trials"
    if trials.is_dir():
        for trial_dir in sorted(trials.iterdir()):
            record = read_trial(trial_dir) if trial_dir.is_dir() else None
            if record is not None:
                info.records.append(record)
    info.records.sort(key=lambda r: (r.sequence, r.trial_id))
    return info


def read_trial(trial_dir: Path) -> TrialRecord | None:
    """The trial's ``trial.json``; for a trial still running, what its folder holds so far."""
    try:
        data = json.loads((trial_dir / "trial.json").read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return TrialRecord.from_json(data)
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        pass  # half-written: read what the trial has reported instead
    cfg_path = trial_dir / PARAMETER_FILE
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        start = cfg_path.stat().st_mtime
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(cfg, dict):
        return None
    sequence = cfg.get("parameter_id")
    return TrialRecord(
        trial_id=trial_dir.name,
        sequence=sequence if isinstance(sequence, int) else -1,
        parameters=cfg.get("parameters"),
        status=RUNNING,
        start_time=start,
        metrics=_metric_rows(trial_dir / "metrics.jsonl"),
    )


def _metric_rows(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return rows
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue  # the line being written
        if isinstance(row, dict) and "type" in row:
            rows.append(row)
    return rows


def find_runs(base: Path) -> list[Path]:
    """Run folders directly under ``base`` (or ``base`` itself), oldest first.

    Raises:
        OutputError: ``base`` is not a folder.
    """
    base = base.expanduser()
    if not base.is_dir():
        raise OutputError(
            "no such folder",
            file=base.resolve(),
            hint=f"run `nni2ray run` first, or pass the folder that holds the runs "
            f"(default ./{RESULTS_DIR})",
        )
    if (base / "experiment.json").is_file():
        return [base.resolve()]
    found = [p.resolve() for p in base.iterdir() if (p / "experiment.json").is_file()]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def tail(path: Path, lines: int = 40, limit: int = 8000) -> str:
    """The last ``lines`` lines of a text file (at most ``limit`` characters); '' if none."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(size - limit, 0))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def last_line(path: Path) -> str:
    """The last non-blank line of a text file; '' if none."""
    for line in reversed(tail(path, 200).splitlines()):
        if line.strip():
            return line.strip()
    return ""
