"""``list`` and ``show``: runs as text lines and as JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from nni2ray.results import TrialRecord
from nni2ray.trials import TrialStatus
from nni2ray.view._run import RunInfo, last_line

_SHOWN_BEST = 5


def status_counts(records: list[TrialRecord]) -> str:
    """``3 succeeded, 1 failed`` (statuses in name order), or ``none``."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record.status] = counts.get(record.status, 0) + 1
    text = ", ".join(f"{n} {s.lower().replace('_', '-')}" for s, n in sorted(counts.items()))
    return text or "none"


def summary_lines(
    records: list[TrialRecord], best: list[TrialRecord], mode: str, elapsed_s: float, output: Path
) -> list[str]:
    """The summary printed at the end of a run (and again by ``nni2ray show``)."""
    lines = [f"{len(records)} trials in {elapsed_s:.1f}s ({status_counts(records)})"]
    if best:
        order = "highest" if mode == "max" else "lowest"
        lines.append(f"Best trials ({order} final metric first):")
        width = max(len(r.trial_id) for r in best[:_SHOWN_BEST])
        for record in best[:_SHOWN_BEST]:
            params = json.dumps(record.parameters, sort_keys=True)
            lines.append(f"  {record.trial_id:<{width}}  {record.final_scalar:<12.6g} {params}")
        lines.append(f"Best parameters: {json.dumps(best[0].parameters, sort_keys=True)}")
    else:
        lines.append("No trial reported a final result.")
    lines.append(f"Results: {output}")
    return lines


def failed_trials(info: RunInfo) -> list[dict[str, Any]]:
    """Each FAILED trial with the last line of its stderr and that file's path."""
    failed = []
    for record in info.records:
        if record.status != TrialStatus.FAILED:
            continue
        stderr = info.trial_dir(record) / "trial.stderr"
        failed.append(
            {
                "trialJobId": record.trial_id,
                "exitCode": record.exit_code,
                "endReason": record.end_reason,
                "stderrLastLine": last_line(stderr),
                "stderr": str(stderr) if stderr.is_file() else None,
            }
        )
    return failed


def show_lines(info: RunInfo) -> list[str]:
    """``nni2ray show``: a heading, the end-of-run summary, then the failed trials."""
    lines = [f"{info.name} ({info.experiment_id}): {info.status}"]
    lines += summary_lines(info.records, info.best(), info.mode, info.elapsed_s, info.folder)
    failed = failed_trials(info)
    if failed:
        lines.append(f"Failed trials ({len(failed)}):")
        for item in failed:
            reason = item["stderrLastLine"] or item["endReason"] or f"exit code {item['exitCode']}"
            lines.append(f"  {item['trialJobId']}  {reason}")
            if item["stderr"]:
                lines.append(f"  {' ' * len(item['trialJobId'])}  {item['stderr']}")
    return lines


def show_json(info: RunInfo) -> dict[str, Any]:
    return dict(
        list_entry(info),
        elapsed=info.elapsed_s,
        metric=info.metric,
        mode=info.mode,
        bestTrials=[_best_entry(r) for r in info.best()[:_SHOWN_BEST]],
        failedTrials=failed_trials(info),
    )


def _best_entry(record: TrialRecord) -> dict[str, Any]:
    return {"trialJobId": record.trial_id, "value": record.final, "parameter": record.parameters}


def list_entry(info: RunInfo) -> dict[str, Any]:
    """One run for ``nni2ray list --json``."""
    best = info.best()
    return {
        "experimentId": info.experiment_id,
        "name": info.name,
        "status": info.status,
        "imported": info.imported,
        "trials": len(info.records),
        "counts": {s: n for s, n in info.counts().items() if n},
        "best": _best_entry(best[0]) if best else None,
        "startTime": info.start_time,
        "folder": str(info.folder),
    }


def list_lines(runs: list[RunInfo]) -> list[str]:
    """``nni2ray list``: one aligned row per run."""
    header = ("ID", "NAME", "STATUS", "TRIALS", "BEST", "STARTED", "FOLDER")
    rows = [header]
    for info in runs:
        best = info.best()
        rows.append(
            (
                info.experiment_id,
                info.name,
                info.status.lower(),
                _short_counts(info),
                f"{best[0].final_scalar:.6g}" if best else "-",
                _when(info.start_time),
                str(info.folder),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]


def _short_counts(info: RunInfo) -> str:
    """``8: 5 ok 1 run 1 fail 1 stop``: trials by state (stop: early-stopped), zero counts
    left out."""
    short: dict[str, str] = {
        TrialStatus.SUCCEEDED: "ok",
        TrialStatus.RUNNING: "run",
        TrialStatus.FAILED: "fail",
        TrialStatus.EARLY_STOPPED: "stop",
        TrialStatus.USER_CANCELED: "cancel",
    }
    parts = [
        f"{n} {short.get(s, s.lower().replace('_', '-'))}" for s, n in info.counts().items() if n
    ]
    return f"{len(info.records)}" + (f": {' '.join(parts)}" if parts else "")


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))
