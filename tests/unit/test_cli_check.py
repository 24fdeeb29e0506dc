"""``nni2ray check``: summary on stdout, warnings on stderr, JSON, exit codes, no Ray import."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nni2ray.cli import _check, print_error
from nni2ray.errors import Nni2RayError

REPO = Path(__file__).resolve().parents[2]


def check(argv: list[str]) -> int:
    """``nni2ray check`` exactly as ``nni2ray.cli.main`` runs it, without the other commands."""
    parser = argparse.ArgumentParser(prog="nni2ray")
    _check.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except Nni2RayError as exc:
        print_error(exc)
        return 1


def test_summary(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(["check", "fixtures/experiments/nested_choice"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    for expected in [
        "experiment: digits_mlp_nested_optimizer",
        "config file: fixtures/experiments/nested_choice/config.yml (NNI config v2)",
        "trial command: python3 main.py",
        "code directory: fixtures/experiments/nested_choice",
        "max experiment duration: 600 s (10m)",
        "max trial duration: unlimited",
        "tuner: TPE",
        "  optimize mode: maximize",
        "  optimizer: nested choice of 3",
        "    _name 'sgd':",
        "      lr: loguniform [0.0001, 0.1]",
    ]:
        assert expected in lines


def test_default_optimize_mode_is_shown(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(["check", "fixtures/experiments/hyperband_advisor"]) == 0
    assert "advisor: Hyperband" in capsys.readouterr().out.splitlines()


def test_warnings_go_to_stderr(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(["check", "fixtures/experiments/legacy_v1"]) == 0
    out, err = capsys.readouterr()
    assert "(NNI config v1)" in out
    assert err.splitlines() == [
        "nni2ray: warning: fixtures/experiments/legacy_v1/config.yml:1: authorName: "
        "a v1 field that NNI no longer supports; ignored",
        "nni2ray: warning: fixtures/experiments/legacy_v1/config.yml:6: maxTrialDuration: "
        "NNI 3.0 drops v1 maxTrialDuration silently; nni2ray honours it",
    ]


def test_config_option(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(["check", "fixtures/experiments/multi_config", "--config", "config_tpe"]) == 0
    assert "tuner: TPE" in capsys.readouterr().out


def test_json(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(["check", "fixtures/experiments/remote_platform", "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["platform"] == "remote"
    assert data["trial"]["command"] == "python3 main.py"
    assert data["config_file"] == str(REPO / "fixtures/experiments/remote_platform/config.yml")
    assert [p["name"] for p in data["search_space"]["parameters"]]
    assert "hunter2" not in out + err
    assert "--address" in err


def test_error_exit_code(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(["check", "fixtures/experiments/multi_config"]) == 1
    assert capsys.readouterr().err.startswith("nni2ray: error: fixtures/experiments/multi_config:")


def test_real_main(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nni2ray.cli import main

    code = main(["check", "fixtures/invalid/unknown_tuner"])
    assert code == 1
    expected = (REPO / "fixtures/invalid/unknown_tuner/expected_error.txt").read_text()
    assert capsys.readouterr().err == expected


def test_check_does_not_import_ray() -> None:
    code = (
        "import sys, nni2ray.cli as cli\n"
        "from nni2ray.cli import _check\n"
        "import argparse\n"
        "p = argparse.ArgumentParser(); _check.add_parser(p.add_subparsers())\n"
        "a = p.parse_args(['check', 'fixtures/experiments/digits_sklearn_v2'])\n"
        "assert a.handler(a) == 0\n"
        "assert 'ray' not in sys.modules, 'ray imported'\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("ok\n")


def test_full_cli_check_does_not_import_ray() -> None:
    code = (
        "import sys\n"
        "from nni2ray.cli import main\n"
        "code = main(['check', 'fixtures/experiments/digits_sklearn_v2'])\n"
        "assert code == 0\n"
        "assert 'ray' not in sys.modules, 'ray imported'\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("ok\n")


def test_check_says_what_run_uses_and_which_packages_are_there(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = "fixtures/experiments/nested_choice"
    assert check(["check", folder, "--algorithm-backend", "native"]) == 0
    lines = capsys.readouterr().out.splitlines()
    runs = lines[lines.index("runs as:") + 1 :]
    assert runs[0].startswith("  tuner TPE: Optuna's TPESampler with a constant liar")
    assert runs[0].endswith("optuna installed")
    assert runs[1].startswith("  assessor (none: nni2ray's default): asha scheduler")


def test_a_missing_package_is_named_with_its_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nni2ray.translate import (
        SchedulerCall,
        SchedulerKind,
        SearcherCall,
        SearcherKind,
        TunePlan,
        runs_as,
    )
    from nni2ray.translate.tuners import packages

    monkeypatch.setattr(packages, "installed", lambda name: name != "torch")
    plan = TunePlan(
        "x", "max", {}, SearcherCall(SearcherKind.GP, "GP"), SchedulerCall(SchedulerKind.FIFO)
    )
    line = runs_as(plan)[1]
    assert "optuna installed, torch MISSING, scipy installed" in line
    assert "(pip install 'nni2ray[optuna] torch')" in line
