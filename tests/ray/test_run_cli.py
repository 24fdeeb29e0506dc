"""`nni2ray run` through the command line: GPU refusal, Ctrl-C, the README's main job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from nni2ray.cli import main
from tests.ray.conftest import FIXTURES, REPO, live_processes_with


@pytest.mark.usefixtures("ray_session")
def test_gpu_trial_without_gpu_fails_fast_with_cpu_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = time.monotonic()
    code = main(["run", str(FIXTURES / "gpu_trial"), "--output", str(tmp_path / "out"), "--quiet"])
    assert code == 1
    assert time.monotonic() - start < 10
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("nni2ray: error: ")
    assert (
        "trialGpuNumber: trialGpuNumber asks for 1 GPU per trial but the Ray cluster has 0 GPU"
        in err
    )
    assert "set trialGpuNumber: 0 or pass --gpus-per-trial 0 to run on CPU" in err
    assert not list((tmp_path / "out" / "trials").iterdir())


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize(("text", "seconds"), [("900", 900), ("20m", 1200)])
def test_max_duration_takes_plain_seconds_and_nni_durations(
    tmp_path: Path, text: str, seconds: int
) -> None:
    out = tmp_path / "out"
    args = ["run", str(FIXTURES / "all_types"), "--output", str(out), "--quiet"]
    assert main([*args, "--max-trials", "1", "--max-duration", text]) == 0
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["plan"]["time_budget_s"] == seconds  # the config says 10m
    assert [e["status"] for e in json.loads((out / "export.json").read_text())] == ["SUCCEEDED"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_main_job_prints_best_parameters(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nni2ray",
            "run",
            str(FIXTURES / "digits_sklearn_v2"),
            "--output",
            str(tmp_path / "out"),
            "--max-trials",
            "4",
        ],
        capture_output=True,
        text=True,
        errors="replace",  # Ray's console output may hold stray bytes
        timeout=300,
        env=_env(),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Best parameters: {" in proc.stdout
    assert "4 trials in" in proc.stdout
    assert (tmp_path / "out" / "export.csv").exists()


SLOW_TRIAL = textwrap.dedent(
    """
    import subprocess, sys, time
    import nni

    nni.get_next_parameter()
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", "ctrl-c-marker"])
    for step in range(600):
        nni.report_intermediate_result(step)
        time.sleep(1)
    """
)


def test_ctrl_c_ends_every_trial_and_exits_130(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    marker = f"ctrl-c-marker-{uuid.uuid4().hex}"  # this test's processes alone
    (exp / "trial.py").write_text(SLOW_TRIAL.replace("ctrl-c-marker", marker))
    (exp / "config.yml").write_text(
        textwrap.dedent("""
        searchSpace: {x: {_type: uniform, _value: [0, 1]}}
        trialCommand: python3 trial.py
        trialConcurrency: 2
        maxTrialNumber: 4
        tuner: {name: Random}
        trainingService: {platform: local}
    """)
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nni2ray",
            "run",
            str(exp),
            "--output",
            str(tmp_path / "out"),
            "--scheduler",
            "none",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",  # Ray's console output may hold stray bytes
        env=_env(),
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 120
    while len(live_processes_with(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(live_processes_with(marker)) == 2, "trials did not start"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err
    assert live_processes_with(marker) == []
    statuses = [line for line in out.splitlines() if "trials in" in line]
    assert statuses and "user-canceled" in statuses[0]
