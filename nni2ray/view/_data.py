"""The data behind the web view: one JSON object built from the run folder."""

from __future__ import annotations

import math
from typing import Any

from nni2ray.results import TrialRecord
from nni2ray.trials import FINAL, finite_scalar
from nni2ray.view._run import RunInfo, tail

#: Lines of a trial's stdout/stderr the page shows.
TAIL_LINES = 30


def flatten_parameters(parameters: Any) -> dict[str, Any]:
    """Parameters as columns, nested choices as NNI shows them: ``optimizer`` = ``adam``
    and ``optimizer/lr``, only the branch taken."""
    if not isinstance(parameters, dict):
        return {} if parameters is None else {"parameters": parameters}
    flat: dict[str, Any] = {}
    _flatten(parameters, "", flat)
    return flat


def _flatten(mapping: dict[str, Any], prefix: str, flat: dict[str, Any]) -> None:
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if "_name" in value:
                flat[name] = value["_name"]
            _flatten({k: v for k, v in value.items() if k != "_name"}, f"{name}/", flat)
        else:
            flat[name] = value


def metric_columns(final: Any, metric: str) -> dict[str, Any]:
    """A final result as columns: a dict's keys, or the number under the tuned metric."""
    if isinstance(final, dict):
        return dict(final)
    return {} if final is None else {metric: final}


def _json_safe(value: Any) -> Any:
    """NaN and infinities as the strings JavaScript's ``Number()`` reads back."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def trial_data(info: RunInfo, record: TrialRecord) -> dict[str, Any]:
    """One trial: its export row plus the columns, curve, times, folder and log tails."""
    trial_dir = info.trial_dir(record)
    end = record.end_time if record.end_time is not None else info.read_at
    curve = [finite_scalar(m["value"]) for m in record.metrics if m["type"] != FINAL]
    return dict(
        record.to_record_json(),
        params=flatten_parameters(record.parameters),
        metricColumns=metric_columns(record.final, info.metric),
        finalScalar=record.final_scalar,
        curve=curve,
        duration=max(end - record.start_time, 0.0) if record.start_time else None,
        folder=str(trial_dir),
        stdoutTail=tail(trial_dir / "trial.stdout", TAIL_LINES),
        stderrTail=tail(trial_dir / "trial.stderr", TAIL_LINES),
    )


def best_so_far(info: RunInfo) -> list[dict[str, Any]]:
    """Each final result that improved on all before it, in the order they were reported."""
    finished = [r for r in info.records if r.final_scalar is not None]
    finished.sort(key=lambda r: _final_time(r))
    points: list[dict[str, Any]] = []
    best: float | None = None
    for record in finished:
        value = record.final_scalar
        assert value is not None
        if best is None or (value > best if info.mode == "max" else value < best):
            best = value
            points.append({"time": _final_time(record), "value": value, "trial": record.trial_id})
    return points


def _final_time(record: TrialRecord) -> float:
    for row in reversed(record.metrics):
        if row.get("type") == FINAL and isinstance(row.get("time"), (int, float)):
            return float(row["time"])
    return float(record.end_time or record.start_time or 0.0)


def page_data(info: RunInfo) -> dict[str, Any]:
    """Everything the page draws, as JSON-safe data."""
    best = info.best()
    data = {
        "experiment": {
            "id": info.experiment_id,
            "name": info.name,
            "status": info.status,
            "imported": info.imported,
            "metric": info.metric,
            "mode": info.mode,
            "startTime": info.start_time,
            "endTime": info.end_time,
            "readAt": info.read_at,
            "elapsed": info.elapsed_s,
            "maxTrials": info.max_trials,
            "maxDuration": info.max_duration_s,
            "searcher": _algorithm(info, "searcher", "tuner"),
            "scheduler": _algorithm(info, "scheduler", "assessor"),
            "folder": str(info.folder),
        },
        "counts": info.counts(),
        "best": {"trial": best[0].trial_id, "value": best[0].final_scalar} if best else None,
        "bestSoFar": best_so_far(info),
        "trials": [trial_data(info, r) for r in info.records],
    }
    return dict(_json_safe(data))


def _algorithm(info: RunInfo, plan_key: str, nni_key: str) -> str | None:
    entry = info.plan.get(plan_key)
    if isinstance(entry, dict):
        kind = entry.get("kind")
        nni = entry.get("nni")
        return f"{kind} (NNI {nni})" if nni else (str(kind) if kind else None)
    nni_entry = info.config.get(nni_key)
    if isinstance(nni_entry, dict) and nni_entry.get("name"):
        return str(nni_entry["name"])
    return None
