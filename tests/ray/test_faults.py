"""Faults: a Ray worker that dies mid-trial is retried and recorded, and the run never hangs."""

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

from tests.ray.conftest import REPO, live_processes_with

TRIAL = textwrap.dedent(
    """
    import os, pathlib, subprocess, sys, time
    import nni

    params = nni.get_next_parameter()
    flag = pathlib.Path("attempted-%s" % os.environ["NNI_TRIAL_SEQ_ID"])
    if params["x"] == 0 and not flag.exists():  # first attempt of one trial: wait to be killed
        flag.write_text("1")
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "fault-marker"])
        if os.fork() == 0:  # a daemon: double fork, its own session, no environment
            os.setsid()
            if os.fork() == 0:
                sleeper = [sys.executable, "-c", "import time; time.sleep(300)", "fault-daemon"]
                os.execve(sys.executable, sleeper, {})
            os._exit(0)
        os.wait()
        time.sleep(120)
    nni.report_final_result(params["x"])
    """
)

CONFIG = """\
searchSpace: {x: {_type: choice, _value: [0, 1, 2]}}
trialCommand: python3 trial.py
trialConcurrency: 2
maxTrialNumber: 3
tuner: {name: GridSearch}
trainingService: {platform: local}
"""


def _ray_worker_of(pid: int) -> int | None:
    """The nearest ancestor of ``pid`` that is a Ray worker (its title starts ``ray::``)."""
    while pid > 1:
        pid = _parent(pid) or 0
        if _cmdline(pid).startswith(b"ray::"):
            return pid
    return None


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/status").read_text().split("PPid:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        return None


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _trial_actors_of(driver: int) -> list[int]:
    """The run's trial actors: Ray workers (children of the raylet the driver started)
    whose title names the trainable (``ray::ResourceTrainable.train``: nni2ray's NniTrial
    inside Tune's resource wrapper)."""
    found = []
    for entry in os.listdir("/proc"):
        title = _cmdline(int(entry)).split(b"\0")[0] if entry.isdigit() else b""
        if title.startswith(b"ray::") and b"Trainable" in title:
            raylet = _parent(int(entry))
            if raylet is not None and _parent(raylet) == driver:
                found.append(int(entry))
    return found


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["crashed", "exited"])
def test_a_dead_worker_is_retried_and_recorded(tmp_path: Path, sig: signal.Signals) -> None:
    """A worker that crashes (SIGKILL), or exits (SIGTERM: Ray's own exit path, which by
    default SIGKILLs the worker's direct children, a cold trial's reaper among them)."""
    exp = tmp_path / "exp"
    exp.mkdir()
    # Markers of this test alone: a process left by another test (or an earlier failed
    # run, which sleeps for 300 s) is not counted.
    marker, daemon = (f"fault-{uuid.uuid4().hex}-{name}" for name in ("marker", "daemon"))
    (exp / "trial.py").write_text(
        TRIAL.replace("fault-marker", marker).replace("fault-daemon", daemon)
    )
    (exp / "config.yml").write_text(CONFIG)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nni2ray", "run", str(exp), "--output", str(out), "--quiet"]
        # Cold trials: each is a child of its Ray worker (a warm one is forked from the
        # shared template, with no worker above it; the next test covers that case).
        + ["--scheduler", "none", "--max-retries", "1", "--no-warm-start"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",  # Ray's console output may hold stray bytes
        env=env,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 120
    while (
        not (live_processes_with(marker) and live_processes_with(daemon))
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    (trial_child,) = live_processes_with(marker)
    worker = _ray_worker_of(trial_child)
    assert worker is not None, "no Ray worker above the trial process"
    os.kill(worker, sig)
    out_text, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert time.monotonic() - start < 170  # no hang on the lost worker
    exported = {r["parameter"]["x"]: r for r in json.loads((out / "export.json").read_text())}
    assert sorted(exported) == [0, 1, 2]
    assert {r["status"] for r in exported.values()} == {"SUCCEEDED"}
    assert exported[0]["retries"] == 1 and exported[1]["retries"] == 0
    assert "starting it again (retry 1)" in err
    # The lost attempt's processes were ended when the retry was scheduled, also its
    # detached daemon (below the trial's reaper, which leads the recorded session).
    assert live_processes_with(marker) == []
    left = live_processes_with(daemon)
    for pid in left:  # not into the next test
        os.kill(pid, signal.SIGKILL)
    assert left == []


WARM_TRIAL = textwrap.dedent(
    """
    import os, pathlib, subprocess, sys, time
    import nni

    params = nni.get_next_parameter()
    if params["x"] == 0:
        lost = pathlib.Path("lost-attempt")
        if not lost.exists():  # first attempt: wait to be killed with its worker
            # No child: a child's environment would name the trial's folder, and ending the
            # child's process group would end the trial too; only its session is left.
            lost.write_text(str(os.getpid()))
            time.sleep(120)
        else:  # the retry: hold the run open a moment, so the test looks while it goes on
            pathlib.Path("retried").write_text(str(os.getpid()))
            time.sleep(4)
    else:
        time.sleep(1)  # the actor's template is ready by the next trial
    nni.report_final_result(params["x"])
    """
)

# One actor runs x=1, then x=2, then x=0: the first trial of an actor starts cold while
# its template imports; the later ones are forked from the template.
WARM_CONFIG = """\
searchSpace: {x: {_type: choice, _value: [1, 2, 0]}}
trialCommand: python3 trial.py
trialConcurrency: 1
maxTrialNumber: 3
tuner: {name: GridSearch}
trainingService: {platform: local}
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_warm_started_trial_whose_worker_dies_is_ended_and_retried(tmp_path: Path) -> None:
    """The lost attempt is a child forked from the warm-start template: its
    /proc/PID/environ still names the template, so only its session finds it."""
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(WARM_TRIAL)
    (exp / "config.yml").write_text(WARM_CONFIG)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "nni2ray", "run", str(exp), "--output", str(out), "--quiet"]
        + ["--scheduler", "none", "--max-retries", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        while not (exp / "lost-attempt").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.2)
        lost = int((exp / "lost-attempt").read_text())
        environ = Path(f"/proc/{lost}/environ").read_bytes().split(b"\0")
        # A warm-started trial: forked from the template, whose environment it shows.
        assert f"NNI_SYS_DIR={out / 'trials' / '.template'}".encode() in environ
        # A session of its own, led by its reaper (the template's forked child) and
        # recorded in trials/<id>/session.
        sessions = {int(p.read_text()) for p in out.glob("trials/*/session")}
        assert os.getsid(lost) in sessions, (os.getsid(lost), sessions)
        # Its parent is the run's shared template, not the Ray worker: the worker that
        # runs it is the run's one trial actor (trialConcurrency 1).
        workers = _trial_actors_of(proc.pid)
        assert len(workers) == 1, f"trial actors of the run: {workers}"
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 120
        while not (exp / "retried").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (exp / "retried").exists(), "the trial was not run again"
        # The retry runs, and the lost attempt and its child are already gone.
        assert proc.poll() is None
        assert not _alive(lost), "the lost warm-started attempt still runs beside its retry"
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    exported = {r["parameter"]["x"]: r for r in json.loads((out / "export.json").read_text())}
    assert {r["status"] for r in exported.values()} == {"SUCCEEDED"}
    assert exported[0]["retries"] == 1
    assert "starting it again (retry 1)" in err
