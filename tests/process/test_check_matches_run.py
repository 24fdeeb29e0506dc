"""``check`` refuses exactly what ``run`` refuses, with the same line, and ``run`` refuses
it before Ray starts and before anything is written (issue 15, item 8)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

TRIAL = "import nni\nnni.get_next_parameter()\nnni.report_final_result(1)\n"

HEAD = """\
experimentName: refused
searchSpace: {x: {_type: uniform, _value: [0, 1]}}
trialCommand: python3 trial.py
trialConcurrency: 1
maxTrialNumber: 1
trainingService: {platform: local}
"""

CASES = {
    "NetworkMorphism": "tuner: {name: NetworkMorphism, classArgs: {optimize_mode: maximize}}",
    "PPO": "tuner: {name: PPOTuner, classArgs: {optimize_mode: maximize}}",
    "RegularizedEvolution": "tuner: {name: RegularizedEvolutionTuner}",
    "custom-advisor": "advisor: {codeDirectory: ., className: my_advisor.MyAdvisor}",
    "custom-advisor-missing-class": "advisor: {codeDirectory: ., className: my_advisor.Nope}",
    "custom-tuner-not-a-tuner": "tuner: {codeDirectory: ., className: my_advisor.MyAdvisor}",
    "custom-assessor-missing-module": (
        "tuner: {name: Random}\nassessor: {codeDirectory: ., className: absent.Assessor}"
    ),
}

# A custom advisor in NNI's sense: a message dispatcher, no Tuner methods.
ADVISOR = """\
class MyAdvisor:
    def handle_initialize(self, data):
        pass

    def handle_request_trial_jobs(self, data):
        pass
"""


def _nni2ray(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "nni2ray", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("nni2ray: error:")]


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_refuses_what_run_refuses_with_the_same_line(tmp_path: Path, case: str) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(TRIAL)
    (exp / "my_advisor.py").write_text(ADVISOR)
    (exp / "config.yml").write_text(HEAD + CASES[case] + "\n")
    checked = _nni2ray("check", str(exp), cwd=tmp_path)
    ran = _nni2ray("run", str(exp), "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert checked.returncode == 1, checked.stderr
    assert ran.returncode == 1, ran.stderr
    assert len(_error_lines(checked.stderr)) == 1, checked.stderr
    assert _error_lines(checked.stderr) == _error_lines(ran.stderr)
    if "missing-module" not in case:  # a module that fails to import shows its traceback
        assert "Traceback" not in checked.stderr + ran.stderr
    assert "Ray started" not in ran.stdout  # refused before Ray starts
    assert not (tmp_path / "out").exists()  # and before anything is written
