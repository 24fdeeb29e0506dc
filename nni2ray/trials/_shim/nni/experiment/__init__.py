"""nni2ray's stand-in for ``nni.experiment``: NNI's Python experiment API over nni2ray.

Standard library only. A launcher script builds its config exactly as under NNI; ``start()``
hands it to the ``nni2ray run`` process that started the script, which runs it on Ray Tune
and writes the usual run folder. The query methods (``get_status``, ``export_data``, ...)
read that folder's live records.
"""

from __future__ import annotations

import atexit
import enum
import json
import os
import random
import re
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _wire
from ._channel import channel
from .config import (
    AlgorithmConfig,
    CustomAlgorithmConfig,
    ExperimentConfig,
    LocalConfig,
    RemoteConfig,
    RemoteMachineConfig,
    TrainingServiceConfig,
)

__all__ = [
    "AlgorithmConfig",
    "CustomAlgorithmConfig",
    "Experiment",
    "ExperimentConfig",
    "LocalConfig",
    "RemoteConfig",
    "RemoteMachineConfig",
    "RunMode",
    "TrainingServiceConfig",
    "TrialHyperParameters",
    "TrialJob",
    "TrialMetricData",
    "TrialResult",
]


class RunMode(enum.Enum):
    Background = "background"
    Foreground = "foreground"
    Detach = "detach"


@dataclass
class TrialResult:
    parameter: Any
    value: Any
    trialJobId: str  # noqa: N815


@dataclass
class TrialMetricData:
    timestamp: int
    trialJobId: str  # noqa: N815
    parameterId: str  # noqa: N815
    type: str
    sequence: int
    data: Any


@dataclass
class TrialHyperParameters:
    parameter_id: int | None
    parameter_source: str
    parameters: Any
    parameter_index: int


@dataclass
class TrialJob:
    trialJobId: str  # noqa: N815
    status: str
    hyperParameters: list[TrialHyperParameters] = field(default_factory=list)  # noqa: N815
    logPath: str | None = None  # noqa: N815
    startTime: int | None = None  # noqa: N815
    endTime: int | None = None  # noqa: N815
    finalMetricData: list[Any] | None = None  # noqa: N815
    stderrPath: str | None = None  # noqa: N815
    sequenceId: int | None = None  # noqa: N815
    message: str | None = None


_ID = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")
_STATUS = {
    "RUNNING": "RUNNING",
    "DONE": "DONE",
    "STOPPED": "STOPPED",
    "INTERRUPTED": "STOPPED",
    "ERROR": "ERROR",
}

#: NNI tuner classes that are nni2ray built-ins (NNI 2.0 passed a tuner instance).
_BUILTIN_TUNERS = {
    "TpeTuner": "TPE",
    "RandomTuner": "Random",
    "GridSearchTuner": "GridSearch",
    "EvolutionTuner": "Evolution",
    "AnnealTuner": "Anneal",
    "SMACTuner": "SMAC",
    "BatchTuner": "BatchTuner",
    "GPTuner": "GPTuner",
    "MetisTuner": "MetisTuner",
    "PBTTuner": "PBTTuner",
    "DNGOTuner": "DNGOTuner",
}


def _warn(text: str) -> None:
    print(f"nni2ray: warning: {text}", file=sys.stderr, flush=True)


class Experiment:
    """``Experiment('local')``, ``Experiment(config)`` or, as in NNI 2.0,
    ``Experiment(tuner_instance, 'local' | config)``."""

    def __init__(
        self,
        config_or_platform: Any = None,
        *args: Any,
        id: str | None = None,  # noqa: A002
        training_service: Any = None,
    ) -> None:
        tuner = None
        if args:  # NNI 2.0: Experiment(tuner, 'local') or Experiment(tuner, config)
            tuner, config_or_platform = config_or_platform, args[0]
        elif config_or_platform is not None and not isinstance(
            config_or_platform, (str, list, ExperimentConfig)
        ):
            tuner, config_or_platform = config_or_platform, training_service
        elif config_or_platform is None and training_service is not None:
            config_or_platform = training_service
        if isinstance(config_or_platform, ExperimentConfig):
            self.config: ExperimentConfig | None = config_or_platform
        elif config_or_platform is None:
            self.config = None
        else:
            self.config = ExperimentConfig(config_or_platform)
        if id is not None and not _ID.match(id):
            raise ValueError(f"Invalid experiment ID: {id}")
        self.id = id or "".join(random.sample(string.ascii_lowercase + string.digits, 8))
        self.port: int | None = None
        self.url_prefix: str | None = None
        self._tuner = tuner
        self._output: Path | None = None
        self._started = False

    # -- start / run / stop -------------------------------------------------------------

    def start(self, port: int = 8080, debug: bool = False, run_mode: Any = None) -> None:
        """Hand the config to nni2ray, which starts running it on Ray Tune; returns at once."""
        if self.config is None:
            raise RuntimeError(
                "nni2ray: Experiment(None, id=...) loads a stopped NNI experiment; rerun an "
                "nni2ray run with `nni2ray run --resume` instead"
            )
        if self._started:
            raise RuntimeError("nni2ray: this experiment was already started")
        if self._tuner is not None:
            self.config.tuner = _tuner_config(self._tuner)
        self.port = port
        detach = run_mode is RunMode.Detach or getattr(run_mode, "value", run_mode) == "detach"
        pipe = channel()
        pipe.send(
            {
                "op": "start",
                "experiment": self.id,
                "config": self.config.json(),
                "base": os.getcwd(),
                "detach": bool(detach),
            }
        )
        reply = pipe.wait_for(self.id, ("started", "error"))
        if reply is None:
            raise RuntimeError("nni2ray: lost the connection to nni2ray")
        if reply["op"] == "error":
            raise RuntimeError(reply.get("message", "nni2ray could not start the experiment"))
        self._output = Path(reply["output"])
        self._started = True
        if not detach:
            atexit.register(self._stop_quietly)

    def run(
        self, port: int = 8080, wait_completion: bool = True, debug: bool = False
    ) -> bool | None:
        """Start, then wait until the experiment ends: True when DONE or STOPPED."""
        self.start(port, debug)
        if not wait_completion:
            return None
        try:
            ended = channel().wait_for(self.id, ("ended",))
        except KeyboardInterrupt:
            self.stop()
            return None
        status = ended.get("status") if ended else "ERROR"
        return status in ("DONE", "STOPPED")

    def stop(self) -> None:
        """Stop the experiment (running trials are ended) and wait until it has stopped."""
        if not self._started:
            return
        pipe = channel()
        if pipe.latest(self.id, "ended") is None:
            pipe.send({"op": "stop", "experiment": self.id})
            pipe.wait_for(self.id, ("ended",), timeout=300)

    def _stop_quietly(self) -> None:
        try:
            self.stop()
        except Exception:  # noqa: BLE001 - at interpreter exit
            pass

    def __enter__(self) -> Experiment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_or_resume(
        self, port: int = 8080, wait_completion: bool = True, debug: bool = False
    ) -> bool | None:
        return self.run(port, wait_completion, debug)

    def resume(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("nni2ray: resume an nni2ray run with `nni2ray run --resume` instead")

    def view(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("nni2ray: a run's results are in its folder (export.json, trials/)")

    @staticmethod
    def connect(port: int) -> Experiment:
        raise RuntimeError("nni2ray: Experiment.connect() has no nni2ray equivalent")

    # -- queries over the run folder ------------------------------------------------------

    def get_status(self) -> str:
        """``RUNNING`` until the run ends, then ``DONE``, ``STOPPED`` or ``ERROR``."""
        if not self._started:
            return "INITIALIZED"
        ended = channel().latest(self.id, "ended")
        if ended is not None:
            return str(ended.get("status"))
        meta = self._meta()
        return _STATUS.get(str(meta.get("status")), "RUNNING") if meta else "RUNNING"

    def export_data(self) -> list[TrialResult]:
        """Every SUCCEEDED trial with a final result."""
        return [
            TrialResult(record.get("parameter"), record.get("value"), record["trialJobId"])
            for record in self._records()
            if record.get("status") == "SUCCEEDED" and record.get("value") is not None
        ]

    def get_job_metrics(self, trial_job_id: str | None = None) -> dict[str, list[TrialMetricData]]:
        result: dict[str, list[TrialMetricData]] = {}
        for record in self._records(include_running=True):
            trial_id = record["trialJobId"]
            if trial_job_id is not None and trial_id != trial_job_id:
                continue
            rows = _metric_rows(self._trials_dir() / trial_id)
            result[trial_id] = [
                TrialMetricData(
                    timestamp=int(float(row.get("time") or 0) * 1000),
                    trialJobId=trial_id,
                    parameterId=str(record.get("sequence")),
                    type=str(row.get("type")),
                    sequence=int(row.get("sequence") or 0),
                    data=row.get("value"),
                )
                for row in rows
            ]
        return result

    def list_trial_jobs(self) -> list[TrialJob]:
        return [self._job(record) for record in self._records(include_running=True)]

    def get_trial_job(self, trial_job_id: str) -> TrialJob:
        for record in self._records(include_running=True):
            if record["trialJobId"] == trial_job_id:
                return self._job(record)
        raise KeyError(trial_job_id)

    def get_job_statistics(self) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for record in self._records(include_running=True):
            counts[record["status"]] = counts.get(record["status"], 0) + 1
        return [{"trialJobStatus": s, "trialJobNumber": n} for s, n in sorted(counts.items())]

    def get_experiment_profile(self) -> dict[str, Any]:
        meta = self._meta()
        start = meta.get("startTime")
        end = meta.get("endTime")
        records = self._records(include_running=True)
        profile: dict[str, Any] = {
            "id": self.id,
            "params": self.config.json() if self.config is not None else {},
            "logDir": str(self._output) if self._output else None,
            "execDuration": int((end or time.time()) - start) if start else 0,
            "nextSequenceId": max([r.get("sequence", -1) for r in records] + [-1]) + 1,
            "revision": 0,
        }
        if start:
            profile["startTime"] = int(start * 1000)
        if end:
            profile["endTime"] = int(end * 1000)
        return profile

    def get_experiment_metadata(self, exp_id: str | None = None) -> dict[str, Any]:
        return {"id": self.id, "status": self.get_status(), "logDir": str(self._output)}

    # -- updates: NNI changes the running experiment; nni2ray's run keeps its limits ------

    def _update(self, what: str, field_name: str, value: Any) -> None:
        if self.config is not None:
            setattr(self.config, field_name, value)
        if self._started:
            _warn(f"{what}({value!r}) is not applied to a running nni2ray experiment")

    def update_trial_concurrency(self, value: int) -> None:
        self._update("update_trial_concurrency", "trial_concurrency", value)

    def update_max_trial_number(self, value: int) -> None:
        self._update("update_max_trial_number", "max_trial_number", value)

    def update_max_experiment_duration(self, value: str) -> None:
        self._update("update_max_experiment_duration", "max_experiment_duration", value)

    def update_search_space(self, value: dict[str, Any]) -> None:
        self._update("update_search_space", "search_space", value)

    def kill_trial_job(self, trial_job_id: str) -> None:
        _warn(f"kill_trial_job({trial_job_id!r}) is not supported; the trial keeps running")

    # -- helpers -------------------------------------------------------------------------

    def _trials_dir(self) -> Path:
        if self._output is None:
            raise RuntimeError("nni2ray: the experiment has not been started")
        return self._output / "trials"

    def _meta(self) -> dict[str, Any]:
        if self._output is None:
            return {}
        data = _read_json(self._output / "experiment.json")
        return data if isinstance(data, dict) else {}

    def _records(self, include_running: bool = False) -> list[dict[str, Any]]:
        trials = self._trials_dir()
        if not trials.is_dir():
            return []
        records = []
        for folder in trials.iterdir():
            record = _read_json(folder / "trial.json")
            if isinstance(record, dict) and "trialJobId" in record:
                records.append(record)
            elif include_running and (folder / _wire.PARAMETER_FILE).is_file():
                parameter = _read_json(folder / _wire.PARAMETER_FILE) or {}
                records.append(
                    {
                        "trialJobId": folder.name,
                        "status": "RUNNING",
                        "sequence": parameter.get("parameter_id"),
                        "parameter": parameter.get("parameters"),
                    }
                )
        return sorted(records, key=lambda r: (r.get("sequence") or 0, r["trialJobId"]))

    def _job(self, record: dict[str, Any]) -> TrialJob:
        folder = self._trials_dir() / record["trialJobId"]
        final = record.get("value")
        return TrialJob(
            trialJobId=record["trialJobId"],
            status=record["status"],
            hyperParameters=[
                TrialHyperParameters(
                    record.get("sequence"), "algorithm", record.get("parameter"), 0
                )
            ],
            logPath=str(folder),
            startTime=int(record["startTime"] * 1000) if record.get("startTime") else None,
            endTime=int(record["endTime"] * 1000) if record.get("endTime") else None,
            finalMetricData=[{"data": json.dumps(final)}] if final is not None else None,
            stderrPath=str(folder / "stderr"),
            sequenceId=record.get("sequence"),
        )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _metric_rows(folder: Path) -> list[dict[str, Any]]:
    try:
        lines = (folder / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # a line being written
    return rows


def _tuner_config(tuner: Any) -> AlgorithmConfig | CustomAlgorithmConfig:
    """NNI 2.0's ``Experiment(tuner_instance, ...)``: the tuner as a config section."""
    cls = type(tuner)
    mode = getattr(tuner, "optimize_mode", None)
    mode = getattr(mode, "value", mode)
    class_args = {"optimize_mode": mode} if mode in ("maximize", "minimize") else {}
    name = _BUILTIN_TUNERS.get(cls.__name__)
    if cls.__name__ == "HyperoptTuner":
        name = {"tpe": "TPE", "random_search": "Random", "anneal": "Anneal"}.get(
            str(getattr(tuner, "algorithm_name", "tpe"))
        )
    if name is not None:
        return AlgorithmConfig(name=name, class_args=class_args)
    module = sys.modules.get(cls.__module__)
    source = getattr(module, "__file__", None)
    if cls.__module__ == "__main__" or source is None:
        raise RuntimeError(
            f"nni2ray: the tuner class {cls.__qualname__} is defined in the launcher script; "
            "move it to a module of its own so that nni2ray can create it"
        )
    _warn(
        f"the {cls.__qualname__} instance is created again by nni2ray from its class, "
        "without the arguments it was given"
    )
    return CustomAlgorithmConfig(
        class_name=f"{cls.__module__}.{cls.__qualname__}",
        code_directory=_module_root(source, cls.__module__),
        class_args={},
    )


def _module_root(source: str, module: str) -> str:
    root = Path(source).resolve().parent
    for _ in range(module.count(".")):
        root = root.parent
    return str(root)
