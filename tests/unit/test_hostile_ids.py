"""Hostile input, ids and paths read back from disk: nothing is written or moved outside."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from nni2ray.cli import main
from nni2ray.errors import OutputError
from nni2ray.results import (
    TrialRecord,
    inside_output,
    is_safe_id,
    load_prior,
    write_trial,
)
from tests.unit.test_nni_import import FakeTrial, build_nni_experiment


def _snapshot(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _run_folder(tmp_path: Path) -> Path:
    out = tmp_path / "box" / "run"
    (out / "trials").mkdir(parents=True)
    (out / "experiment.json").write_text(json.dumps({"experimentId": "abc", "status": "RUNNING"}))
    return out


def _trial(out: Path, folder: str, trial_id: str, status: str = "RUNNING") -> None:
    trial_dir = out / "trials" / folder
    trial_dir.mkdir()
    record = TrialRecord(trial_id, 0, {"x": 1}, status=status, end_time=None)
    (trial_dir / "trial.json").write_text(json.dumps(record.to_record_json()))


@pytest.mark.parametrize(
    "value",
    ["../../../x", "/etc/passwd", "..", ".hidden", "a/b", "a\\b", "ok\n", "x" * 129, "", 7, None],
)
def test_unsafe_ids_are_refused(value: object) -> None:
    assert not is_safe_id(value)


@pytest.mark.parametrize("value", ["AyZZQ", "trial_0001", "abc.2", "a-b", "x" * 128])
def test_safe_ids_pass(value: str) -> None:
    assert is_safe_id(value)


@pytest.mark.parametrize("crafted", ["../../../x", "/tmp/absolute-evil"])
def test_resume_refuses_a_crafted_trial_id_before_moving_anything(
    tmp_path: Path, crafted: str
) -> None:
    out = _run_folder(tmp_path)
    _trial(out, "good", "good", status="RUNNING")  # would be moved to abandoned/
    _trial(out, "zzz", crafted, status="SUCCEEDED")
    before = _snapshot(tmp_path)
    with pytest.raises(OutputError, match="cannot be used as a folder name"):
        load_prior(out)
    assert _snapshot(tmp_path) == before


def test_resume_refuses_an_unsafe_experiment_id(tmp_path: Path) -> None:
    out = _run_folder(tmp_path)
    (out / "experiment.json").write_text(json.dumps({"experimentId": "../../etc"}))
    with pytest.raises(OutputError, match="experimentId"):
        load_prior(out)


def test_a_symlinked_abandoned_folder_moves_nothing_outside(tmp_path: Path) -> None:
    out = _run_folder(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "abandoned")
    _trial(out, "t1", "t1", status="RUNNING")
    with pytest.raises(OutputError, match="leads outside the output folder"):
        load_prior(out)
    assert list(elsewhere.iterdir()) == []
    assert (out / "trials" / "t1" / "trial.json").is_file()


def test_a_symlinked_trial_folder_is_refused(tmp_path: Path) -> None:
    out = _run_folder(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "trials" / "t9")
    with pytest.raises(OutputError, match="leads outside"):
        load_prior(out)


def test_inside_output_resolves_symlinks(tmp_path: Path) -> None:
    out = _run_folder(tmp_path)
    assert inside_output(out, out / "trials" / "a") == out / "trials" / "a"
    with pytest.raises(OutputError):
        inside_output(out, out / "trials" / ".." / ".." / "x")
    os.symlink(tmp_path, out / "trials" / "up")
    with pytest.raises(OutputError):
        inside_output(out, out / "trials" / "up" / "x")


def test_write_trial_refuses_an_unsafe_id(tmp_path: Path) -> None:
    out = _run_folder(tmp_path)
    record = TrialRecord("../../owned", 0, {}, status="SUCCEEDED", end_time=time.time())
    before = _snapshot(tmp_path)
    with pytest.raises(Exception, match="folder name"):
        write_trial(out, record)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("crafted", ["../../../x", "/tmp/x", "a/b"])
def test_import_refuses_a_crafted_database_trial_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], crafted: str
) -> None:
    folder = build_nni_experiment(tmp_path / "e", [FakeTrial(crafted, 0, 0, final=0.5)])
    out = tmp_path / "out"
    before = _snapshot(tmp_path)
    assert main(["import", str(folder), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "folder name" in err
    assert _snapshot(tmp_path) == before
