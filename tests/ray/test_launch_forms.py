"""Launch forms of real NNI folders, run to the end with real Ray and real trials: a config
in a subfolder, a continuous grid, another machine's interpreter with --python, and a run
in which every trial fails."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest

from nni2ray.cli import main
from nni2ray.translate.nni_grid import grid_points
from tests.ray.conftest import FIXTURES, run_folder

pytestmark = pytest.mark.usefixtures("ray_session")


def _export(output: Path) -> list[dict]:
    return sorted(json.loads((output / "export.json").read_text()), key=lambda e: e["sequence"])


def test_config_in_a_subfolder_runs(tmp_path: Path) -> None:
    summary = run_folder(FIXTURES / "config_subfolder", tmp_path / "out")
    exported = _export(tmp_path / "out")
    assert [e["status"] for e in exported] == ["SUCCEEDED"] * 3  # maxTrialNumber: 3
    assert all(isinstance(e["value"], float) for e in exported)
    assert {e["trialJobId"] for e in exported} == {r.trial_id for r in summary.records}
    assert summary.best[0].final_scalar == min(e["value"] for e in exported)  # minimize


def test_one_of_several_configs_in_a_subfolder_runs(tmp_path: Path) -> None:
    run_folder(FIXTURES / "config_variants", tmp_path / "out", config="configs/quick.yml")
    exported = _export(tmp_path / "out")
    assert [e["status"] for e in exported] == ["SUCCEEDED", "SUCCEEDED"]  # quick.yml: 2
    assert all(1 <= e["parameter"]["degree"] < 6 for e in exported)


def test_continuous_grid_runs_nni_order_to_the_trial_limit(tmp_path: Path) -> None:
    run_folder(FIXTURES / "continuous_grid", tmp_path / "out")
    exported = _export(tmp_path / "out")
    space = json.loads((FIXTURES / "continuous_grid" / "search_space.json").read_text())
    assert [e["parameter"] for e in exported] == list(itertools.islice(grid_points(space), 6))
    assert exported[0]["parameter"]["momentum"] == 0.495  # every parameter at its median first
    for entry in exported:  # the trial received exactly those values
        stdout = tmp_path / "out" / "trials" / entry["trialJobId"] / "trial.stdout"
        assert json.loads(stdout.read_text().splitlines()[0]) == entry["parameter"]


def test_foreign_interpreter_runs_with_python_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = shutil.which("python3")
    assert python is not None
    out = tmp_path / "out"
    argv = ["run", str(FIXTURES / "foreign_interpreter"), "--output", str(out), "--quiet"]
    assert main([*argv, "--python", python]) == 0
    exported = _export(out)
    assert [e["status"] for e in exported] == ["SUCCEEDED", "SUCCEEDED"]
    for entry in exported:
        stdout = (out / "trials" / entry["trialJobId"] / "trial.stdout").read_text()
        assert stdout.startswith("python 3.")
    assert "does not exist" not in capsys.readouterr().err


def test_every_trial_failed_exits_1_with_the_stderr_excerpt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "exp"
    shutil.copytree(FIXTURES / "config_subfolder", folder)
    (folder / "train.py").write_text(
        "import nni\nnni.get_next_parameter()\nimport ridge_data_loader\n"
    )
    out = tmp_path / "out"
    assert main(["run", str(folder), "--output", str(out), "--quiet"]) == 1
    captured = capsys.readouterr()
    cause = "ModuleNotFoundError: No module named 'ridge_data_loader'"
    assert f"Most common failure (3 of 3 failed trial(s)): {cause}\n" in captured.out
    assert "        import ridge_data_loader\n" in captured.out  # the excerpt
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith(f"nni2ray: error: every trial failed: {cause}; see ")
    assert last.endswith("/trial.stderr")
    shown = Path(last.rsplit("; see ", 1)[1])
    assert shown.parent.parent == out / "trials" and cause in shown.read_text()
    assert json.loads((out / "export.json").read_text())  # the results are still written
