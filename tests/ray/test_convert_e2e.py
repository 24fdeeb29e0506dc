"""Convert every runnable fixture experiment, then run its tune_experiment.py without nni2ray."""

from __future__ import annotations

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
NO_LAUNCHER = {
    "custom_tuner": "custom tuners have no Ray Tune searcher",
    "custom_tuner_assessor": "custom tuners and assessors run only under nni2ray run",
    "continuous_grid": "NNI's grid over continuous parameters is endless",
}
NEEDS_GPU = {"gpu_trial"}
TRIALS = 2


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
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


def _convert(name: str, out: Path) -> None:
    config = ["--config", CONFIGS[name]] if name in CONFIGS else []
    assert main(["convert", str(EXPERIMENTS_DIR / name), "-o", str(out), *config]) == 0


RUNNABLE = [
    n
    for n in EXPERIMENTS
    if n not in NO_LAUNCHER and (n not in NEEDS_GPU or shutil.which("nvidia-smi"))
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
@pytest.mark.parametrize("name", sorted(NO_LAUNCHER))
def test_unsupported_experiment_still_converts_its_code(name: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _convert(name, out)
    assert not (out / "tune_experiment.py").exists()
    assert "No launcher was written" in (out / "MIGRATION.md").read_text()


@pytest.mark.parametrize("name", sorted(NEEDS_GPU))
def test_gpu_experiment_launcher_asks_ray_for_gpus(name: str, tmp_path: Path) -> None:
    # Runs everywhere: the launcher of a GPU experiment requests the GPUs from Ray (the run
    # itself is covered above on machines that have a GPU).
    out = tmp_path / "out"
    _convert(name, out)
    launcher = (out / "tune_experiment.py").read_text()
    assert "{'cpu': 1.0, 'gpu': 1.0}" in launcher
    compile(launcher, str(out / "tune_experiment.py"), "exec")
