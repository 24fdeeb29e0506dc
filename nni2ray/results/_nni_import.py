"""Write an NNI history as an nni2ray output folder: the same records and exports as a run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from nni2ray.errors import HistoryError
from nni2ray.results._folder import RunStatus, inside_output
from nni2ray.results._nni_history import NniHistory, NniTrial
from nni2ray.results._prior import is_safe_id
from nni2ray.results._records import TrialRecord, append_metric, write_exports, write_json
from nni2ray.secrets import redact
from nni2ray.trials import write_parameter_file


def to_record(trial: NniTrial) -> TrialRecord:
    """The trial as nni2ray records its own trials (``trial.json``, export rows)."""
    return TrialRecord(
        trial_id=trial.trial_id,
        sequence=trial.sequence,
        parameters=trial.parameters,
        status=trial.status,
        start_time=trial.start_time if trial.start_time is not None else 0.0,
        end_time=trial.end_time,
        metrics=[dict(m) for m in trial.metrics],
        end_reason="imported from NNI",
    )


def write_trial(output: Path, record: TrialRecord, parameter_id: Any = None) -> None:
    """``trials/<id>/``: ``trial.json``, ``metrics.jsonl`` and ``parameter.cfg``."""
    if not is_safe_id(record.trial_id):
        raise HistoryError(f"trial id {record.trial_id[:40]!r} cannot be used as a folder name")
    trial_dir = inside_output(output, output / "trials" / record.trial_id)
    trial_dir.mkdir(parents=True, exist_ok=True)
    for row in record.metrics:
        append_metric(trial_dir, row)
    parameter_id = parameter_id if parameter_id is not None else record.sequence
    write_parameter_file(trial_dir, parameter_id, record.parameters)
    write_json(trial_dir / "trial.json", record.to_record_json())


def write_import(history: NniHistory, output: Path) -> list[TrialRecord]:
    """Write every trial, whatever its status, with ``export.json``/``export.csv`` and an
    ``experiment.json`` holding NNI's config with secrets redacted. ``output`` must be a
    prepared (empty, writable) folder."""
    records = []
    for trial in history.trials:
        record = to_record(trial)
        write_trial(output, record, trial.parameter_id)
        records.append(record)
    write_exports(output, records)
    write_json(output / "experiment.json", import_meta(history))
    return records


def import_meta(history: NniHistory) -> dict[str, Any]:
    """``experiment.json`` of an import: where it came from and NNI's (redacted) config."""
    return {
        "experimentId": history.experiment_id,
        "importedFrom": str(history.database),
        "importTime": time.time(),
        "config": redact(history.config),
        "startTime": history.start_time,
        "endTime": history.end_time,
        "nextSequence": history.next_sequence,
        "status": RunStatus.IMPORTED,
    }
