"""parse_trial_command: which command forms run in-process, and how; the rest run in a shell."""

from __future__ import annotations

from pathlib import Path

import pytest

from nni2ray.convert.launcher._command import levels_up, parse_trial_command


@pytest.mark.parametrize(
    ("command", "argv", "flags"),
    [
        ("python3 trial.py --a 1", ("trial.py", "--a", "1"), ()),
        ("python3 -u trial.py", ("trial.py",), ("-u",)),
        ("python -W ignore::UserWarning x.py", ("x.py",), ("-W", "ignore::UserWarning")),
        ("python -Werror x.py", ("x.py",), ("-W", "error")),
        ("/usr/bin/python3.11 -m pkg.main --x 2", ("-m", "pkg.main", "--x", "2"), ()),
    ],
)
def test_python_lines_run_in_process(
    command: str, argv: tuple[str, ...], flags: tuple[str, ...], tmp_path: Path
) -> None:
    launch = parse_trial_command(command, tmp_path)
    assert (launch.argv, launch.flags, launch.shell) == (argv, flags, "")
    assert launch.exact


def test_variables_stay_in_the_words_for_the_launcher_to_expand(tmp_path: Path) -> None:
    launch = parse_trial_command(
        "export DATA_DIR=data && A=1 B=${HOME}/x python3 x.py --data ${DATA_DIR}/f", tmp_path
    )
    assert launch.argv == ("x.py", "--data", "${DATA_DIR}/f")  # not expanded at convert time
    assert launch.env == {"DATA_DIR": "data"}
    assert launch.prefix_env == {"A": "1", "B": "${HOME}/x"}


def test_cd_export_and_activation_lines(tmp_path: Path) -> None:
    launch = parse_trial_command(
        "cd src; export A=1 && source env/bin/activate && conda activate base && python x.py",
        tmp_path,
    )
    assert (launch.cwd, launch.env, launch.argv) == ("src", {"A": "1"}, ("x.py",))
    assert not launch.exact and "current environment" in launch.reason


def test_cd_above_the_code_directory_is_counted(tmp_path: Path) -> None:
    launch = parse_trial_command("cd ../.. && python x.py", tmp_path)
    assert levels_up(launch) == 2 and launch.argv == ("x.py",)
    assert levels_up(parse_trial_command("cd a/.. && python x.py", tmp_path)) == 0


def test_wrapper_script_with_one_python_line_is_followed(tmp_path: Path) -> None:
    (tmp_path / "run.sh").write_text(
        "#!/bin/bash\nset -euo pipefail\nexport MODE=wrapped\n"
        'cd sub\necho starting\nexec python3 -u train.py --fixed "$@"\n'
    )
    launch = parse_trial_command("bash run.sh --quick 1", tmp_path)
    assert launch.argv == ("train.py", "--fixed", "--quick", "1")
    assert (launch.env, launch.cwd, launch.flags) == ({"MODE": "wrapped"}, "sub", ("-u",))


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("python -O x.py", "-O"),
        ("python x.py > log.txt", "`>`"),
        ("python x.py | tee log", "`|`"),
        ("nvidia-smi && python x.py", "nvidia-smi"),
        ("python x.py && echo done", "after the Python command"),
        ("python x.py --n $(nproc)", "command substitution"),
        ("echo hi", "no Python command"),
        ("bash missing.sh", "cannot be read"),
    ],
)
def test_everything_else_runs_in_a_shell(command: str, why: str, tmp_path: Path) -> None:
    launch = parse_trial_command(command, tmp_path)
    assert launch.shell == command and not launch.argv
    assert why in launch.reason


def test_wrapper_script_doing_more_than_python_runs_in_a_shell(tmp_path: Path) -> None:
    (tmp_path / "run.sh").write_text("mkdir -p logs\npython3 trial.py\n")
    launch = parse_trial_command("bash run.sh", tmp_path)
    assert launch.shell == "bash run.sh" and "mkdir" in launch.reason
