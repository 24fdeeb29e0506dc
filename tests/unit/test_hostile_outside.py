"""Hostile input, files outside the experiment: named, never echoed, never copied by default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nni2ray.cli import main

SHADOW = "root:$6$SHADOWHASH-71ab:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"
DOTENV = "DATABASE_URL: postgres://app:DOTENVPW-33c1@db/prod\nSECRET_KEY: DOTENVKEY-9e0f\n"
SPACE = {"lr": {"_type": "uniform", "_value": [0, 1]}}


def _experiment(tmp_path: Path, **fields: object) -> Path:
    exp = tmp_path / "exp"
    exp.mkdir()
    config = {
        "searchSpaceFile": "space.json",
        "trialCommand": "python3 trial.py",
        "trialCodeDirectory": ".",
        "trialConcurrency": 1,
        "maxTrialNumber": 1,
        "tuner": {"name": "Random"},
        "trainingService": {"platform": "local"},
        **fields,
    }
    (exp / "config.yml").write_text(json.dumps(config))
    (exp / "space.json").write_text(json.dumps(SPACE))
    (exp / "trial.py").write_text("import nni\nnni.report_final_result(0.5)\n")
    return exp


@pytest.mark.parametrize(
    ("name", "content", "planted"),
    [
        ("shadow", SHADOW, ("SHADOWHASH-71ab", "daemon")),
        (".env", DOTENV, ("DOTENVPW-33c1", "DOTENVKEY-9e0f", "DATABASE_URL")),
    ],
)
@pytest.mark.parametrize("json_output", [False, True])
def test_a_search_space_file_outside_is_named_not_echoed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str,
    planted: tuple[str, ...],
    json_output: bool,
) -> None:
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    (elsewhere / name).write_text(content)
    exp = _experiment(tmp_path, searchSpaceFile=str(elsewhere / name))
    assert main(["check", *(["--json"] if json_output else []), str(exp)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert str(elsewhere / name) in err and "content is not shown" in err
    for value in planted:
        assert value not in err


def test_a_search_space_file_inside_still_gets_located_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = _experiment(tmp_path)
    (exp / "space.json").write_text(json.dumps({"lr": {"_type": "uniform", "_value": [1]}}))
    assert main(["check", str(exp)]) == 1
    assert "lr" in capsys.readouterr().err


def test_a_code_directory_outside_is_a_warning_in_check_and_refused_by_convert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "system"
    outside.mkdir()
    (outside / "shadow").write_text(SHADOW)
    (outside / "trial.py").write_text("print(1)\n")
    depth = "../" * 12
    exp = _experiment(tmp_path, trialCodeDirectory=depth + str(outside).lstrip("/"))
    assert main(["check", str(exp)]) == 0
    out, err = capsys.readouterr()
    assert f"code directory: {outside}" in out
    assert "is outside the experiment folder" in err and "--allow-outside" in err
    dest = tmp_path / "out"
    assert main(["convert", str(exp), "-o", str(dest)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "trialCodeDirectory" in err and "--allow-outside" in err
    assert not dest.exists()
    assert main(["convert", str(exp), "-o", str(dest), "--allow-outside"]) == 0
    assert (dest / "shadow").read_text() == SHADOW  # the user asked for it


def test_convert_refuses_a_search_space_file_outside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "shared.json").write_text(json.dumps(SPACE))
    exp = _experiment(tmp_path, searchSpaceFile="../shared.json")
    dest = tmp_path / "out"
    assert main(["convert", str(exp), "-o", str(dest)]) == 1
    assert "searchSpaceFile" in capsys.readouterr().err and not dest.exists()
    assert main(["convert", str(exp), "-o", str(dest), "--allow-outside"]) == 0


def test_a_custom_tuner_keeps_an_outside_file_without_printing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    (elsewhere / "shadow").write_text(SHADOW)
    tuner = {"className": "my_tuner.MyTuner", "codeDirectory": "."}
    exp = _experiment(tmp_path, searchSpaceFile=str(elsewhere / "shadow"), tuner=tuner)
    # A tuner `run` accepts (check, as run, refuses a class without NNI's Tuner methods).
    (exp / "my_tuner.py").write_text(
        "class MyTuner:\n    def generate_parameters(self, parameter_id, **info):\n"
        "        return {}\n"
    )
    for args in (["check"], ["check", "--json"]):
        assert main([*args, str(exp)]) == 0
        out, err = capsys.readouterr()
        assert "SHADOWHASH-71ab" not in out + err and "daemon" not in out + err
        assert str(elsewhere / "shadow") in out
