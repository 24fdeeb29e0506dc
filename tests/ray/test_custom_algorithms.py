"""`nni2ray run` with custom NNI tuners and assessors, loaded unchanged in the driver."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from nni2ray.cli import main
from tests.ray.conftest import FIXTURES, run_folder

COUNTING = FIXTURES / "custom_tuner_assessor"


@pytest.fixture(scope="module", autouse=True)
def ray_three_cpus() -> Iterator[None]:
    import ray

    # Three slots, so that trialConcurrency 3 really runs three trials at once.
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    tuner, assessor = tmp_path / "tuner.json", tmp_path / "assessor.json"
    monkeypatch.setenv("COUNTING_TUNER_RECORD", str(tuner))
    monkeypatch.setenv("THRESHOLD_ASSESSOR_RECORD", str(assessor))
    return tuner, assessor


def _export(output: Path) -> list[dict]:
    return sorted(json.loads((output / "export.json").read_text()), key=lambda e: e["sequence"])


def test_custom_tuner_and_assessor_records_match_golden_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tuner, assessor = _records(tmp_path, monkeypatch)
    out = tmp_path / "out"
    code = main(["run", str(COUNTING), "--output", str(out), "--concurrency", "3", "--quiet"])
    assert code == 0
    assert json.loads(tuner.read_text()) == json.loads(
        (COUNTING / "expected_tuner.json").read_text()
    )
    assert json.loads(assessor.read_text()) == json.loads(
        (COUNTING / "expected_assessor.json").read_text()
    )
    export = _export(out)
    assert [e["parameter"] for e in export] == [{"x": x} for x in range(1, 7)]
    assert [e["status"] for e in export] == ["SUCCEEDED", "EARLY_STOPPED"] * 3
    assert json.loads((out / "experiment.json").read_text())["status"] == "DONE"


def test_tuner_with_its_own_search_space_format(tmp_path: Path) -> None:
    summary = run_folder(FIXTURES / "custom_tuner", tmp_path / "out")
    candidates = json.loads((FIXTURES / "custom_tuner" / "search_space.json").read_text())
    # The tuner runs out after its 5 candidates, before maxTrialNumber (8).
    assert [e["parameter"] for e in _export(tmp_path / "out")] == candidates
    assert all(r.status == "SUCCEEDED" for r in summary.records)
    assert summary.best[0].parameters == {"x": 3, "label": "three"}


def _failing_copy(tmp_path: Path, arg: str) -> Path:
    folder = tmp_path / "exp"
    shutil.copytree(COUNTING, folder)
    config = folder / "config.yml"
    config.write_text(config.read_text().replace("count: 6", f"count: 6\n    {arg}: 2"))
    return folder


def test_tuner_raising_in_receive_trial_result_is_recorded_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _failing_copy(tmp_path, "fail_on_result")
    _records(tmp_path, monkeypatch)
    out = tmp_path / "out"
    code = main(["run", str(folder), "--output", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0
    exceptions = out / "algorithm_exceptions.txt"
    message = "ValueError: refusing the result of parameter set 2"
    warning = (
        f"nni2ray: warning: the custom tuner CountingTuner.receive_trial_result raised "
        f"{message}; the run goes on (this traceback and any later one: {exceptions})"
    )
    assert warning in err.splitlines()
    assert "Traceback" not in err
    text = exceptions.read_text()
    assert "Traceback (most recent call last)" in text and message in text
    assert "counting_tuner.py" in text  # the frame that raised
    export = _export(out)
    assert [e["parameter"]["x"] for e in export] == [1, 2, 3, 4, 5, 6]  # every trial ran
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["status"] == "DONE"
    assert meta["algorithmExceptions"]["count"] == 1
    assert not (out / "algorithm_error.txt").exists()


def test_tuner_raising_in_generate_parameters_stops_the_run_and_keeps_every_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _failing_copy(tmp_path, "fail_on_generate")
    _records(tmp_path, monkeypatch)
    out = tmp_path / "out"
    code = main(["run", str(folder), "--output", str(out), "--quiet", "--concurrency", "1"])
    err = capsys.readouterr().err
    assert code == 1
    message = "ValueError: refusing to generate parameter set 2"
    assert "Traceback (most recent call last)" in err and message in err
    last = err.strip().splitlines()[-1]
    error_file = out / "algorithm_error.txt"
    assert last == (
        f"nni2ray: error: {folder / 'algorithms' / 'counting_tuner.py'}: "
        f"CountingTuner.generate_multiple_parameters: the custom tuner raised {message}; "
        f"traceback above and in {error_file}"
    )
    assert message in error_file.read_text()
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["status"] == "ERROR"
    assert meta["error"]["method"] == "CountingTuner.generate_multiple_parameters"
    export = _export(out)
    assert [e["parameter"]["x"] for e in export] == [1, 2]  # no new trial after the failure
    assert all(e["status"] == "SUCCEEDED" or e["status"] == "EARLY_STOPPED" for e in export)
