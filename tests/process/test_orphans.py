"""No orphan: a daemon a trial starts that double-forks, leaves the session and clears its
environment (nothing ties it to the trial but ancestry) is ended with the trial, cold or
warm-started, and no zombie is left behind across many trials."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nni2ray.trials import (
    PARAMETERS_KEY,
    SEQUENCE_KEY,
    Template,
    TrialContext,
    TrialRun,
    end_warm_templates,
    heavy_modules,
    parse_command,
    prepare_trial,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")

#: The trial: a daemon by a double fork, `setsid` and an empty environment (os.execve with
#: {}), sleeping 600 s; it writes its pid to a file. The trial waits for the file, reports
#: and then exits, or sleeps on when `stay` is set.
TRIAL = textwrap.dedent(
    """
    import os, sys, time
    import nni

    params = nni.get_next_parameter()
    pidfile = os.path.join(os.environ["NNI_OUTPUT_DIR"], "daemon.pid")
    daemon = (
        "import os, sys, time; "
        f"open({pidfile!r} + '.tmp', 'w').write(str(os.getpid())); "
        f"os.rename({pidfile!r} + '.tmp', {pidfile!r}); "
        f"time.sleep({params['daemon_s']})"
    )
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execve(sys.executable, [sys.executable, "-c", daemon], {})
        os._exit(0)
    os.wait()
    deadline = time.time() + 30
    while not os.path.exists(pidfile) and time.time() < deadline:
        time.sleep(0.01)
    go = os.path.join(os.environ["NNI_OUTPUT_DIR"], "go")  # the test has looked at the daemon
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.01)
    nni.report_final_result(1.0)
    if params["stay"]:
        time.sleep(600)
    """
)


def _state(pid: int) -> str | None:
    """The process's state letter, None once it is gone (reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except (OSError, IndexError):
        return None


def _environ(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[1])


def _zombies_below(parents: set[int]) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _state(int(entry)) == "Z":
            try:
                if _ppid(int(entry)) in parents:
                    found.append(int(entry))
            except (OSError, IndexError):
                continue
    return found


class Trials:
    """Start trials of one experiment folder, cold or forked from one shared template."""

    def __init__(self, tmp_path: Path) -> None:
        self.code = tmp_path / "code"
        self.code.mkdir()
        (self.code / "trial.py").write_text(TRIAL)
        self.out = tmp_path / "out"
        self.template: Template | None = None
        self.runs: list[TrialRun] = []
        self.context = TrialContext(
            experiment_id="orphans",
            command=f"{Path(sys.executable).name} trial.py",
            code_directory=str(self.code),
            output_dir=str(self.out),
            search_space=None,
        )

    def start(
        self, trial_id: str, warm: bool, daemon_s: float = 600, stay: bool = False
    ) -> TrialRun:
        params = {"daemon_s": daemon_s, "stay": stay}
        config = {PARAMETERS_KEY: params, SEQUENCE_KEY: 0}
        spec = prepare_trial(self.context, config, trial_id, None)
        warm_spec = None
        if warm:
            command = parse_command(spec.command, spec.env["PATH"], spec.cwd)
            assert command is not None
            if self.template is None:
                modules = heavy_modules(command, spec.cwd)
                self.template = Template(modules, spec.env, spec.cwd, self.out / "warm.log")
            assert self.template.ready(30)
            warm_spec = (self.template, command)
        run = TrialRun(spec, max_duration_s=60, heartbeat_s=30, warm=warm_spec)
        assert run.process.warm == warm
        self.runs.append(run)
        return run

    def daemon(self, trial_id: str, run: TrialRun, lives: bool = True) -> int:
        pidfile = self.out / "trials" / trial_id / "daemon.pid"
        deadline = time.monotonic() + 30
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        pid = int(pidfile.read_text())
        if lives:
            # Nothing but ancestry ties it to the trial: its own session, no environment.
            assert os.getsid(pid) not in (os.getsid(0), run.process.pid)
            assert b"NNI_SYS_DIR" not in _environ(pid)
            # Its parent exited: it was re-parented to the trial's reaper, not to init.
            assert _ppid(pid) == run.process.pid
        (pidfile.parent / "go").write_text("")  # the trial may end now
        return pid

    def close(self) -> None:
        for run in self.runs:
            run.stop()
        if self.template is not None:
            self.template.close()
            end_warm_templates(self.out, grace_s=0.5)


def _finish(run: TrialRun) -> dict:
    while True:
        result = run.next_result()
        if result.get("done"):
            return result


def _gone_soon(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while _state(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    return _state(pid) is None


@pytest.fixture
def trials(tmp_path: Path):
    made = Trials(tmp_path)
    try:
        yield made
    finally:
        made.close()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, 9)
    except OSError:
        pass


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_a_detached_daemon_ends_when_its_trial_ends(trials: Trials, warm: bool) -> None:
    run = trials.start("t1", warm)
    daemon = trials.daemon("t1", run)
    try:
        assert _finish(run)["nni_status"] == "SUCCEEDED"
        # Ended (and reaped: no zombie) when the trial ended, before Tune ends anything.
        assert _gone_soon(daemon), f"daemon {daemon} outlived its trial: {_state(daemon)}"
        run.stop()
    finally:
        _kill(daemon)


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_a_detached_daemon_ends_when_its_running_trial_is_ended(trials: Trials, warm: bool) -> None:
    run = trials.start("t1", warm, stay=True)
    daemon = trials.daemon("t1", run)
    try:
        started = time.monotonic()
        run.stop()  # an early stop, a reused actor, the end of the run
        assert _state(daemon) is None, f"daemon {daemon} outlived its trial: {_state(daemon)}"
        assert time.monotonic() - started < 5
        assert run.process.returncode == -15  # the trial's own status, passed on
    finally:
        _kill(daemon)


def test_many_trials_leave_no_daemon_and_no_zombie(trials: Trials) -> None:
    daemons = []
    try:
        for n in range(12):
            # Half the daemons exit on their own while their trial still runs.
            lives = n % 2 == 0
            run = trials.start(f"t{n}", warm=n >= 2, daemon_s=600 if lives else 0.0)
            daemons.append(trials.daemon(f"t{n}", run, lives))
            assert _finish(run)["nni_status"] == "SUCCEEDED"
            assert run.process.warm == (n >= 2)
            run.stop()
        assert [pid for pid in daemons if _state(pid) is not None] == []
        assert trials.template is not None and trials.template.pid is not None
        assert _zombies_below({os.getpid(), trials.template.pid}) == []
    finally:
        for pid in daemons:
            _kill(pid)


def test_a_trial_killed_by_a_signal_keeps_its_status_through_the_reaper(
    trials: Trials,
) -> None:
    (trials.code / "trial.py").write_text(
        "import os, signal\nimport nni\nnni.get_next_parameter()\n"
        "os.kill(os.getpid(), signal.SIGSEGV)\n"
    )
    for warm, trial_id in ((False, "cold"), (True, "warm")):
        run = trials.start(trial_id, warm)
        result = _finish(run)
        assert (result["nni_status"], result["nni_exit_code"]) == ("FAILED", -11)
