"""Pre-flight of trial commands: what would make every trial fail, found before Ray starts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nni2ray.cli import main
from nni2ray.trials import FOREIGN_INTERPRETER_FIX, preflight
from nni2ray.trials._preflight import python_names, with_python
from tests.conftest import EXPERIMENTS


@pytest.fixture
def code(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text("")
    (tmp_path / "run.sh").write_text("")
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "activate").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [
        "python3 train.py --lr 0.1",
        "python train.py",
        "CUDA_VISIBLE_DEVICES=0 python3 -u -W ignore train.py",
        "python3 -m package.main --epochs 3",
        "bash run.sh --quick",
        "cd sub && python3 other.py",
        "source venv/bin/activate && python3 train.py",
        "python3 train.py --out $NNI_OUTPUT_DIR --seed ${SEED:-1} --home $HOME",
        "export DATA=/tmp && python3 train.py --data $DATA",
        "python3 train.py --tag '$NOT_EXPANDED'",
    ],
)
def test_commands_that_run_here(code: Path, command: str) -> None:
    assert preflight(command, code) == []


@pytest.mark.parametrize(
    ("command", "message", "hint"),
    [
        (
            "/home/alice/anaconda3/envs/nni/bin/python train.py",
            "the interpreter /home/alice/anaconda3/envs/nni/bin/python does not exist",
            FOREIGN_INTERPRETER_FIX,
        ),
        (
            r"C:\Users\bob\Anaconda3\python.exe train.py",
            r"the interpreter C:\Users\bob\Anaconda3\python.exe does not exist",
            FOREIGN_INTERPRETER_FIX,
        ),
        ("python3 missing.py", "runs missing.py, which is not in the code directory", "fix"),
        ("python3 /data/alice/train.py", "runs /data/alice/train.py, which is not on this", "fix"),
        ("bash nope.sh", "runs nope.sh, which is not in the code directory", "fix"),
        ("/opt/tools/launch train.py", "runs /opt/tools/launch, which does not exist", "fix"),
        (
            "source /home/alice/venv/bin/activate && python train.py",
            "sources /home/alice/venv/bin/activate, which does not exist",
            "remove the activation",
        ),
        ("python2.9 train.py", "runs python2.9, which is not installed", FOREIGN_INTERPRETER_FIX),
    ],
)
def test_fatal_findings(code: Path, command: str, message: str, hint: str) -> None:
    (finding,) = preflight(command, code)
    assert finding.fatal
    assert finding.message.startswith(message)
    assert finding.hint.startswith(hint)


def test_conda_activate_of_a_missing_environment(
    code: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(code))  # no conda here
    (finding,) = preflight("conda activate tf2 && python3 train.py", code, python=sys.executable)
    assert finding.fatal and "conda environment tf2" in finding.message


def test_unset_variable_is_a_warning(code: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATA_DIR", raising=False)
    (finding,) = preflight("python3 train.py --data ${DATA_DIR}/x --again $DATA_DIR", code)
    assert not finding.fatal
    assert finding.message == "${DATA_DIR} is not set in this environment (bash makes it empty)"


def test_missing_hyperopt_is_found_before_the_run(
    code: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "hyperopt", None)  # find_spec raises for None entries
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    (finding,) = preflight("python3 train.py", code, searcher_kind="hyperopt", tuner_name="TPE")
    assert finding.fatal and finding.field == "tuner.name"
    assert finding.message == "the TPE tuner runs on hyperopt, which is not installed"
    assert finding.hint == "pip install 'nni2ray[hyperopt]'"


def test_python_flag_answers_for_the_foreign_interpreter(code: Path) -> None:
    command = "/home/alice/anaconda3/bin/python train.py && python3.8 train.py"
    assert preflight(command, code, python=sys.executable) == []
    assert with_python(command) == "python3 train.py && python3.8 train.py"
    assert python_names(command) == {"python", "python3", "python3.8"}


def test_check_warns_and_exits_0(capsys: pytest.CaptureFixture[str], in_repo: Path) -> None:
    assert main(["check", "fixtures/experiments/foreign_interpreter"]) == 0
    err = capsys.readouterr().err
    assert err == (
        "nni2ray: warning: fixtures/experiments/foreign_interpreter/config.yml: trialCommand: "
        "the interpreter /home/alice/anaconda3/envs/nni/bin/python does not exist on this "
        "machine (the config was written on another one); replace it with python3, or pass "
        "--python PATH\n"
    )


def test_run_stops_with_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = EXPERIMENTS / "foreign_interpreter"
    assert main(["run", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"nni2ray: error: {folder}/config.yml: trialCommand: the interpreter "
        "/home/alice/anaconda3/envs/nni/bin/python does not exist on this machine (the config "
        "was written on another one); replace it with python3, or pass --python PATH\n"
    )
    assert list(tmp_path.iterdir()) == []  # no nni2ray-results/, nothing else


def test_python_flag_must_exist(capsys: pytest.CaptureFixture[str], in_repo: Path) -> None:
    assert main(["check", "fixtures/experiments/legacy_v1", "--python", "/nope/python9"]) == 1
    assert capsys.readouterr().err == (
        "nni2ray: error: --python: /nope/python9 is not an executable on this machine; give "
        "the path of a Python interpreter, e.g. --python /usr/bin/python3\n"
    )
