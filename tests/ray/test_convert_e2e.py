"""Convert every runnable fixture experiment, then run its tune_experiment.py without nni2ray."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from nni2ray.cli import main

EXPERIMENTS_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "experiments"
EXPERIMENTS = sorted(p.name for p in EXPERIMENTS_DIR.iterdir() if p.is_dir())
CONFIGS = {"multi_config": "config_tpe.yml", "config_variants": "configs/quick.yml"}
NEEDS_GPU = {"gpu_trial"}
# Deterministic trials: test_convert_same_metrics.py runs these once under `nni2ray run` and
# once through their launcher, and compares every metric (so they are not run again here).
DETERMINISTIC = {
    "cmd_cd_parent",
    "cmd_env_var",
    "cmd_export_source",
    "cmd_shell_script",
    "cmd_unbuffered",
    "dict_no_default",
    "gpu_zero",
}
TRIALS = 2
# Compared with `nni2ray run` by a test of their own (test_convert_same_metrics.py and below).
SAME_RUN = {"custom_tuner_assessor", "continuous_grid"}


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    # The user's environment is active: `python3` in a shell trial command is this Python.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # Only the installed packages' folders, read without running their .pth hooks: an
    # editable install of nni2ray (as the README's test command makes) stays invisible.
    env["PYTHONPATH"] = os.pathsep.join(site.getsitepackages())
    return env


def _python(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    # -S: no site module, so no .pth file (an editable nni2ray) is processed; -P: the
    # script's folder is not put on sys.path. Neither the repository (nni2ray, the nni
    # shim) nor a stray `nni` can be imported; Ray comes from PYTHONPATH above.
    command = [sys.executable, "-S", "-P", *args]
    return subprocess.run(
        command,
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        errors="replace",  # Ray's console output may hold stray bytes
        timeout=timeout,
    )


def _convert(name: str, out: Path, expected: int = 0) -> None:
    config = ["--config", CONFIGS[name]] if name in CONFIGS else []
    assert main(["convert", str(EXPERIMENTS_DIR / name), "-o", str(out), *config]) == expected


RUNNABLE = [
    n
    for n in EXPERIMENTS
    if n not in DETERMINISTIC | SAME_RUN and (n not in NEEDS_GPU or shutil.which("nvidia-smi"))
]


@pytest.mark.ray
@pytest.mark.parametrize("name", RUNNABLE)
def test_converted_experiment_runs_with_only_ray(name: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _convert(name, out)
    for module in ("nni", "nni2ray"):
        probe = _python("-c", f"import {module}", cwd=out)
        assert probe.returncode != 0, f"{module} is importable in the clean interpreter"
    args = ["--num-samples", str(TRIALS), "--storage-path", str(tmp_path / "results")]
    run = _python("tune_experiment.py", *args, cwd=out, timeout=400)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert f"Finished {TRIALS} trials (0 errored)" in run.stdout, output[-4000:]
    assert "ModuleNotFoundError" not in output


@pytest.mark.ray
def test_custom_tuner_and_assessor_convert_and_write_the_golden_records(tmp_path: Path) -> None:
    """The user's classes run unchanged in the launcher (stand-in nni, no nni2ray) and NNI
    calls them exactly as `nni2ray run` does (tests/ray/test_custom_algorithms.py)."""
    name = "custom_tuner_assessor"
    out = tmp_path / "out"
    _convert(name, out)
    env = _clean_env()
    env["COUNTING_TUNER_RECORD"] = str(tmp_path / "tuner.json")
    env["THRESHOLD_ASSESSOR_RECORD"] = str(tmp_path / "assessor.json")
    run = subprocess.run(
        [sys.executable, "-S", "-P", "tune_experiment.py", "--storage-path", str(tmp_path / "r")],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "Finished 6 trials (0 errored)" in run.stdout  # the tuner has 6 parameter sets
    for record, golden in (
        ("tuner.json", "expected_tuner.json"),
        ("assessor.json", "expected_assessor.json"),
    ):
        expected = json.loads((EXPERIMENTS_DIR / name / golden).read_text())
        assert json.loads((tmp_path / record).read_text()) == expected, record


@pytest.mark.parametrize("name", sorted(NEEDS_GPU))
def test_gpu_experiment_launcher_asks_ray_for_gpus(name: str, tmp_path: Path) -> None:
    # Runs everywhere: the launcher of a GPU experiment requests the GPUs from Ray (the run
    # itself is covered above on machines that have a GPU).
    out = tmp_path / "out"
    _convert(name, out)
    launcher = (out / "tune_experiment.py").read_text()
    assert "{'cpu': 1.0, 'gpu': 1.0}" in launcher
    compile(launcher, str(out / "tune_experiment.py"), "exec")


PBT_TRIAL = """
import json
import os
import time

import nni

params = nni.get_next_parameter()
start = time.time()
time.sleep(1.5)
folder = params["save_checkpoint_dir"]
with open(os.path.join(folder, "model.txt"), "w") as handle:
    handle.write(str(params["x"]))
nni.report_intermediate_result({"loss": params["x"]})  # no "default": must not abort the run
nni.report_final_result({"default": params["x"], "start": start, "end": time.time(),
                         "folder": folder})
"""

PBT_CONFIG = """
searchSpace:
  x: {_type: uniform, _value: [0, 1]}
trialCommand: python3 trial.py
trialConcurrency: 1
tuner: {name: PBT, classArgs: {optimize_mode: maximize, seed: 3}}
trainingService: {platform: local}
"""


@pytest.mark.ray
def test_seeded_pbt_launcher_keeps_concurrency_and_gives_checkpoint_folders(
    tmp_path: Path,
) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(PBT_TRIAL)
    (exp / "config.yml").write_text(PBT_CONFIG)
    out = tmp_path / "out"
    assert main(["convert", str(exp), "-o", str(out)]) == 0
    storage = tmp_path / "results"
    run = _python(
        "tune_experiment.py",
        "--num-samples",
        "2",
        "--storage-path",
        str(storage),
        cwd=out,
        timeout=400,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "Finished 2 trials (0 errored)" in run.stdout
    finals = []
    for result_file in storage.glob("*/*/result.json"):
        rows = [json.loads(line) for line in result_file.read_text().splitlines() if line]
        finals.append(next(row for row in rows if row.get("final_result")))
    assert len(finals) == 2
    first, second = sorted(finals, key=lambda row: row["start"])
    assert first["end"] <= second["start"], "trialConcurrency 1 ran two trials at once"
    folders = {row["folder"] for row in finals}
    assert len(folders) == 2  # one checkpoint folder per trial
    for row in finals:
        assert Path(row["folder"], "model.txt").read_text() == str(row["default"])


RAISING_TUNER = '''
from nni.tuner import Tuner


class RaisingTuner(Tuner):
    """Three parameter sets; learning from a result raises, as NNI's TPE can (KeyError)."""

    def __init__(self):
        self.left = [1, 2, 3]

    def update_search_space(self, search_space):
        pass

    def generate_parameters(self, parameter_id, **kwargs):
        if not self.left:
            from nni import NoMoreTrialError

            raise NoMoreTrialError("done")
        return {"x": self.left.pop(0)}

    def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
        raise KeyError(f"no history for {parameter_id}")

    def trial_end(self, parameter_id, success, **kwargs):
        if parameter_id == 1:
            raise RuntimeError("trial_end of the second trial")
'''

RAISING_CONFIG = """
experimentName: raising_tuner
searchSpace: {x: {_type: choice, _value: [1, 2, 3]}}
trialCommand: python3 trial.py
trialConcurrency: 1
tuner: {className: raising_tuner.RaisingTuner, codeDirectory: .}
trainingService: {platform: local}
"""


@pytest.mark.ray
def test_custom_tuner_that_raises_in_receive_trial_result_does_not_end_the_launcher(
    tmp_path: Path,
) -> None:
    """receive_trial_result and trial_end raise: each traceback is printed and kept in
    algorithm_errors.txt, and the launcher still runs every parameter set the tuner gives."""
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "raising_tuner.py").write_text(RAISING_TUNER)
    (exp / "trial.py").write_text(
        "import nni\nnni.report_final_result(nni.get_next_parameter()['x'] * 10)\n"
    )
    (exp / "config.yml").write_text(RAISING_CONFIG)
    out = tmp_path / "out"
    assert main(["convert", str(exp), "-o", str(out)]) == 0
    run = _python("tune_experiment.py", "--storage-path", str(tmp_path / "r"), cwd=out, timeout=400)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "Finished 3 trials (0 errored)" in run.stdout, output[-4000:]
    assert "Best result: 30" in run.stdout
    errors = (out / "algorithm_errors.txt").read_text()
    assert errors.count("RaisingTuner.receive_trial_result raised (the run goes on)") == 3
    assert errors.count("RaisingTuner.trial_end raised (the run goes on)") == 1
    assert "KeyError: 'no history for 2'" in errors
    assert "RuntimeError: trial_end of the second trial" in errors
    assert "RaisingTuner.receive_trial_result raised (the run goes on)" in run.stderr
