"""``nni2ray run --resume`` after the driver was stopped with SIGINT or killed with SIGKILL."""

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

from tests.ray.conftest import REPO, live_processes_with

TRIAL = textwrap.dedent(
    """
    import os, subprocess, sys, time
    import nni

    params = nni.get_next_parameter()
    # A grandchild in the trial's session: a driver killed with SIGKILL leaves it behind.
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "resume-marker",
                      os.environ["NNI_TRIAL_JOB_ID"]])
    time.sleep(1)
    nni.report_final_result(params["x"])
    """
)

CONFIG = """\
experimentName: resume_demo
searchSpace: {x: {_type: randint, _value: [0, 1000]}}
trialCommand: python3 trial.py
trialConcurrency: 2
maxTrialNumber: 12
tuner: {name: Random}
trainingService: {platform: local}
"""


def _experiment(tmp_path: Path, marker: str = "resume-marker") -> Path:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(TRIAL.replace("resume-marker", marker))
    (exp / "config.yml").write_text(CONFIG)
    return exp


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _nni2ray(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nni2ray", "run", *args, "--scheduler", "none"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",  # Ray's console output may hold stray bytes
        env=_env(),
        cwd=cwd,
    )


def _finished(output: Path) -> dict[str, dict]:
    found = {}
    for path in output.glob("trials/*/trial.json"):
        record = json.loads(path.read_text())
        if record["status"] == "SUCCEEDED":
            found[record["trialJobId"]] = record
    return found


def _wait_for_finished(output: Path, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if output.exists() and len(_finished(output)) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} trials finished in {timeout}s")


def _check_union(output: Path, before: dict[str, dict]) -> None:
    after = _finished(output)
    assert len(after) == 12  # the requested trial count, nothing more
    for trial_id, record in before.items():  # kept as they were, not run again
        assert after[trial_id] == record
    assert len({r["sequence"] for r in after.values()}) == 12
    assert len({r["parameter"]["x"] for r in after.values()}) == 12  # no point ran twice
    exported = json.loads((output / "export.json").read_text())
    assert sorted(r["trialJobId"] for r in exported) == sorted(after)
    assert {r["status"] for r in exported} == {"SUCCEEDED"}
    assert not list(output.glob("trials/*/.write-test"))


def test_resume_after_ctrl_c(tmp_path: Path) -> None:
    exp = _experiment(tmp_path)
    out = tmp_path / "out"
    first = _nni2ray(str(exp), "--output", str(out), cwd=tmp_path)
    _wait_for_finished(out, 3)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=90)
    assert first.returncode == 130, err
    before = _finished(out)
    assert 3 <= len(before) < 12

    second = _nni2ray(str(exp), "--output", str(out), "--resume", cwd=tmp_path)
    stdout, err = second.communicate(timeout=240)
    assert second.returncode == 0, err
    assert f"{len(before)} finished trial(s) kept" in stdout
    _check_union(out, before)
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["tuneRuns"] == ["tune", "tune-2"] and meta["status"] == "DONE"


def test_resume_after_sigkill_ends_leftovers_and_finds_the_newest_run(tmp_path: Path) -> None:
    marker = f"resume-marker-{uuid.uuid4().hex}"  # this test's processes alone
    exp = _experiment(tmp_path, marker)
    first = _nni2ray(str(exp), cwd=tmp_path)  # default output under ./nni2ray-results/
    results = tmp_path / "nni2ray-results"
    deadline = time.monotonic() + 120
    while not list(results.glob("resume_demo-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    (out,) = results.glob("resume_demo-*")
    _wait_for_finished(out, 3)
    first.kill()  # SIGKILL: no cleanup of any kind runs in the driver
    first.communicate(timeout=30)
    before = _finished(out)
    time.sleep(1)
    leftovers = live_processes_with(marker)

    second = _nni2ray(str(exp), "--resume", cwd=tmp_path)
    stdout, err = second.communicate(timeout=240)
    assert second.returncode == 0, err
    assert f"resuming {out.resolve()}" in stdout
    assert not set(leftovers) & set(live_processes_with(marker))
    _check_union(out, before)
