"""A converted project reports, for the same parameters, exactly what `nni2ray run` records."""

from __future__ import annotations

import itertools
import json
import shutil
import textwrap
from pathlib import Path

import pytest

from nni2ray.cli import main
from nni2ray.translate.nni_grid import grid_points
from tests.ray.conftest import run_folder
from tests.ray.test_convert_e2e import DETERMINISTIC, EXPERIMENTS_DIR, _python

TRIAL = textwrap.dedent(
    """
    import nni

    params = nni.get_next_parameter()
    a, b = params["a"], params["b"]
    for step in range(4):
        nni.report_intermediate_result(a * 10 + b + step / 10)
    nni.report_final_result({"default": a + b, "extra": a * b})
    """
)

CONFIG = textwrap.dedent(
    """
    experimentName: same_metrics
    searchSpace:
      a: {_type: choice, _value: [1, 2]}
      b: {_type: quniform, _value: [0, 1, 0.5]}
    trialCommand: python3 trial.py
    trialConcurrency: 2
    tuner: {name: GridSearch}
    # Never judges (start_step beyond the last step), so both sides run every step.
    assessor: {name: Medianstop, classArgs: {optimize_mode: maximize, start_step: 100}}
    trainingService: {platform: local}
    """
)


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True)


def _converted_sequences(storage: Path) -> dict[str, list]:
    sequences = {}
    for result_file in storage.glob("*/*/result.json"):
        rows = [json.loads(line) for line in result_file.read_text().splitlines() if line]
        params = rows[0]["config"]["nni_params"]
        values = []
        for row in rows:
            if row.get("final_result"):
                values.append({"default": row["default"], "extra": row["extra"]})
            else:
                values.append(row["default"])
        sequences[_key(params)] = values
    return sequences


def test_converted_trials_report_what_nni2ray_run_records(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(TRIAL)
    (exp / "config.yml").write_text(CONFIG)

    summary = run_folder(exp, tmp_path / "run")
    recorded = {_key(r.parameters): [m["value"] for m in r.metrics] for r in summary.records}
    assert len(recorded) == 6  # the whole grid, then the run ends by itself

    out = tmp_path / "converted"
    assert main(["convert", str(exp), "-o", str(out)]) == 0
    run = _python(
        "tune_experiment.py", "--storage-path", str(tmp_path / "tune"), cwd=out, timeout=400
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert _converted_sequences(tmp_path / "tune") == recorded


# Keys Ray Tune adds to every result row; everything else in a row is what the trial reported.
_TUNE_KEYS = {
    "checkpoint_dir_name",
    "config",
    "date",
    "done",
    "experiment_tag",
    "hostname",
    "iterations_since_restore",
    "node_ip",
    "pid",
    "should_checkpoint",
    "time_since_restore",
    "time_this_iter_s",
    "time_total_s",
    "timestamp",
    "training_iteration",
    "trial_id",
    "final_result",
}


def _plain(value: object) -> object:
    """NNI records a number as itself and Tune as {"default": x}: compare them as x."""
    if isinstance(value, dict) and set(value) == {"default"}:
        return value["default"]
    return value


def _reported(storage: Path) -> dict[str, list]:
    sequences = {}
    for result_file in storage.glob("*/*/result.json"):
        rows = [json.loads(line) for line in result_file.read_text().splitlines() if line]
        params = rows[0]["config"]["nni_params"]
        sequences[_key(params)] = [
            _plain({k: v for k, v in row.items() if k not in _TUNE_KEYS}) for row in rows
        ]
    return sequences


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_command_form_fixture_reports_what_nni2ray_run_records(name: str, tmp_path: Path) -> None:
    """Each trial-command form: the launcher, in an interpreter without nni or nni2ray,
    completes both trials and reports per parameter set exactly what `nni2ray run` records."""
    summary = run_folder(EXPERIMENTS_DIR / name, tmp_path / "run")
    recorded = {
        _key(r.parameters): [_plain(m["value"]) for m in r.metrics] for r in summary.records
    }
    assert len(recorded) == 2 and all(len(v) >= 2 for v in recorded.values()), recorded

    out = tmp_path / "converted"
    assert main(["convert", str(EXPERIMENTS_DIR / name), "-o", str(out)]) == 0
    for module in ("nni", "nni2ray"):
        assert _python("-c", f"import {module}", cwd=out).returncode != 0
    storage = tmp_path / "tune"
    run = _python("tune_experiment.py", "--storage-path", str(storage), cwd=out, timeout=400)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "Finished 2 trials (0 errored)" in run.stdout, output[-4000:]
    assert _reported(storage) == recorded
    if name == "gpu_zero":  # trialGpuNumber 0: both sides hide every GPU
        finals = [sequence[-1] for sequence in recorded.values()]
        assert all(final["visible_gpus"] == 0 for final in finals), finals


def test_continuous_grid_launcher_runs_the_grid_points_nni2ray_run_runs(tmp_path: Path) -> None:
    """GridSearch over loguniform/uniform parameters: the launcher (copied nni_grid.py, no
    nni2ray) runs NNI's refined grid, the same 6 parameter sets as `nni2ray run`, each with
    the same result."""
    folder = EXPERIMENTS_DIR / "continuous_grid"
    summary = run_folder(folder, tmp_path / "run")
    recorded = {
        _key(r.parameters): [_plain(m["value"]) for m in r.metrics] for r in summary.records
    }
    space = json.loads((folder / "search_space.json").read_text())
    expected = [_key(p) for p in itertools.islice(grid_points(space), 6)]  # maxTrialNumber
    assert sorted(recorded) == sorted(expected)

    out = tmp_path / "converted"
    assert main(["convert", str(folder), "-o", str(out)]) == 0
    assert (out / "nni_grid.py").is_file()
    for module in ("nni", "nni2ray"):
        assert _python("-c", f"import {module}", cwd=out).returncode != 0
    storage = tmp_path / "tune"
    run = _python("tune_experiment.py", "--storage-path", str(storage), cwd=out, timeout=400)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "Finished 6 trials (0 errored)" in run.stdout, output[-4000:]
    assert _reported(storage) == recorded


def test_annotated_trial_converts_into_tune_code_reporting_what_nni2ray_run_records(
    tmp_path: Path,
) -> None:
    """The annotated_trial fixture, with GridSearch (deterministic parameters on both sides):
    the converted main.py/model/net.py read the annotated parameters from the trial config and
    call tune.report; in an interpreter without nni or nni2ray, each parameter set reports
    exactly the sequence `nni2ray run` records for the annotated original."""
    exp = tmp_path / "exp"
    shutil.copytree(EXPERIMENTS_DIR / "annotated_trial", exp)
    config = (exp / "config.yml").read_text()
    config = config.replace("maxTrialNumber: 5", "maxTrialNumber: 3")
    config = config.replace("  name: TPE", "  name: GridSearch")
    config += (  # never judges: both sides run every step
        "assessor: {name: Medianstop, classArgs: {optimize_mode: maximize, start_step: 100}}\n"
    )
    (exp / "config.yml").write_text(config)

    summary = run_folder(exp, tmp_path / "run")
    recorded = {
        _key(r.parameters): [_plain(m["value"]) for m in r.metrics] for r in summary.records
    }
    assert len(recorded) == 3 and all(len(v) == 4 for v in recorded.values()), recorded

    out = tmp_path / "converted"
    assert main(["convert", str(exp), "-o", str(out)]) == 0
    for name in ("main.py", "model/net.py"):
        assert "import nni" not in (out / name).read_text()
    for module in ("nni", "nni2ray"):
        assert _python("-c", f"import {module}", cwd=out).returncode != 0
    storage = tmp_path / "tune"
    run = _python("tune_experiment.py", "--storage-path", str(storage), cwd=out, timeout=400)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "Finished 3 trials (0 errored)" in run.stdout, output[-4000:]
    assert _reported(storage) == recorded
