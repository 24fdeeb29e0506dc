"""Hostile input, secrets: planted credentials never reach a file or stream nni2ray produced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nni2ray.cli import main
from nni2ray.experiment import load_experiment
from nni2ray.secrets import REDACTED, is_secret_key, mask_text, redact
from nni2ray.translate import describe, translate
from tests.unit.test_nni_import import TRIALS, build_nni_experiment

#: Every planted secret value; none may appear in anything nni2ray writes or prints.
PLANTED = ("TOKEN-7f3a", "DBPW-91c2", "URIPW-55e1", "ACCKEY-0d9b", "FLAGPW-a1b2", "ENVTOK-c3d4")

CONFIG = """\
experimentName: leaky
searchSpaceFile: space.json
trialCommand: API_TOKEN=ENVTOK-c3d4 python3 trial.py --db postgres://bob:URIPW-55e1@db/x \
--db-password FLAGPW-a1b2
trialCodeDirectory: .
trialConcurrency: 1
maxTrialNumber: 2
tuner:
  className: my_tuner.MyTuner
  codeDirectory: .
  classArgs:
    optimize_mode: maximize
    api_token: TOKEN-7f3a
    db_password: DBPW-91c2
    dsn: mysql://root:URIPW-55e1@h/db
trainingService:
  platform: local
sharedStorage:
  storageType: AzureBlob
  localMountPoint: /tmp/mnt
  remoteMountPoint: /tmp/mnt
  storageAccountName: myaccount
  storageAccountKey: ACCKEY-0d9b
  containerName: c
"""

TUNER = """\
class MyTuner:
    def __init__(self, optimize_mode="maximize", api_token=None, db_password=None, dsn=None):
        pass

    def generate_parameters(self, parameter_id, **info):
        return {"lr": 0.5}
"""


def _leaky(tmp_path: Path) -> Path:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "config.yml").write_text(CONFIG)
    (exp / "space.json").write_text(json.dumps({"lr": {"_type": "uniform", "_value": [0, 1]}}))
    (exp / "trial.py").write_text(
        "import nni\nnni.report_final_result(nni.get_next_parameter()['lr'])\n"
    )
    (exp / "my_tuner.py").write_text(TUNER)
    return exp


def _no_planted(text: str, where: object) -> None:
    for value in PLANTED:
        assert value not in text, f"{value} leaked into {where}"


def _files_clean(folder: Path, allowed_sources: set[Path] = frozenset()) -> int:  # type: ignore[assignment]
    checked = 0
    for path in folder.rglob("*"):
        if path.is_file() and path not in allowed_sources:
            _no_planted(path.read_bytes().decode("utf-8", "replace"), path)
            checked += 1
    return checked


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgres://u:PW@h/db", "postgres://u:***@h/db"),
        ("redis://:PW@h:6379", "redis://:***@h:6379"),
        ("python t.py --api-key=K1 --lr 0.1", "python t.py --api-key=*** --lr 0.1"),
        (
            "python t.py --db-password 'a b' --tokenizer bert",
            "python t.py --db-password '***' --tokenizer bert",
        ),
        ("HF_TOKEN=abc python t.py", "HF_TOKEN=*** python t.py"),
        ("key AKIAABCDEFGHIJKLMNOP", "key ***"),
        (
            "trainingService.password: must be a string",
            "trainingService.password: must be a string",
        ),
        ("http://example.com/a:b@c", "http://example.com/a:b@c"),
    ],
)
def test_mask_text_masks_credentials_only(text: str, shown: str) -> None:
    assert mask_text(text) == shown


def test_one_key_rule_with_a_stricter_one_for_services_and_class_args() -> None:
    for name in (
        "password",
        "passwd",
        "passphrase",
        "api_token",
        "apiKey",
        "storageAccountKey",
        "client_secret",
        "credentials",
        "accessKey",
        "sasToken",
        "connectionString",
    ):
        assert is_secret_key(name), name
    for name in ("optimize_mode", "keyboard_layout", "tokenizer", "author", "monkey"):
        assert not is_secret_key(name), name
    assert is_secret_key("sshKeyFile", strict=True) and not is_secret_key("sshKeyFile")
    data = {
        "trainingService": {"machineList": [{"host": "h", "sshKeyFile": "/k", "passwd": "p"}]},
        "searchSpace": {"password": {"_type": "choice", "_value": ["kept"]}},
        "tuner": {"classArgs": {"key": "K", "optimize_mode": "maximize"}},
    }
    assert redact(data) == {
        "trainingService": {
            "machineList": [{"host": "h", "sshKeyFile": REDACTED, "passwd": REDACTED}]
        },
        "searchSpace": {"password": {"_type": "choice", "_value": ["kept"]}},
        "tuner": {"classArgs": {"key": REDACTED, "optimize_mode": "maximize"}},
    }


def test_check_and_check_json_mask_every_planted_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = _leaky(tmp_path)
    assert main(["check", str(exp)]) == 0
    out, err = capsys.readouterr()
    _no_planted(out + err, "check")
    assert "classArgs.api_token: '***'" in out
    assert "postgres://bob:***@db/x" in out and "--db-password ***" in out
    assert main(["check", "--json", str(exp)]) == 0
    out, err = capsys.readouterr()
    _no_planted(out + err, "check --json")
    data = json.loads(out)
    assert data["tuner"]["class_args"]["db_password"] == REDACTED
    assert data["tuner"]["class_args"]["optimize_mode"] == "maximize"


def test_experiment_json_plan_masks_custom_class_args(tmp_path: Path) -> None:
    plan = translate(load_experiment(_leaky(tmp_path)))
    assert plan.searcher.kwargs["class_args"]["api_token"] == "TOKEN-7f3a"  # the tuner gets it
    described = json.dumps(describe(plan))  # what the run writes to experiment.json
    _no_planted(described, "experiment.json's plan")
    assert '"api_token": "***"' in described


def test_convert_writes_no_secret_outside_the_copied_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = _leaky(tmp_path)
    out = tmp_path / "out"
    assert main(["convert", str(exp), "-o", str(out)]) == 0
    streams = capsys.readouterr()
    _no_planted(streams.out + streams.err, "convert's output")
    report = (out / "MIGRATION.md").read_text()
    _no_planted(report, "MIGRATION.md")
    assert "postgres://bob:***@db/x" in report
    # The launcher runs the command as written, and the user's own files are copies.
    copies = {out / "config.yml", out / "tune_experiment.py"}
    assert _files_clean(out, copies) >= 1


def test_import_masks_nni_secret_fields_and_uri_passwords(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = {
        "sharedStorage": {"storageType": "AzureBlob", "storageAccountKey": "ACCKEY-0d9b"},
        "trialCommand": "python3 trial.py --db postgres://u:URIPW-55e1@h/db",
        "tuner": {"className": "t.T", "classArgs": {"db_password": "DBPW-91c2", "seed": 1}},
    }
    folder = build_nni_experiment(tmp_path / "e", TRIALS[:2], config_extra=extra)
    out = tmp_path / "out"
    assert main(["import", str(folder), "--output", str(out)]) == 0
    streams = capsys.readouterr()
    _no_planted(streams.out + streams.err, "import's output")
    assert _files_clean(out) >= 3
    config = json.loads((out / "experiment.json").read_text())["config"]
    assert config["sharedStorage"]["storageAccountKey"] == REDACTED
    assert config["trialCommand"] == "python3 trial.py --db postgres://u:***@h/db"
    assert config["tuner"]["classArgs"] == {"db_password": REDACTED, "seed": 1}


def test_errors_never_echo_a_secret_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = _leaky(tmp_path)
    config = (
        (exp / "config.yml")
        .read_text()
        .replace("maxTrialNumber: 2", "maxTrialNumber: postgres://a:URIPW-55e1@h")
    )
    (exp / "config.yml").write_text(
        config.replace("storageAccountKey: ACCKEY-0d9b", "storageAccountKey: [ACCKEY-0d9b]")
    )
    assert main(["check", str(exp)]) == 1
    out, err = capsys.readouterr()
    assert "maxTrialNumber" in err
    _no_planted(out + err, "check's errors")


def test_masking_keeps_markdown_cells_whole() -> None:
    row = "| `python3 t.py --api-key=K1 --db mysql://u:PW@h/d` | exact |"
    assert mask_text(row) == "| `python3 t.py --api-key=*** --db mysql://u:***@h/d` | exact |"
