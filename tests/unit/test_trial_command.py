"""One reading of NNI's trialCommand, shared by warm starts and convert's launcher."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from nni2ray.convert.launcher._command import parse_trial_command
from nni2ray.trials import PythonCall, parse_command, python_call, split_command


@pytest.mark.parametrize(
    ("command", "env", "call"),
    [
        ("python3 train.py --lr 0.1", {}, PythonCall("python3", "train.py", None, ("--lr", "0.1"))),
        ("A=1 B='x y' python t.py", {"A": "1", "B": "x y"}, PythonCall("python", "t.py", None)),
        ("python -u -m pkg.main 3", {}, PythonCall("python", None, "pkg.main", ("3",), True)),
        (
            "/usr/bin/python3.11 -u t.py",
            {},
            PythonCall("/usr/bin/python3.11", "t.py", None, (), True),
        ),
        ("python -m", {}, None),
        ("python run", {}, None),
        ("bash run.sh", {}, None),
        ("pythonista t.py", {}, None),
    ],
)
def test_python_call(command: str, env: dict[str, str], call: PythonCall | None) -> None:
    assigned, words = split_command(command)
    assert assigned == env
    assert python_call(words) == call


def test_target_keeps_the_module_flag() -> None:
    assert PythonCall("python", None, "m", ("a",)).target == ("-m", "m", "a")
    assert PythonCall("python", "s.py", None, ("a",)).target == ("s.py", "a")


def test_unclosed_quote_is_refused_by_both_callers(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        split_command("python 't.py")
    assert parse_command("python 't.py", os.environ["PATH"], tmp_path) is None
    assert "does not parse" in parse_trial_command("python 't.py", tmp_path).reason


def test_both_callers_read_the_same_command(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("")
    python = Path(sys.executable)
    path = os.pathsep.join([str(python.parent), os.environ["PATH"]])
    command = f"SEED=3 {python.name} -u t.py --x 1"
    warm = parse_command(command, path, tmp_path)
    assert warm is not None
    assert (warm.argv, warm.env, warm.unbuffered) == (("t.py", "--x", "1"), (("SEED", "3"),), True)
    launch = parse_trial_command(command, tmp_path)
    assert (launch.argv, launch.prefix_env, launch.flags, launch.exact) == (
        ("t.py", "--x", "1"),
        {"SEED": "3"},
        ("-u",),
        True,
    )
