"""``nni2ray import``: NNI experiment folders built here with NNI 3.0's real sqlite schema."""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nni2ray.cli import main
from nni2ray.results import load_history

SCHEMA_3_0 = """
CREATE TABLE TrialJobEvent (timestamp integer, trialJobId text, event text, data text,
                            logPath text, sequenceId integer, message text, environmentId text);
CREATE TABLE MetricData (timestamp integer, trialJobId text, parameterId text, type text,
                         sequence integer, data text);
CREATE TABLE ExperimentProfile (params text, id text, execDuration integer, startTime integer,
                                endTime integer, logDir text, nextSequenceId integer,
                                revision integer);
CREATE INDEX TrialJobEvent_trialJobId ON TrialJobEvent(trialJobId);
CREATE INDEX TrialJobEvent_event ON TrialJobEvent(event);
CREATE INDEX MetricData_trialJobId ON MetricData(trialJobId);
CREATE INDEX MetricData_type ON MetricData(type);
CREATE INDEX ExperimentProfile_id ON ExperimentProfile(id);
"""

SPACE = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "k": {"_type": "choice", "_value": ["a", "b", "c"]},
}

T0 = 1_795_350_315_712


@dataclass
class FakeTrial:
    """One NNI trial to write: ``used`` is the parameter id it really ran with (3.0 local
    hands parameters to whichever trial asks first)."""

    trial_id: str
    sequence: int
    parameter_id: int
    status: str = "SUCCEEDED"
    intermediate: list[Any] = field(default_factory=list)
    final: Any = None
    used: int | None = None
    extra_finals: list[Any] = field(default_factory=list)


def params_of(parameter_id: int) -> dict[str, Any]:
    return {"x": round(0.1 * parameter_id + 0.05, 4), "k": "abc"[parameter_id % 3]}


def dump(value: Any) -> str:
    """MetricData.data: the nni.dump of the value, JSON-encoded once more."""
    return json.dumps(json.dumps(value))


def build_nni_experiment(
    root: Path,
    trials: list[FakeTrial],
    *,
    exp_id: str = "9evs01xi",
    space: dict[str, Any] | None = None,
    config_extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``<root>/<exp_id>/db/nni.sqlite`` as NNI 3.0 local mode writes it."""
    folder = root / exp_id
    (folder / "db").mkdir(parents=True)
    db = sqlite3.connect(folder / "db" / "nni.sqlite")
    db.executescript(SCHEMA_3_0)
    config = {
        "experimentName": None,
        "searchSpace": space or SPACE,
        "trialCommand": "python3 trial.py",
        "trialConcurrency": 2,
        "maxTrialNumber": 10,
        "tuner": {"name": "TPE", "classArgs": {"optimize_mode": "maximize"}},
        "trainingService": {"platform": "local"},
        **(config_extra or {}),
    }
    profile = "INSERT INTO ExperimentProfile VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    log_dir = str(folder)
    db.execute(profile, (json.dumps(config), exp_id, 0, T0, None, log_dir, 0, 1))
    db.execute(
        "INSERT INTO TrialJobEvent VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (T0, "", "IMPORT_DATA", "[]", None, None, None, None),
    )
    t = T0
    for trial in trials:
        t += 1000
        record = {
            "parameter_id": trial.parameter_id,
            "parameter_source": "algorithm",
            "parameters": params_of(trial.parameter_id),
            "parameter_index": 0,
        }
        log_path = f"{folder}/environments/local-env/trials/{trial.trial_id}"
        event = "INSERT INTO TrialJobEvent VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        row = (trial.trial_id, log_path, trial.sequence, None, "local-env")
        db.execute(event, (t, row[0], "RUNNING", json.dumps(record), *row[1:]))
        used = str(trial.used if trial.used is not None else trial.parameter_id)
        metric = "INSERT INTO MetricData VALUES (?, ?, ?, ?, ?, ?)"
        for i, value in enumerate(trial.intermediate):
            db.execute(metric, (t + 10 + i, trial.trial_id, used, "PERIODICAL", i, dump(value)))
        for value in ([trial.final] if trial.final is not None else []) + trial.extra_finals:
            db.execute(metric, (t + 100, trial.trial_id, used, "FINAL", 0, dump(value)))
        if trial.status == "USER_CANCELED":
            db.execute(event, (t + 150, row[0], "USER_TO_CANCEL", None, *row[1:]))
        if trial.status != "RUNNING":
            db.execute(event, (t + 200, row[0], trial.status, None, *row[1:]))
    db.execute(profile, (json.dumps(config), exp_id, 30, T0, t + 500, log_dir, len(trials), 2))
    db.commit()
    db.close()
    return folder


#: Five trials covering every case: two that swapped parameter sets (3.0 local), a failed
#: one with intermediates, a cancelled one, one still running, a dict metric, a NaN.
TRIALS = [
    FakeTrial("AyZZQ", 0, 0, intermediate=[0.1, 0.2], final=0.3, used=1),
    FakeTrial("wHAvA", 1, 1, final={"default": 0.7, "loss": 0.2}, used=0),
    FakeTrial("Fa1ld", 2, 2, status="FAILED", intermediate=[0.05]),
    FakeTrial("Cncld", 3, 3, status="USER_CANCELED", intermediate=[float("nan")]),
    FakeTrial("Runng", 4, 4, status="RUNNING"),
    FakeTrial("Twice", 5, 5, final=0.9, extra_finals=[0.1]),
]


@pytest.fixture
def nni_folder(tmp_path: Path) -> Path:
    return build_nni_experiment(tmp_path / "nni-experiments", TRIALS)


def test_history_joins_metrics_to_the_parameters_the_trial_used(nni_folder: Path) -> None:
    history = load_history(nni_folder)
    trials = {t.trial_id: t for t in history.trials}
    assert history.experiment_id == "9evs01xi"
    assert [t.trial_id for t in history.trials] == [t.trial_id for t in TRIALS]
    # AyZZQ was recorded with parameter 0 but reported metrics as parameter 1.
    assert trials["AyZZQ"].parameters == params_of(1)
    assert trials["AyZZQ"].recorded_parameter_id == "0"
    assert trials["wHAvA"].parameters == params_of(0)
    assert {t.trial_id for t in history.reassigned} == {"AyZZQ", "wHAvA"}
    assert trials["Fa1ld"].parameters == params_of(2)  # no swap: recorded set
    assert trials["Runng"].parameters == params_of(4)


def test_history_statuses_metrics_and_times(nni_folder: Path) -> None:
    trials = {t.trial_id: t for t in load_history(nni_folder).trials}
    assert {k: t.status for k, t in trials.items()} == {
        "AyZZQ": "SUCCEEDED",
        "wHAvA": "SUCCEEDED",
        "Fa1ld": "FAILED",
        "Cncld": "USER_CANCELED",
        "Runng": "RUNNING",
        "Twice": "SUCCEEDED",
    }
    assert [m["value"] for m in trials["AyZZQ"].metrics] == [0.1, 0.2, 0.3]
    assert [m["type"] for m in trials["AyZZQ"].metrics] == ["PERIODICAL"] * 2 + ["FINAL"]
    assert trials["wHAvA"].final == {"default": 0.7, "loss": 0.2}
    assert math.isnan(trials["Cncld"].metrics[0]["value"])
    assert trials["Twice"].final == 0.9  # NNI keeps the first final result
    assert trials["AyZZQ"].start_time == (T0 + 1000) / 1000
    assert trials["AyZZQ"].end_time == (T0 + 1200) / 1000
    assert trials["Runng"].end_time is None
    assert trials["AyZZQ"].log_path.endswith("local-env/trials/AyZZQ")


def test_import_cli_writes_exports_and_trial_records(
    nni_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["import", str(nni_folder), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Imported 6 trials (1 failed, 1 running, 3 succeeded, 1 user-canceled)" in printed
    assert "2 trial(s) ran with other parameters than NNI recorded" in printed
    exported = json.loads((out / "export.json").read_text())
    assert [e["trialJobId"] for e in exported] == [t.trial_id for t in TRIALS]
    first = exported[0]
    assert first["parameter"] == params_of(1)
    assert first["value"] == 0.3
    assert first["intermediate"] == [0.1, 0.2, 0.3]
    assert first["status"] == "SUCCEEDED"
    # Same keys as the export of `nni2ray run`.
    from nni2ray.results import TrialRecord

    assert set(first) == set(TrialRecord("t", 0, {}).to_json())
    header = (out / "export.csv").read_text().splitlines()[0].split(",")
    assert header[:5] == ["trialJobId", "sequence", "status", "x", "k"]
    for trial in TRIALS:
        record = json.loads((out / "trials" / trial.trial_id / "trial.json").read_text())
        assert record["trialJobId"] == trial.trial_id
        cfg = json.loads((out / "trials" / trial.trial_id / "parameter.cfg").read_text())
        assert cfg["parameters"] == record["parameter"]
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["experimentId"] == "9evs01xi" and meta["status"] == "IMPORTED"


def test_import_redacts_secrets(tmp_path: Path) -> None:
    remote = {
        "trainingService": {
            "platform": "remote",
            "machineList": [{"host": "10.0.0.1", "user": "bob", "password": "hunter2-pw"}],
        },
        "tuner": {"name": "TPE", "classArgs": {"api_key": "sk-secret-token"}},
    }
    folder = build_nni_experiment(tmp_path / "e", TRIALS[:1], config_extra=remote)
    out = tmp_path / "out"
    assert main(["import", str(folder), "--output", str(out)]) == 0
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "hunter2-pw" not in text and "sk-secret-token" not in text, path
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["config"]["trainingService"]["machineList"][0]["password"] == "***"
    assert meta["config"]["trainingService"]["machineList"][0]["host"] == "10.0.0.1"


def test_import_reads_a_2x_database_without_the_newer_columns(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    (folder / "db").mkdir(parents=True)
    db = sqlite3.connect(folder / "db" / "nni.sqlite")
    db.executescript(
        SCHEMA_3_0.replace(", message text, environmentId text", "").replace("CREATE INDEX", "-- ")
    )
    record = {"parameter_id": 0, "parameter_source": "algorithm", "parameters": {"x": 0.5}}
    db.execute(
        "INSERT INTO ExperimentProfile VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (json.dumps({"searchSpace": {}}), "OLDexp12", 1, T0, T0 + 9, str(folder), 1, 1),
    )
    rows = [
        (T0, "tr1", "WAITING", json.dumps(record), "file://localhost:/x/trials/tr1", 0),
        (T0 + 1, "tr1", "RUNNING", None, "file://localhost:/x/trials/tr1", 0),
        (T0 + 5, "tr1", "SUCCEEDED", None, "file://localhost:/x/trials/tr1", 0),
    ]
    db.executemany("INSERT INTO TrialJobEvent VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.execute(
        "INSERT INTO MetricData VALUES (?, ?, ?, ?, ?, ?)",
        (T0 + 4, "tr1", "0", "FINAL", 0, dump(2)),
    )
    db.commit()
    db.close()
    (trial,) = load_history(folder).trials
    assert (trial.status, trial.parameters, trial.final) == ("SUCCEEDED", {"x": 0.5}, 2)
    assert trial.start_time == (T0 + 1) / 1000


def test_import_refuses_a_non_empty_output(nni_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["import", str(nni_folder), "--output", str(out)]) == 1
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
