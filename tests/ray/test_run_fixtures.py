"""`nni2ray run` on the bundled NNI experiment folders, with real Ray and real trials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ray.conftest import FIXTURES, run_folder

pytestmark = pytest.mark.usefixtures("ray_session")


def _export(output: Path) -> list[dict]:
    return json.loads((output / "export.json").read_text())


def test_torch_asha_stops_weak_trials_and_best_runs_every_epoch(tmp_path: Path) -> None:
    summary = run_folder(FIXTURES / "torch_digits_asha", tmp_path / "out", seed=3)
    records = summary.records
    assert len(records) == 8
    epochs = 8
    stopped = [r for r in records if r.status == "EARLY_STOPPED"]
    assert stopped, "ASHA stopped no trial"
    assert all(len(r.intermediate) < epochs for r in stopped)
    best = summary.best[0]
    assert best.status == "SUCCEEDED"
    assert len(best.intermediate) == epochs
    assert best.final_scalar == pytest.approx(best.intermediate[-1])
    # Every trial's logs are kept in its own folder.
    for record in records:
        trial_dir = tmp_path / "out" / "trials" / record.trial_id
        assert (trial_dir / "trial.stdout").exists()
        assert json.loads((trial_dir / "trial.json").read_text())["status"] == record.status


def test_v1_config_runs(tmp_path: Path) -> None:
    summary = run_folder(FIXTURES / "legacy_v1", tmp_path / "out", max_trials=2)
    assert [r.status for r in summary.records] == ["SUCCEEDED", "SUCCEEDED"]
    assert all(r.final_scalar is not None for r in summary.records)
    assert {e["trialJobId"] for e in _export(tmp_path / "out")} == {
        r.trial_id for r in summary.records
    }


def test_medianstop_assessor_config_runs(tmp_path: Path) -> None:
    summary = run_folder(FIXTURES / "medianstop_assessor", tmp_path / "out", max_trials=4)
    assert len(summary.records) == 4
    assert all(r.status in ("SUCCEEDED", "EARLY_STOPPED") for r in summary.records)
    assert any(len(r.intermediate) > 0 for r in summary.records)


def test_nested_search_space_reaches_trial_in_nni_shape(tmp_path: Path) -> None:
    summary = run_folder(FIXTURES / "nested_choice", tmp_path / "out", max_trials=3)
    assert len(summary.records) == 3
    for record in summary.records:
        optimizer = record.parameters["optimizer"]
        assert isinstance(optimizer, dict) and "_name" in optimizer
        assert record.status == "SUCCEEDED"
        # The trial saw exactly what nni2ray recorded for it.
        cfg = tmp_path / "out" / "trials" / record.trial_id / "parameter.cfg"
        assert json.loads(cfg.read_text())["parameters"] == record.parameters


def test_trial_reads_data_relative_to_code_directory(tmp_path: Path) -> None:
    summary = run_folder(FIXTURES / "data_files", tmp_path / "out", max_trials=2)
    assert [r.status for r in summary.records] == ["SUCCEEDED", "SUCCEEDED"]
    assert all(r.final_scalar is not None for r in summary.records)


def test_bash_trial_command(tmp_path: Path) -> None:
    summary = run_folder(FIXTURES / "bash_command", tmp_path / "out", max_trials=2)
    assert [r.status for r in summary.records] == ["SUCCEEDED", "SUCCEEDED"]
    assert all(r.final_scalar is not None for r in summary.records)
