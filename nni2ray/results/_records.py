"""Per-trial records and the nnictl-style exports, written by the driver as trials run."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nni2ray.trials import FINAL, PERIODICAL, TrialStatus, finite_scalar


@dataclass
class TrialRecord:
    """What nni2ray keeps of one trial; ``trial.json`` in the trial's folder."""

    trial_id: str
    sequence: int
    parameters: Any
    status: str = TrialStatus.RUNNING
    start_time: float = field(default_factory=time.time)
    end_time: float | None = None
    metrics: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int | None = None
    end_reason: str | None = None
    protocol_errors: list[str] = field(default_factory=list)
    retries: int = 0
    #: Final results reported after the first one, which NNI (and nni2ray) ignore.
    ignored_finals: list[Any] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialRecord:
        """Read back a ``trial.json`` written by :meth:`to_json` (``--resume``).

        Raises:
            ValueError: the data is not a trial record.
        """
        trial_id = data.get("trialJobId")
        sequence = data.get("sequence")
        if not isinstance(trial_id, str) or not isinstance(sequence, int):
            raise ValueError("trialJobId and sequence are required")
        metrics = data.get("metrics")
        if not isinstance(metrics, list):  # older records: rebuild the rows from the values
            metrics = _rows_from_values(data)
        return cls(
            trial_id=trial_id,
            sequence=sequence,
            parameters=data.get("parameter"),
            status=str(data.get("status") or TrialStatus.RUNNING),
            start_time=_number(data.get("startTime"), time.time()),
            end_time=_number(data.get("endTime"), None),
            metrics=[
                dict(m, value=from_json_safe(m.get("value")))
                for m in metrics
                if isinstance(m, dict)
            ],
            exit_code=data.get("exitCode") if isinstance(data.get("exitCode"), int) else None,
            end_reason=data.get("endReason") if isinstance(data.get("endReason"), str) else None,
            protocol_errors=[str(e) for e in data.get("protocolErrors") or []],
            retries=retries if isinstance(retries := data.get("retries"), int) else 0,
            ignored_finals=[from_json_safe(v) for v in data.get("ignoredFinals") or []],
        )

    @property
    def final(self) -> Any:
        """The first final result reported: NNI ignores later ones (see ignored_finals)."""
        finals = [m["value"] for m in self.metrics if m["type"] == FINAL]
        return finals[0] if finals else None

    @property
    def final_scalar(self) -> float | None:
        return finite_scalar(self.final)

    @property
    def intermediate(self) -> list[Any]:
        return [m["value"] for m in self.metrics if m["type"] != FINAL]

    def to_json(self) -> dict[str, Any]:
        return {
            "trialJobId": self.trial_id,
            "sequence": self.sequence,
            "status": self.status,
            "parameter": self.parameters,
            "value": self.final,
            # As `nnictl experiment export --intermediate`: every metric row in the order
            # it was reported, final rows included.
            "intermediate": [m["value"] for m in self.metrics],
            "startTime": self.start_time,
            "endTime": self.end_time,
            "exitCode": self.exit_code,
            "endReason": self.end_reason,
            "protocolErrors": self.protocol_errors,
            "retries": self.retries,
            "ignoredFinals": self.ignored_finals,
        }

    def to_record_json(self) -> dict[str, Any]:
        """``trial.json``: :meth:`to_json` plus the typed metric rows, so a resume can
        rebuild the record exactly."""
        return dict(self.to_json(), metrics=self.metrics)


def _number(value: Any, default: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return value


def _rows_from_values(data: dict[str, Any]) -> list[dict[str, Any]]:
    values = list(data.get("intermediate") or [])
    rows = [{"type": PERIODICAL, "sequence": i, "value": v} for i, v in enumerate(values)]
    if rows and data.get("value") is not None and values[-1] == data.get("value"):
        rows[-1] = {"type": FINAL, "sequence": 0, "value": values[-1]}
    return rows


#: How numbers JSON cannot hold are written in nni2ray's JSON files (``export.json``,
#: ``trial.json``, ``metrics.jsonl``, ``experiment.json``): as these strings, so every file
#: stays valid JSON for any reader. Integers of any size are written exactly.
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def json_safe(value: Any) -> Any:
    """``value`` with NaN and the infinities replaced by ``"NaN"``, ``"Infinity"`` and
    ``"-Infinity"`` (see :data:`NON_FINITE`)."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def from_json_safe(value: Any) -> Any:
    """The inverse of :func:`json_safe`, for metric values read back (``--resume``)."""
    if isinstance(value, str):
        return NON_FINITE.get(value, value)
    if isinstance(value, dict):
        return {key: from_json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_json_safe(item) for item in value]
    return value


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a reader never sees half a file); NaN/inf as strings."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(json_safe(data), indent=2, allow_nan=False, default=str))
        os.replace(tmp, path)
    except OSError:
        # A full disk: the earlier file stays whole, and the half-written copy goes.
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def append_metric(trial_dir: Path, row: dict[str, Any]) -> None:
    with open(trial_dir / "metrics.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(json_safe(row), allow_nan=False, default=str) + "\n")


def status_counts(records: list[TrialRecord]) -> str:
    """How many trials ended in each status: ``3 succeeded, 1 early-stopped`` (or ``none``)."""
    counts = Counter(record.status for record in records)
    text = ", ".join(f"{n} {s.lower().replace('_', '-')}" for s, n in sorted(counts.items()))
    return text or "none"


def rank(records: list[TrialRecord], mode: str) -> list[TrialRecord]:
    """Trials with a finite final result, best first."""
    scored = [r for r in records if r.final_scalar is not None]
    return sorted(scored, key=lambda r: r.final_scalar or 0.0, reverse=(mode == "max"))


def write_exports(output: Path, records: list[TrialRecord]) -> None:
    """Write ``export.json`` and ``export.csv`` for every trial, whatever its status."""
    ordered = sorted(records, key=lambda r: (r.sequence, r.trial_id))
    write_json(output / "export.json", [r.to_json() for r in ordered])
    _write_csv(output / "export.csv", ordered)


def _write_csv(path: Path, records: list[TrialRecord]) -> None:
    # Dicts as ordered sets: columns in order of first appearance, linear in trials x keys.
    param_keys: dict[str, None] = {}
    metric_keys: dict[str, None] = {}
    rows = []
    for record in records:
        params = (
            record.parameters
            if isinstance(record.parameters, dict)
            else {"parameters": record.parameters}
        )
        final = record.final
        metrics = final if isinstance(final, dict) else {"reward": final}
        _extend(param_keys, params)
        _extend(metric_keys, metrics)
        rows.append((record, params, metrics))
    header = ["trialJobId", "sequence", "status", *param_keys, *metric_keys]
    tmp = path.with_name(path.name + ".tmp")  # atomic, as write_json: never half a file
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for record, params, metrics in rows:
                row = [record.trial_id, record.sequence, record.status]
                row += [_cell(params.get(k)) for k in param_keys]
                row += [_cell(metrics.get(k)) for k in metric_keys]
                writer.writerow(row)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _extend(keys: dict[str, None], mapping: dict[str, Any]) -> None:
    keys.update(dict.fromkeys(mapping))


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, allow_nan=True)
    return value
