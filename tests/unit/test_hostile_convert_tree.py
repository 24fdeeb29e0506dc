"""Hostile input, convert: only regular files inside the code directory are copied."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nni2ray.cli import main
from nni2ray.convert._tree import MARKER_NAME

SECRET = "SHADOW-CONTENT-5e2d"


def _experiment(root: Path, code_dir: str = ".") -> Path:
    exp = root / "exp"
    exp.mkdir(parents=True)
    config = {
        "searchSpaceFile": "space.json",
        "trialCommand": "python3 trial.py",
        "trialCodeDirectory": code_dir,
        "trialConcurrency": 1,
        "maxTrialNumber": 1,
        "tuner": {"name": "Random"},
        "trainingService": {"platform": "local"},
    }
    (exp / "config.yml").write_text(json.dumps(config))
    (exp / "space.json").write_text(json.dumps({"lr": {"_type": "uniform", "_value": [0, 1]}}))
    code = exp / code_dir
    code.mkdir(parents=True, exist_ok=True)
    (code / "trial.py").write_text("import nni\nnni.report_final_result(0.5)\n")
    return exp


def _secret_file(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    shadow = tmp_path / "etc" / "shadow"
    shadow.write_text(f"root:{SECRET}:1::\n")
    return shadow


def _all_text(folder: Path) -> str:
    return "".join(
        p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()
    )


def test_symlinks_inside_are_kept_outside_listed_and_not_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shadow = _secret_file(tmp_path)
    exp = _experiment(tmp_path)
    (exp / "data").mkdir()
    (exp / "data" / "x.csv").write_text("1,2\n")
    os.symlink(shadow, exp / "leak.txt")
    os.symlink(tmp_path / "etc", exp / "etc_dir")
    os.symlink("data", exp / "data_link")
    os.symlink("data/x.csv", exp / "x_link.csv")
    out = tmp_path / "out"
    assert main(["convert", str(exp), "-o", str(out)]) == 0
    capsys.readouterr()
    assert SECRET not in _all_text(out)
    assert not (out / "leak.txt").exists() and not (out / "leak.txt").is_symlink()
    assert not (out / "etc_dir").exists()
    assert os.readlink(out / "data_link") == "data"
    assert (out / "x_link.csv").is_symlink() and (out / "x_link.csv").read_text() == "1,2\n"
    report = (out / "MIGRATION.md").read_text()
    assert "`leak.txt`: symlink to" in report and "`etc_dir`: symlink to" in report
    assert (out / "data" / "x.csv").read_text() == "1,2\n"


def test_bad_names_are_listed_escaped_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = _experiment(tmp_path)
    (exp / "evil\n# Injected heading\n.txt").write_text("x")
    os.close(os.open(os.fsencode(exp) + b"/bad-\xff.txt", os.O_CREAT | os.O_WRONLY))
    out = tmp_path / "out"
    assert main(["convert", str(exp), "-o", str(out)]) == 0
    capsys.readouterr()
    report = (out / "MIGRATION.md").read_text()
    assert "\n# Injected heading" not in report
    assert "`evil\\n# Injected heading\\n.txt`: name holds control characters" in report
    assert "`bad-\\xff.txt`: name is not valid UTF-8" in report
    names = os.listdir(os.fsencode(out))
    assert not [n for n in names if b"evil" in n or b"bad-" in n]


def test_force_replaces_only_a_folder_convert_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = _experiment(tmp_path)
    out = tmp_path / "out"
    assert main(["convert", str(exp), "-o", str(out)]) == 0
    assert (out / MARKER_NAME).is_file()
    assert main(["convert", str(exp), "-o", str(out), "--force"]) == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    capsys.readouterr()
    assert main(["convert", str(exp), "-o", str(mine), "--force"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "not written by nni2ray" in err
    assert (mine / "thesis.tex").read_text() == "years of work"


def test_force_never_removes_the_folder_holding_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = _experiment(tmp_path / "a", code_dir="../code")
    (exp / MARKER_NAME).write_text("planted by whoever shared the folder")
    before = sorted(p.name for p in exp.iterdir())
    assert main(["convert", str(exp), "-o", str(exp), "--force", "--allow-outside"]) == 1
    assert "config file" in capsys.readouterr().err
    assert sorted(p.name for p in exp.iterdir()) == before


def test_a_special_file_is_listed_not_copied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = _experiment(tmp_path)
    os.mkfifo(exp / "pipe")
    out = tmp_path / "out"
    assert main(["convert", str(exp), "-o", str(out)]) == 0  # a FIFO would block a copy
    capsys.readouterr()
    assert "`pipe`: not a regular file" in (out / "MIGRATION.md").read_text()
    assert not (out / "pipe").exists()
