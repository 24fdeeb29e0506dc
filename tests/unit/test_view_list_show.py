"""``nni2ray list`` and ``show`` on run folders written here by hand, and on an NNI import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nni2ray.cli import main
from nni2ray.results import TrialRecord, write_exports, write_json
from nni2ray.view import flatten_parameters, load_run, page_data
from tests.unit.test_nni_import import TRIALS, build_nni_experiment

T0 = 1_796_000_000.0


def write_run(folder: Path, records: list[TrialRecord], *, status: str = "DONE") -> Path:
    """A run folder as `nni2ray run` leaves it: experiment.json, trials/<id>/, exports."""
    (folder / "trials").mkdir(parents=True)
    meta = {
        "experimentId": "abcd1234",
        "plan": {"name": "demo", "metric": "default", "mode": "max", "num_samples": 5},
        "startTime": T0,
        "status": status,
    }
    if status != "RUNNING":
        meta["endTime"] = T0 + 42.0
    write_json(folder / "experiment.json", meta)
    for record in records:
        trial_dir = folder / "trials" / record.trial_id
        trial_dir.mkdir()
        cfg = {"parameter_id": record.sequence, "parameters": record.parameters}
        (trial_dir / "parameter.cfg").write_text(json.dumps(cfg))
        (trial_dir / "metrics.jsonl").write_text(
            "".join(json.dumps(m) + "\n" for m in record.metrics)
        )
        if record.status != "RUNNING":
            write_json(trial_dir / "trial.json", record.to_record_json())
    write_exports(folder, [r for r in records if r.status != "RUNNING"])
    return folder


def record(trial_id: str, sequence: int, status: str, final: Any, **params: Any) -> TrialRecord:
    metrics = [{"type": "PERIODICAL", "sequence": 0, "value": 0.1, "time": T0 + sequence}]
    if final is not None:
        metrics.append({"type": "FINAL", "sequence": 0, "value": final, "time": T0 + 10 + sequence})
    return TrialRecord(
        trial_id, sequence, params, status, T0 + sequence, T0 + 10 + sequence, metrics
    )


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    records = [
        record("aaaa0001", 0, "SUCCEEDED", 0.5, x=1, opt={"_name": "adam", "lr": 0.01}),
        record("aaaa0002", 1, "FAILED", None, x=2, opt={"_name": "none"}),
        record("aaaa0003", 2, "SUCCEEDED", {"default": 0.9, "loss": 0.1}, x=3),
        record("aaaa0004", 3, "RUNNING", None, x=4),
    ]
    folder = write_run(tmp_path / "results" / "demo-1", records, status="RUNNING")
    (folder / "trials" / "aaaa0002" / "trial.stderr").write_text(
        "Traceback (most recent call last):\n  ...\nValueError: x must be odd\n\n"
    )
    return folder


def test_show_prints_the_summary_and_failed_trials_with_their_stderr(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(run_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "demo (abcd1234): RUNNING"
    assert out[1].startswith("4 trials in ")
    assert out[1].endswith("(1 failed, 1 running, 2 succeeded)")
    assert out[3].split()[:2] == ["aaaa0003", "0.9"]  # best first
    assert out[4].split()[:2] == ["aaaa0001", "0.5"]
    assert "Failed trials (1):" in out
    failed = out.index("Failed trials (1):")
    assert out[failed + 1].split() == ["aaaa0002", "ValueError:", "x", "must", "be", "odd"]
    assert out[failed + 2].strip() == str(run_dir / "trials" / "aaaa0002" / "trial.stderr")


def test_show_json_matches_the_records(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(run_dir), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["counts"] == {"SUCCEEDED": 2, "RUNNING": 1, "FAILED": 1}
    assert shown["best"]["trialJobId"] == "aaaa0003"
    assert shown["best"]["value"] == {"default": 0.9, "loss": 0.1}
    assert [t["trialJobId"] for t in shown["bestTrials"]] == ["aaaa0003", "aaaa0001"]
    assert shown["failedTrials"][0]["stderrLastLine"] == "ValueError: x must be odd"
    assert shown["folder"] == str(run_dir.resolve())


def test_list_shows_each_run_and_import(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nni = build_nni_experiment(tmp_path / "nni-experiments", TRIALS)
    base = run_dir.parent
    assert main(["import", str(nni), "--output", str(base / "nni-import")]) == 0
    capsys.readouterr()
    assert main(["list", str(base)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "STATUS", "TRIALS", "BEST", "STARTED", "FOLDER"]
    assert len(lines) == 3
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["abcd1234"].split()[1:3] == ["demo", "running"]
    assert "4: 2 ok 1 run 1 fail" in rows["abcd1234"]
    assert rows["abcd1234"].endswith(str(run_dir.resolve()))
    assert rows["9evs01xi"].split()[1:3] == ["nni-9evs01xi", "imported"]
    assert main(["list", str(base), "--json"]) == 0
    listed = {r["experimentId"]: r for r in json.loads(capsys.readouterr().out)}
    imported = listed["9evs01xi"]
    exported = json.loads((base / "nni-import" / "export.json").read_text())
    assert imported["trials"] == len(exported)
    assert imported["imported"] is True
    best = max((e for e in exported if isinstance(e["value"], float)), key=lambda e: e["value"])
    assert imported["best"]["trialJobId"] == best["trialJobId"]
    assert imported["counts"] == {"SUCCEEDED": 3, "RUNNING": 1, "FAILED": 1, "USER_CANCELED": 1}


def test_list_and_show_refuse_a_folder_that_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nni2ray: error: ") and "no experiment.json" in err
    assert main(["list", str(tmp_path / "missing")]) == 1
    assert "no such folder" in capsys.readouterr().err
    assert main(["list", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("No runs in ")


def test_a_running_trial_is_read_from_its_folder(run_dir: Path) -> None:
    info = load_run(run_dir)
    running = [r for r in info.records if r.status == "RUNNING"]
    assert [r.trial_id for r in running] == ["aaaa0004"]
    assert running[0].parameters == {"x": 4}
    assert running[0].intermediate == [0.1]


def test_nested_choices_flatten_as_nni_shows_them() -> None:
    params = {"opt": {"_name": "sgd", "lr": 0.1, "momentum": 0.9}, "bs": 32}
    assert flatten_parameters(params) == {
        "opt": "sgd",
        "opt/lr": 0.1,
        "opt/momentum": 0.9,
        "bs": 32,
    }
    assert flatten_parameters({"opt": {"_name": "none"}}) == {"opt": "none"}
    assert flatten_parameters([1, 2]) == {"parameters": [1, 2]}


def test_page_data_of_an_import_matches_its_export(tmp_path: Path) -> None:
    nni = build_nni_experiment(tmp_path / "nni-experiments", TRIALS)
    out = tmp_path / "imp"
    assert main(["import", str(nni), "--output", str(out)]) == 0
    data = page_data(load_run(out))
    exported = json.loads((out / "export.json").read_text())
    assert [t["trialJobId"] for t in data["trials"]] == [e["trialJobId"] for e in exported]
    for trial, row in zip(data["trials"], exported, strict=True):
        assert trial["status"] == row["status"]
        assert trial["parameter"] == row["parameter"]
    assert data["experiment"]["maxTrials"] == 10
    assert data["experiment"]["searcher"] == "TPE"
    nan_trial = next(t for t in data["trials"] if t["trialJobId"] == "Cncld")
    assert nan_trial["intermediate"] == ["NaN"]  # JSON-safe for the page
    assert [p["value"] for p in data["bestSoFar"]] == [0.3, 0.7, 0.9]
