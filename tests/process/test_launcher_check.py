"""`nni2ray check launcher.py` runs the script in a child process up to its first
experiment and reports the config it built; script failures and refusals are one line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "experiments"


def _nni2ray(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "nni2ray", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def _launcher(tmp_path: Path, body: str) -> Path:
    (tmp_path / "train.py").write_text("import nni\nnni.report_final_result(1)\n")
    script = tmp_path / "launcher.py"
    script.write_text(textwrap.dedent(body))
    return script


def test_check_stops_where_the_experiment_would_start(tmp_path: Path) -> None:
    script = _launcher(
        tmp_path,
        """
        import sys
        from nni.experiment import Experiment, RemoteConfig, ExperimentConfig, AlgorithmConfig
        print('before start', sys.argv[1:])
        config = ExperimentConfig(
            trial_command='python3 train.py',
            trial_concurrency=3,
            max_trial_number=int(sys.argv[2]),
            search_space={'x': {'_type': 'quniform', '_value': [0, 10, 2]}},
            tuner=AlgorithmConfig(name='Anneal', class_args={'optimize_mode': 'minimize'}),
            training_service=RemoteConfig(
                machine_list=[{'host': '10.1.2.3', 'user': 'me', 'password': 'hunter2'}]
            ),
        )
        Experiment(config).run(8080)
        print('after run')
        """,
    )
    proc = _nni2ray("check", str(script), "--trials", "5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "before start ['--trials', '5']" in proc.stdout  # its own args, its side effects
    assert "after run" not in proc.stdout
    assert "launcher: launcher.py (NNI Python experiment API)" in proc.stdout
    assert "max trials: 5" in proc.stdout
    assert "x: quniform [0, 10, 2]" in proc.stdout
    assert "platform remote: nni2ray runs trials on the local machine" in proc.stderr
    assert "check stopped launcher.py where it starts its first experiment" in proc.stderr
    assert "hunter2" not in proc.stdout + proc.stderr


def test_unknown_field_shows_nnis_error_from_the_script(tmp_path: Path) -> None:
    script = _launcher(
        tmp_path,
        """
        from nni.experiment import Experiment
        exp = Experiment('local')
        exp.config.max_trial_num = 3
        """,
    )
    proc = _nni2ray("check", str(script), cwd=tmp_path)
    assert proc.returncode == 1
    assert 'File "' + str(script) + '", line 4' in proc.stderr
    assert "AttributeError: ExperimentConfig does not have field max_trial_num" in proc.stderr
    assert "_bootstrap" not in proc.stderr  # the traceback starts at the script
    assert proc.stderr.strip().splitlines()[-1] == (
        f"nni2ray: error: {script}: the launcher exited with code 1 (its traceback is above)"
    )


def test_config_problems_name_the_launcher(tmp_path: Path) -> None:
    script = _launcher(
        tmp_path,
        """
        from nni.experiment import Experiment
        exp = Experiment('local')
        exp.config.trial_command = 'python3 train.py'
        exp.config.trial_concurrency = 1
        exp.config.search_space_file = 'missing.json'
        exp.config.tuner.name = 'Random'
        exp.start()
        """,
    )
    proc = _nni2ray("run", str(script), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("nni2ray: error: launcher.py: searchSpaceFile: file not found")
    assert not (tmp_path / "nni2ray-results").exists()  # nothing started, nothing written


def test_a_script_that_starts_nothing_is_an_error(tmp_path: Path) -> None:
    script = _launcher(tmp_path, "print('just a script')\n")
    proc = _nni2ray("run", str(script), cwd=tmp_path)
    assert proc.returncode == 1
    assert "the launcher ended without starting an experiment" in proc.stderr


def test_convert_writes_the_config_the_launcher_builds(tmp_path: Path) -> None:
    launcher = FIXTURES / "launcher_run" / "launcher.py"
    out = tmp_path / "out"
    proc = _nni2ray("convert", str(launcher), "-o", str(out), "--", "--trials", "4", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "convert stopped launcher.py where it starts its first experiment (quadratic_tpe)" in (
        proc.stderr
    )
    assert sorted(p.name for p in out.iterdir()) == [
        ".nni2ray-convert",
        "MIGRATION.md",
        "nni_search_space.py",
        "train.py",
        "tune_experiment.py",
    ]  # launcher.py (it imports nni.experiment) is replaced by tune_experiment.py
    tune_experiment = (out / "tune_experiment.py").read_text()
    # What the script set: name, trial command, tuner, limits, its inline search space.
    assert 'Run the NNI experiment "quadratic_tpe" on Ray Tune.' in tune_experiment
    assert "TRIAL_ARGV = ['train.py']" in tune_experiment
    assert "# --- Searcher (NNI tuner: TPE)" in tune_experiment
    assert '"--num-samples", type=int, default=4' in tune_experiment  # the script's --trials
    assert '"--max-concurrent", type=int, default=2' in tune_experiment
    assert '"_value": [\n            0.001,\n            0.5\n        ]' in tune_experiment
    assert 'mode="max"' in tune_experiment
    report = (out / "MIGRATION.md").read_text()
    assert "from the config `launcher.py` builds" in report
    assert "* `launcher.py`: the Python launcher; tune_experiment.py runs" in report


def test_convert_of_a_launcher_that_fails_exits_1_with_the_reason(tmp_path: Path) -> None:
    script = _launcher(
        tmp_path,
        """
        from nni.experiment import Experiment
        exp = Experiment('local')
        exp.config.max_trial_num = 3
        """,
    )
    proc = _nni2ray("convert", str(script), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "AttributeError: ExperimentConfig does not have field max_trial_num" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"nni2ray: error: {script}: the launcher exited with code 1 (its traceback is above)"
    )
    assert not (tmp_path / "out").exists()
    script.write_text("print('no experiment here')\n")
    proc = _nni2ray("convert", str(script), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "the launcher ended without starting an experiment" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["launcher_run", "launcher_start_poll"])
def test_check_finds_the_launcher_of_a_folder_without_a_config(name: str) -> None:
    folder = Path(__file__).resolve().parents[2] / "fixtures" / "experiments" / name
    proc = _nni2ray("check", str(folder), cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert (
        f"launcher: {folder / 'launcher.py'}" in proc.stdout
        or "launcher: launcher.py" in proc.stdout
    )
    assert "check stopped launcher.py where it starts its first experiment" in proc.stderr
