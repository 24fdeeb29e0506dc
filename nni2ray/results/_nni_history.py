"""What nni2ray keeps of an NNI experiment's history: its config and every trial."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nni2ray.trials import FINAL, TrialStatus


@dataclass
class NniTrial:
    """One NNI trial, rebuilt from its TrialJobEvent and MetricData rows.

    Attributes:
        trial_id: NNI's trial job id (checked safe as a folder name).
        sequence: NNI's trial sequence number (-1 if NNI recorded none).
        status: the replayed status (SUCCEEDED, FAILED, RUNNING, ...).
        parameter_id: the id of the parameters the trial really used: the ``parameterId``
            of its metrics when it reported any, else the one recorded at submission.
        parameters: the parameters of ``parameter_id``.
        recorded_parameter_id: the id NNI recorded for the trial at submission; differs
            from ``parameter_id`` when NNI 3.0 local handed it another set.
        metrics: ``{"type", "sequence", "value", "time"}`` rows in report order; only the
            first FINAL row is kept, as NNI does.
        start_time, end_time: seconds since the epoch, or None.
        log_path: NNI's ``logPath`` for the trial, or None.
    """

    trial_id: str
    sequence: int = -1
    status: str = TrialStatus.UNKNOWN
    parameter_id: str | None = None
    parameters: Any = None
    recorded_parameter_id: str | None = None
    metrics: list[dict[str, Any]] = field(default_factory=list)
    start_time: float | None = None
    end_time: float | None = None
    log_path: str | None = None

    @property
    def final(self) -> Any:
        finals = [m["value"] for m in self.metrics if m["type"] == FINAL]
        return finals[0] if finals else None


@dataclass
class NniHistory:
    """An NNI experiment as its database recorded it.

    Attributes:
        database: the ``nni.sqlite`` file read.
        experiment_id: NNI's experiment id.
        config: the experiment config of the latest profile revision (raw JSON).
        trials: every trial, in sequence order.
        next_sequence: NNI's ``nextSequenceId`` (trials created so far).
        start_time, end_time: seconds since the epoch, or None.
        dropped_finals: FINAL rows after a trial's first one, which NNI ignores too.
    """

    database: Path
    experiment_id: str
    config: dict[str, Any]
    trials: list[NniTrial]
    next_sequence: int = 0
    start_time: float | None = None
    end_time: float | None = None
    dropped_finals: int = 0

    @property
    def search_space(self) -> Any:
        return self.config.get("searchSpace")

    @property
    def reassigned(self) -> list[NniTrial]:
        """Trials that used other parameters than NNI recorded for them (NNI 3.0 local)."""
        return [
            t
            for t in self.trials
            if t.recorded_parameter_id is not None
            and t.parameter_id is not None
            and t.parameter_id != t.recorded_parameter_id
        ]
