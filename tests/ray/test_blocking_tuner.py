"""A custom tuner whose generate_parameters blocks cannot stall the run: it ends at
--max-duration, and Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.ray.conftest import REPO

TUNER = textwrap.dedent(
    """
    import time
    from nni.tuner import Tuner

    class StuckTuner(Tuner):
        def __init__(self):
            self.calls = 0

        def update_search_space(self, search_space):
            pass

        def generate_parameters(self, parameter_id, **kwargs):
            self.calls += 1
            if self.calls > 1:
                time.sleep(3600)  # a tuner waiting on something that never comes
            return {"x": self.calls}

        def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
            pass
    """
)

CONFIG = """\
searchSpace: {x: {_type: choice, _value: [1, 2]}}
trialCommand: python3 -c "import nni; nni.get_next_parameter(); nni.report_final_result(1)"
trialConcurrency: 1
maxTrialNumber: 4
tuner: {className: stuck_tuner.StuckTuner, codeDirectory: .}
trainingService: {platform: local}
"""


def _start(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "stuck_tuner.py").write_text(TUNER)
    (exp / "config.yml").write_text(CONFIG)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-m", "nni2ray", "run", str(exp), "--output", str(tmp_path / "out")]
        + ["--quiet", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def test_a_blocking_tuner_ends_at_the_max_duration(tmp_path: Path) -> None:
    start = time.monotonic()
    proc = _start(tmp_path, "--max-duration", "15s")
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    took = time.monotonic() - start
    assert proc.returncode == 0, err
    assert "StuckTuner.generate_multiple_parameters did not return within" in err
    assert "1 trials in" in out
    assert took < 60  # Ray's start + 15 s + the end of the run; it hung before


def test_ctrl_c_stops_a_blocking_tuner(tmp_path: Path) -> None:
    proc = _start(tmp_path)
    output = tmp_path / "out"
    deadline = time.monotonic() + 120
    while not list(output.glob("trials/*/trial.json")) and time.monotonic() < deadline:
        time.sleep(0.2)  # the first trial ended: the tuner is now stuck in its second call
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "did not return within" in err
    assert "Traceback" not in err
