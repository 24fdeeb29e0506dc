"""SIGINT, SIGTERM and SIGHUP against ``python -m nni2ray run``: while Ray starts, while
trials run, and while the driver writes the exports at the end. Every process the run
started (Ray's, the trials', their children) carries a marker in its environment; none may be
left afterwards."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.ray.conftest import REPO

MARKER_ENV = "NNI2RAY_TEST_RUN_MARKER"

TRIAL = textwrap.dedent(
    """
    import subprocess, sys, time
    import nni

    nni.get_next_parameter()
    # A child that would outlive its trial if only the trial process were ended.
    subprocess.Popen(["sleep", "600"])
    for step in range(600):
        nni.report_intermediate_result(step)
        time.sleep(0.5)
    """
)

CONFIG = """\
experimentName: signals
searchSpace: {x: {_type: uniform, _value: [0, 1]}}
trialCommand: python3 trial.py
trialConcurrency: 2
maxTrialNumber: 4
tuner: {name: Random, classArgs: {optimize_mode: maximize}}
trainingService: {platform: local}
"""


def marked_processes(marker: str) -> list[int]:
    """Live processes with ``MARKER_ENV=marker`` in their environment."""
    wanted = f"{MARKER_ENV}={marker}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if state != "Z" and wanted in environ:
            found.append(int(entry))
    return found


def trial_processes(output: Path) -> list[int]:
    prefix = f"NNI_SYS_DIR={output / 'trials'}/".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(var.startswith(prefix) for var in environ):
            found.append(int(entry))
    return found


def _two_trials_running(output: Path) -> bool:
    sessions = list(output.glob("trials/*/session"))
    return len(sessions) >= 2 and len(trial_processes(output)) >= 4


def _start(
    tmp_path: Path,
    marker: str,
    *extra: str,
    trial: str = TRIAL,
    env_extra: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    exp = tmp_path / "exp"
    exp.mkdir(exist_ok=True)
    (exp / "trial.py").write_text(trial)
    (exp / "config.yml").write_text(CONFIG)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env[MARKER_ENV] = marker
    env.update(env_extra or {})
    return subprocess.Popen(
        [sys.executable, "-m", "nni2ray", "run", str(exp), "--output", str(tmp_path / "out")]
        + ["--scheduler", "none", "--quiet", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def _wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _status(output: Path) -> str | None:
    try:
        return str(json.loads((output / "experiment.json").read_text())["status"])
    except (OSError, ValueError, KeyError):
        return None


def orphaned_ray_processes() -> set[int]:
    """Ray processes whose parent is gone (PPID 1). Ray's agents overwrite their environment
    with their title, so the marker cannot find them: an orphan is how they show."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if stat[0] != "Z" and stat[1] == "1" and _command_line(int(entry)).startswith("ray::"):
            found.add(int(entry))
    return found


_ORPHANS_BEFORE: set[int] = set()


@pytest.fixture(autouse=True)
def _orphans_before() -> None:
    """What was orphaned before the test (another test's, not this run's)."""
    _ORPHANS_BEFORE.clear()
    _ORPHANS_BEFORE.update(orphaned_ray_processes())


def _left(marker: str) -> list[int]:
    return sorted(set(marked_processes(marker)) | (orphaned_ray_processes() - _ORPHANS_BEFORE))


def _assert_nothing_left(marker: str) -> None:
    deadline = time.monotonic() + 30
    while _left(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = {pid: _command_line(pid) for pid in _left(marker)}
    for pid in left:  # do not leak into the next test, then fail
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert not left, f"{len(left)} process(es) of the run left behind: {left}"


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "?"


@pytest.mark.parametrize("phase", ["starting", "running"])
@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"]
)
def test_signal_stops_the_run_cleanly(tmp_path: Path, sig: signal.Signals, phase: str) -> None:
    marker = uuid.uuid4().hex
    output = tmp_path / "out"
    proc = _start(tmp_path, marker)
    try:
        if phase == "starting":  # the folder exists, Ray is being started
            _wait_for(lambda: _status(output) == "STARTING", 60, "the run folder")
        else:
            _wait_for(lambda: _two_trials_running(output), 120, "two trials and children")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err, err
    assert f"nni2ray: {sig.name} received: stopping" in err
    meta = json.loads((output / "experiment.json").read_text())
    assert meta["status"] == "STOPPED"
    assert meta["stopReason"] == sig.name
    exported = json.loads((output / "export.json").read_text())
    if phase == "running":
        assert {r["status"] for r in exported} == {"USER_CANCELED"}
        assert len(exported) == 2
    _assert_nothing_left(marker)
    if phase == "starting" and sig == signal.SIGTERM:
        # The folder a stop during Ray's start leaves is one --resume accepts.
        resumed = _start(tmp_path, marker, "--resume", "--max-trials", "1")
        _wait_for(lambda: len(trial_processes(output)) >= 2, 120, "the resumed trial")
        resumed.send_signal(signal.SIGINT)
        _, err = resumed.communicate(timeout=90)
        assert resumed.returncode == 130, err
        assert "resuming" not in err  # --quiet
        _assert_nothing_left(marker)


QUICK_TRIAL = textwrap.dedent(
    """
    import subprocess
    import nni

    params = nni.get_next_parameter()
    subprocess.Popen(["sleep", "600"])  # ended with its trial
    nni.report_final_result(params["x"])
    """
)


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"]
)
def test_signal_while_writing_exports_completes_them(tmp_path: Path, sig: signal.Signals) -> None:
    """Every trial has ended; the driver is at the start of writing the exports
    (NNI2RAY_TEST_PAUSE_AT holds it there) when the signal comes."""
    marker = uuid.uuid4().hex
    output = tmp_path / "out"
    proc = _start(
        tmp_path,
        marker,
        "--max-trials",
        "2",
        trial=QUICK_TRIAL,
        env_extra={"NNI2RAY_TEST_PAUSE_AT": "writing:120"},
    )
    try:
        _wait_for(lambda: (output / ".paused-writing").exists(), 150, "the writing phase")
        assert not (output / "export.json").exists()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err, err
    assert [line for line in err.splitlines() if sig.name in line] == [
        f"nni2ray: {sig.name} received: stopping, ending every running trial "
        f"({sig.name} again to abort)"
    ]
    meta = json.loads((output / "experiment.json").read_text())
    assert meta["status"] == "STOPPED"
    assert meta["stopReason"] == sig.name
    exported = json.loads((output / "export.json").read_text())
    assert [r["status"] for r in exported] == ["SUCCEEDED", "SUCCEEDED"]
    assert all(isinstance(r["value"], float) for r in exported), exported
    assert len((output / "export.csv").read_text().splitlines()) == 3  # header + 2 trials
    _assert_nothing_left(marker)


def test_second_signal_aborts_at_once_without_traceback(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    output = tmp_path / "out"
    proc = _start(tmp_path, marker)
    try:
        _wait_for(lambda: _two_trials_running(output), 120, "two trials and children")
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        start = time.monotonic()
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert took < 10
    assert "Traceback" not in err, err
    assert "nni2ray: SIGTERM again: aborting now" in err
    _assert_nothing_left(marker)


def test_a_second_run_on_a_live_folder_is_refused(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    output = tmp_path / "out"
    first = _start(tmp_path, marker)
    try:
        _wait_for(lambda: _two_trials_running(output), 120, "two trials and children")
        time.sleep(1)
        before = set(trial_processes(output))
        second = _start(tmp_path, marker, "--resume")
        _, err = second.communicate(timeout=30)
        assert second.returncode == 1, err
        assert err.strip().splitlines() == [
            f"nni2ray: error: {output}: output folder is in use by another nni2ray run "
            f"(pid {first.pid} on {socket.gethostname()}); wait for that run to end or stop "
            "it (Ctrl-C, kill), or choose another --output"
        ]
        assert before <= set(trial_processes(output))  # the live run's trials untouched
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=90)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130
    _assert_nothing_left(marker)


ESCAPING_TRIAL = textwrap.dedent(
    """
    import os, subprocess, sys, time
    import nni

    nni.get_next_parameter()
    token = os.environ["ESCAPE_TOKEN"]
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)", token]
    subprocess.Popen(sleeper)                           # a child in the trial's session
    subprocess.Popen(sleeper, start_new_session=True)   # a setsid daemon
    if os.fork() == 0:                                  # a double fork
        if os.fork() == 0:
            os.execv(sys.executable, sleeper)
        os._exit(0)
    if os.fork() == 0:                  # a double fork, setsid, the environment cleared
        os.setsid()
        if os.fork() == 0:
            os.execve(sys.executable, sleeper, {})
        os._exit(0)
    for step in range(600):
        nni.report_intermediate_result(step)
        time.sleep(0.5)
    """
)


def _with_token(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if token.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


def test_sigkill_of_the_driver_leaves_no_trial_process(tmp_path: Path) -> None:
    """Nor a process of the local Ray it started (Ray's agents outlived it before)."""
    token = f"escape-{uuid.uuid4().hex}"
    marker = uuid.uuid4().hex
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(ESCAPING_TRIAL)
    (exp / "config.yml").write_text(CONFIG)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["ESCAPE_TOKEN"] = token
    env[MARKER_ENV] = marker
    proc = subprocess.Popen(
        [sys.executable, "-m", "nni2ray", "run", str(exp), "--output", str(tmp_path / "out")]
        # Cold trials (as the first trials of a run are while the template imports): each
        # trial's reaper is a direct child of its Ray worker, which exits once Ray's
        # fate-sharing has ended the raylet.
        + ["--scheduler", "none", "--quiet", "--no-warm-start"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    try:
        _wait_for(lambda: len(_with_token(token)) >= 8, 120, "two trials and their escapes")
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 20
    while _with_token(token) and time.monotonic() < deadline:
        time.sleep(0.25)
    left = _with_token(token)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == [], f"{len(left)} trial process(es) outlived the driver"
    assert time.monotonic() < deadline
    # The supervisor outlives the driver by a few seconds; nothing else may.
    _assert_nothing_left(marker)


def test_a_closed_terminal_stops_the_run_cleanly(tmp_path: Path) -> None:
    """The run's controlling terminal goes away (the kernel sends SIGHUP, and writes to the
    terminal then fail): stopped as for SIGHUP, its records and exports written."""
    import fcntl
    import pty
    import termios

    marker = uuid.uuid4().hex
    output = tmp_path / "out"
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(TRIAL)
    (exp / "config.yml").write_text(CONFIG)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env[MARKER_ENV] = marker
    master, slave = pty.openpty()
    errors = tmp_path / "stderr.txt"

    def take_terminal() -> None:  # after setsid: the pty becomes the controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    with open(errors, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nni2ray", "run", str(exp), "--output", str(output)]
            + ["--scheduler", "none"],
            stdin=slave,
            stdout=slave,
            stderr=stderr,
            env=env,
            cwd=tmp_path,
            start_new_session=True,
            preexec_fn=take_terminal,  # noqa: PLW1509 - only setsid + TIOCSCTTY
        )
    os.close(slave)

    def drain() -> None:  # keep the terminal's buffer from filling while the run goes on
        try:
            while os.read(master, 65536):
                pass
        except OSError:
            pass

    threading.Thread(target=drain, daemon=True).start()
    try:
        _wait_for(lambda: _two_trials_running(output), 120, "two trials and children")
        os.close(master)  # the terminal window is closed
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = errors.read_text()
    assert proc.returncode == 129, err
    assert "Traceback" not in err, err
    assert "nni2ray: SIGHUP received: stopping" in err
    meta = json.loads((output / "experiment.json").read_text())
    assert meta["status"] == "STOPPED" and meta["stopReason"] == "SIGHUP"
    exported = json.loads((output / "export.json").read_text())
    assert {r["status"] for r in exported} == {"USER_CANCELED"}
    _assert_nothing_left(marker)


def test_a_signal_while_ray_shuts_down_ends_as_the_signal_story_says(tmp_path: Path) -> None:
    """Everything is written (the exports, experiment.json DONE) and the driver is about to
    shut Ray down (NNI2RAY_TEST_PAUSE_AT holds it there) when SIGTERM comes: the command
    still exits 143 with status STOPPED and the signal as the reason, one line."""
    marker = uuid.uuid4().hex
    output = tmp_path / "out"
    proc = _start(
        tmp_path,
        marker,
        "--max-trials",
        "2",
        trial=QUICK_TRIAL,
        env_extra={"NNI2RAY_TEST_PAUSE_AT": "shutdown:120"},
    )
    try:
        _wait_for(lambda: (output / ".paused-shutdown").exists(), 150, "the shutdown phase")
        assert _status(output) == "DONE"  # recorded before the signal
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err, err
    assert [line for line in err.splitlines() if "SIGTERM" in line] == [
        "nni2ray: SIGTERM received: stopping, ending every running trial (SIGTERM again to abort)"
    ]
    meta = json.loads((output / "experiment.json").read_text())
    assert (meta["status"], meta["stopReason"]) == ("STOPPED", "SIGTERM")
    assert "wallTime" in meta
    exported = json.loads((output / "export.json").read_text())
    assert [r["status"] for r in exported] == ["SUCCEEDED", "SUCCEEDED"]
    _assert_nothing_left(marker)


#: A trial whose daemon double-forks, leaves the session and clears its environment (no
#: marker, no NNI_SYS_DIR: only its pid, written to a file, finds it).
DETACHING_TRIAL = textwrap.dedent(
    """
    import os, sys, time
    import nni

    params = nni.get_next_parameter()
    pidfile = os.path.join(os.environ["NNI_OUTPUT_DIR"], "daemon.pid")
    daemon = (
        "import os, time; "
        f"open({pidfile!r} + '.tmp', 'w').write(str(os.getpid())); "
        f"os.rename({pidfile!r} + '.tmp', {pidfile!r}); time.sleep(600)"
    )
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execve(sys.executable, [sys.executable, "-c", daemon], {})
        os._exit(0)
    os.wait()
    while not os.path.exists(pidfile):
        time.sleep(0.01)
    nni.report_final_result(params["x"])
    """
)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] not in "ZX"
    except (OSError, IndexError):
        return False


def test_a_detached_daemon_with_a_cleared_environment_ends_with_its_trial(
    tmp_path: Path,
) -> None:
    marker = uuid.uuid4().hex
    output = tmp_path / "out"
    proc = _start(tmp_path, marker, "--max-trials", "3", trial=DETACHING_TRIAL)
    try:
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    daemons = [int(p.read_text()) for p in output.glob("trials/*/daemon.pid")]
    left = [pid for pid in daemons if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert len(daemons) == 3
    assert left == [], f"{len(left)} detached daemon(s) outlived the run"
    _assert_nothing_left(marker)
