"""Python experiment-API launchers and NNI annotation, end to end: `python -m nni2ray run`
as a subprocess, real Ray, real trial processes; the exported trials are checked."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.ray.conftest import FIXTURES, REPO


def _nni2ray(*args: str, cwd: Path, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "nni2ray", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )


def _export(folder: Path) -> list[dict[str, Any]]:
    data = json.loads((folder / "export.json").read_text())
    assert isinstance(data, list)
    return data


def _in_launcher_space(params: dict[str, Any]) -> bool:
    return (
        0.001 <= params["lr"] <= 0.5
        and 0.0 <= params["momentum"] <= 0.95
        and params["hidden"] in (16, 32, 64)
    )


def _train_accuracy(params: dict[str, Any]) -> float:
    """launcher_*/train.py's formula: the metric each trial must have reported."""
    ceiling = 0.95 - 0.08 * (math.log10(params["lr"]) - math.log10(0.05)) ** 2
    ceiling -= 0.2 * (params["momentum"] - 0.9) ** 2 + 0.02 * (64 - params["hidden"]) / 48
    return ceiling * (1 - math.exp(-3))


def test_launcher_runs_each_experiment_in_its_own_folder(tmp_path: Path) -> None:
    launcher = FIXTURES / "launcher_run" / "launcher.py"
    out = tmp_path / "out"
    proc = _nni2ray(
        "run", "--output", str(out), "--quiet", "--scheduler", "none",
        str(launcher), "--trials", "3",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for folder, tuner in ((out, "TPE"), (tmp_path / "out-2", "Random")):
        trials = _export(folder)
        assert len(trials) == 3, (folder, trials)
        assert all(t["status"] == "SUCCEEDED" for t in trials)
        for trial in trials:
            assert _in_launcher_space(trial["parameter"])
            assert math.isclose(trial["value"], _train_accuracy(trial["parameter"]))
            assert len(trial["intermediate"]) == 4  # 3 epochs + the final row
        meta = json.loads((folder / "experiment.json").read_text())
        assert meta["status"] == "DONE"
        assert meta["plan"]["name"] == f"quadratic_{tuner.lower()}"
        # The script's code after run() saw the results through export_data().
        assert f"{tuner}: finished=True trials=3" in proc.stdout
    assert "best per tuner: {'TPE':" in proc.stdout


def test_launcher_start_poll_and_stop(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _nni2ray(
        "run", "--output", str(out), "--quiet", "--scheduler", "none",
        str(FIXTURES / "launcher_start_poll" / "launcher.py"),
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    trials = _export(out)
    succeeded = [t for t in trials if t["status"] == "SUCCEEDED"]
    assert len(succeeded) >= 3  # the script stopped once 3 had finished
    assert len(trials) < 12  # ... before maxTrialNumber
    assert all(_in_launcher_space(t["parameter"]) for t in trials)
    assert all(math.isclose(t["value"], _train_accuracy(t["parameter"])) for t in succeeded)
    meta = json.loads((out / "experiment.json").read_text())
    assert (meta["status"], meta["stopReason"]) == ("STOPPED", "stop() of the Python launcher")
    assert "3 trials finished, stopping early" in proc.stdout
    assert f"final status=STOPPED trials={len(trials)} max_trial_number=12" in proc.stdout
    best = max(succeeded, key=lambda t: t["value"])
    assert f"from trial {best['trialJobId']}" in proc.stdout
    # input() after the run is answered at once, so nni2ray returns.
    assert "input() in the launcher answered with an empty line" in proc.stderr


def test_launcher_that_never_returns_is_ended(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text((FIXTURES / "launcher_run" / "train.py").read_text())
    (code / "launcher.py").write_text(
        textwrap.dedent(
            """
            import time
            from pathlib import Path
            from nni.experiment import Experiment

            exp = Experiment('local')
            exp.config.trial_command = 'python3 train.py'
            exp.config.trial_code_directory = Path(__file__).parent
            exp.config.search_space = {
                'lr': {'_type': 'choice', '_value': [0.01, 0.05]},
                'momentum': {'_type': 'choice', '_value': [0.9]},
                'hidden': {'_type': 'choice', '_value': [64]},
            }
            exp.config.tuner.name = 'GridSearch'
            exp.config.trial_concurrency = 2
            exp.start()
            while True:  # a dashboard loop that never ends
                print('status', exp.get_status(), flush=True)
                time.sleep(0.5)
            """
        )
    )
    out = tmp_path / "out"
    proc = _nni2ray(
        "run", "--output", str(out), "--quiet", "--launcher-timeout", "3",
        str(code / "launcher.py"),
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "was still running 3s after its last experiment ended; ending it" in proc.stderr
    assert "status DONE" in proc.stdout  # its loop saw the run end
    assert sorted(t["parameter"]["lr"] for t in _export(out)) == [0.01, 0.05]


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_annotated_trial_runs_from_an_expanded_copy(tmp_path: Path) -> None:
    folder = FIXTURES / "annotated_trial"
    before = _tree_digest(folder)
    out = tmp_path / "out"
    proc = _nni2ray(
        "run", str(folder), "--output", str(out), "--quiet", "--scheduler", "none",
        "--max-trials", "4",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    trials = _export(out)
    assert len(trials) == 4
    for trial in trials:
        assert trial["status"] == "SUCCEEDED", trial
        params = trial["parameter"]
        assert set(params) == {
            "main/lr/loguniform",
            "main/width/choice",
            "main/activation/function_choice",
            "model.net/depth/randint",
        }
        lr, width = params["main/lr/loguniform"], params["main/width/choice"]
        depth = params["model.net/depth/randint"]
        assert 0.0001 <= lr <= 0.1 and width in (32, 64, 128) and depth in (1, 2, 3)
        # The annotations took effect: the metric is main.py's formula on the tuned values,
        # with the function that function_choice chose.
        act = {"relu(0.9)": 0.9, "tanh(0.9)": math.tanh(0.9)}[
            params["main/activation/function_choice"]
        ]
        expected = act * (1 - math.exp(-3)) - 0.05 * abs(math.log10(lr) + 2)
        expected -= 0.01 * abs(depth - 3) + 0.001 * abs(width - 64)
        assert math.isclose(trial["value"], expected)
        assert len(trial["intermediate"]) == 4  # 3 report_intermediate_result + final
    assert (out / "annotated-code" / "model" / "net.py").is_file()
    assert "nni.randint(1, 4" in (out / "annotated-code" / "model" / "net.py").read_text()
    assert _tree_digest(folder) == before  # the original trial code is untouched
