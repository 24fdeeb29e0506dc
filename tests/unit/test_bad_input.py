"""Malformed and hostile input: configs, search spaces and NNI databases, generated here.

Each case must give exactly one ``nni2ray: error:`` line, exit 1 and write nothing: not in
the input folder, not an output folder. Binary files are generated rather than committed.
"""

from __future__ import annotations

import errno
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from nni2ray.cli import main
from tests.unit.test_nni_import import TRIALS, build_nni_experiment

SPACE = '{"x": {"_type": "uniform", "_value": [0, 1]}}\n'
CONFIG = (
    "searchSpaceFile: search_space.json\n"
    "trialCommand: python3 trial.py\n"
    "trialConcurrency: 2\n"
    "maxTrialNumber: 4\n"
    "tuner: {name: Random, classArgs: {optimize_mode: maximize}}\n"
    "trainingService: {platform: local}\n"
)
GARBAGE = bytes((i * 37 + 11) % 256 for i in range(2048))


def _laughs() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return CONFIG + "\n".join(lines) + "\n"


def _with(key: str, value: str) -> str:
    return "\n".join(
        f"{key}: {value}" if line.startswith(f"{key}:") else line for line in CONFIG.splitlines()
    )


#: name -> (config.yml, search_space.json); bytes are written as they are.
CONFIG_CASES: dict[str, tuple[str | bytes, str | bytes]] = {
    "config-binary-garbage": (GARBAGE, SPACE),
    "config-nul-bytes": (CONFIG.replace("python3", "py\x00thon3"), SPACE),
    "config-utf16": (CONFIG.encode("utf-16"), SPACE),
    "config-truncated-in-flow-mapping": (CONFIG[: CONFIG.index("Random") + 3], SPACE),
    "config-truncated-before-tuner": (CONFIG[: CONFIG.index("tuner")], SPACE),
    "config-truncated-in-quoted-string": (CONFIG + 'experimentName: "unfinished', SPACE),
    "config-huge-integer": (_with("maxTrialNumber", "9" * 5000), SPACE),
    "config-huge-float": (_with("maxTrialNumber", "1e400"), SPACE),
    "config-negative-huge": (_with("trialConcurrency", "-1e308"), SPACE),
    "config-deep-list": (CONFIG + "x: " + "[" * 5000 + "]" * 5000 + "\n", SPACE),
    "config-deep-map": (CONFIG + "x: " + "{a: " * 150 + "1" + "}" * 150 + "\n", SPACE),
    "config-alias-bomb": (_laughs(), SPACE),
    "config-python-object-apply": (
        CONFIG + 'experimentName: !!python/object/apply:os.system ["touch pwned"]\n',
        SPACE,
    ),
    "config-python-name": (_with("trialCommand", "!!python/name:os.system"), SPACE),
    "config-python-module": (_with("trialCommand", "!!python/module:os"), SPACE),
    "config-binary-tag": (_with("trialCommand", "!!binary aGVsbG8="), SPACE),
    "config-top-level-scalar": ("just a string\n", SPACE),
    "config-concurrency-list": (_with("trialConcurrency", "[1, 2]"), SPACE),
    "config-tuner-number": (_with("tuner", "5"), SPACE),
    "config-command-mapping": (_with("trialCommand", "{run: x}"), SPACE),
    "config-space-file-is-dir": (_with("searchSpaceFile", "/tmp"), SPACE),
    "config-space-file-dev-zero": (_with("searchSpaceFile", "/dev/zero"), SPACE),
    "config-space-file-traversal": (
        _with("searchSpaceFile", "../../../../../../etc/hostname"),
        SPACE,
    ),
    "space-binary-garbage": (CONFIG, b"\x89PNG\r\n\x1a\n" + GARBAGE),
    "space-empty": (CONFIG, ""),
    "space-truncated": (CONFIG, SPACE[:25]),
    "space-deep-nesting": (
        CONFIG,
        '{"x": {"_type": "choice", "_value": ' + "[" * 3000 + "]" * 3000 + "}}",
    ),
    "space-nested-choice-150-deep": (
        CONFIG,
        '{"x": '
        + '{"_type": "choice", "_value": [{"_name": "a", "y": ' * 150
        + '{"_type": "uniform", "_value": [0, 1]}'
        + "}]}" * 150
        + "}",
    ),
    "space-huge-integer": (
        CONFIG,
        '{"x": {"_type": "randint", "_value": [0, ' + "9" * 5000 + "]}}",
    ),
    "space-infinite-bound": (CONFIG, '{"x": {"_type": "uniform", "_value": [0, 1e400]}}'),
    "space-nan-bound": (CONFIG, '{"x": {"_type": "uniform", "_value": [NaN, 1]}}'),
    "space-value-is-string": (CONFIG, '{"x": {"_type": "choice", "_value": "abc"}}'),
    "space-type-is-list": (CONFIG, '{"x": {"_type": ["choice"], "_value": [1]}}'),
    "space-top-level-list": (CONFIG, '[{"_type": "choice", "_value": [1]}]'),
    "space-python-tag": (CONFIG, "x: !!python/object/apply:os.system ['touch pwned']\n"),
}


def _write_case(folder: Path, config: str | bytes, space: str | bytes) -> None:
    folder.mkdir(parents=True)
    for name, data in (("config.yml", config), ("search_space.json", space)):
        if isinstance(data, bytes):
            (folder / name).write_bytes(data)
        else:
            (folder / name).write_text(data)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in folder.rglob("*")
    }


def _assert_one_error(code: int, captured: pytest.CaptureFixture[str]) -> str:
    out, err = captured.readouterr()
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nni2ray: error: "), err
    return lines[0]


@pytest.mark.parametrize("case", sorted(CONFIG_CASES), ids=sorted(CONFIG_CASES))
def test_bad_config_or_space_is_one_error_and_writes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "exp"
    _write_case(folder, *CONFIG_CASES[case])
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    _assert_one_error(main(["check", str(folder)]), capsys)
    out = tmp_path / "out"
    _assert_one_error(main(["run", str(folder), "--output", str(out)]), capsys)
    assert _snapshot(tmp_path) == before  # no output folder, no nni2ray-results, no pwned
    assert not (tmp_path / "pwned").exists()


# --- hostile NNI databases for `nni2ray import` and `run --from-nni` ----------------------


def _db(tmp: Path) -> Path:
    return build_nni_experiment(tmp / "nni", TRIALS[:2]) / "db" / "nni.sqlite"


def _sql(*statements: str, args: tuple = ()) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = _db(tmp)
        db = sqlite3.connect(path)
        for statement in statements:
            db.execute(statement, args) if "?" in statement else db.execute(statement)
        db.commit()
        db.close()
        return path.parent.parent

    return make


def _raw(data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / "nni" / "db").mkdir(parents=True)
        (tmp / "nni" / "db" / "nni.sqlite").write_bytes(data)
        return tmp / "nni"

    return make


def _truncated(tmp: Path) -> Path:
    path = _db(tmp)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path.parent.parent


def _corrupted(tmp: Path) -> Path:
    path = _db(tmp)
    data = bytearray(path.read_bytes())
    data[100:4096] = GARBAGE[: 4096 - 100]
    path.write_bytes(bytes(data))
    return path.parent.parent


def _no_db(tmp: Path) -> Path:
    (tmp / "nni" / "log").mkdir(parents=True)
    return tmp / "nni"


def _db_is_dir(tmp: Path) -> Path:
    (tmp / "nni" / "db" / "nni.sqlite").mkdir(parents=True)
    return tmp / "nni"


EVENT = "INSERT INTO TrialJobEvent VALUES (1, ?, 'RUNNING', NULL, NULL, 9, NULL, NULL)"
METRIC = "INSERT INTO MetricData VALUES (1, 'AyZZQ', '0', 'FINAL', 0, ?)"
DEEP = "[" * 5000 + "]" * 5000

DB_CASES: dict[str, Callable[[Path], Path]] = {
    "db-missing": _no_db,
    "db-is-a-directory": _db_is_dir,
    "db-empty-file": _raw(b""),
    "db-binary-garbage": _raw(GARBAGE),
    "db-magic-then-garbage": _raw(b"SQLite format 3\x00" + GARBAGE),
    "db-truncated": _truncated,
    "db-corrupted-pages": _corrupted,
    "db-no-metric-table": _sql("DROP TABLE MetricData"),
    "db-missing-column": _sql("ALTER TABLE TrialJobEvent DROP COLUMN sequenceId"),
    "db-no-profile-rows": _sql("DELETE FROM ExperimentProfile"),
    "db-params-not-json": _sql("UPDATE ExperimentProfile SET params = '{not json'"),
    "db-params-a-list": _sql("UPDATE ExperimentProfile SET params = '[1, 2]'"),
    "db-params-deep": _sql("UPDATE ExperimentProfile SET params = ?", args=(DEEP,)),
    "db-params-huge-int": _sql("UPDATE ExperimentProfile SET params = ?", args=("9" * 5000,)),
    "db-revision-text": _sql("UPDATE ExperimentProfile SET revision = 'two'"),
    "db-trial-id-traversal": _sql(EVENT, args=("../../../../tmp/evil",)),
    "db-trial-id-absolute": _sql(EVENT, args=("/etc/cron.d/x",)),
    "db-trial-id-dotdot": _sql(EVENT, args=("..",)),
    "db-trial-id-blob": _sql(EVENT, args=(b"\x00\x01blob",)),
    "db-event-unknown": _sql(
        "UPDATE TrialJobEvent SET event = 'EXPLODED' WHERE event = 'SUCCEEDED'"
    ),
    "db-sequence-text": _sql(
        "UPDATE TrialJobEvent SET sequenceId = 'first' WHERE trialJobId != ''"
    ),
    "db-timestamp-huge": _sql("UPDATE TrialJobEvent SET timestamp = 9000000000000000000"),
    "db-record-not-a-parameter-record": _sql(
        "UPDATE TrialJobEvent SET data = '{\"x\": 1}' WHERE event = 'RUNNING'"
    ),
    "db-metric-not-json": _sql(METRIC, args=("not json at all",)),
    "db-metric-inner-not-json": _sql(METRIC, args=('"not json inside"',)),
    "db-metric-deep": _sql(METRIC, args=(json.dumps(DEEP),)),
    "db-metric-type-unknown": _sql("UPDATE MetricData SET type = 'REQUEST_PARAMETER'"),
    "db-metric-blob": _sql(METRIC, args=(b"\xff\xfe",)),
}


@pytest.mark.parametrize("case", sorted(DB_CASES), ids=sorted(DB_CASES))
def test_hostile_database_is_one_error_and_writes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = DB_CASES[case](tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    line = _assert_one_error(main(["import", str(folder), "--output", str(tmp_path / "o")]), capsys)
    assert "Traceback" not in line
    assert _snapshot(tmp_path) == before
    assert not (tmp_path / "tmp" / "evil").exists()


@pytest.mark.parametrize("case", ["db-binary-garbage", "db-trial-id-traversal"])
def test_run_from_hostile_nni_folder_fails_before_writing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nni = DB_CASES[case](tmp_path)
    exp = tmp_path / "exp"
    _write_case(exp, CONFIG, SPACE)
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    code = main(["run", str(exp), "--from-nni", str(nni), "--output", str(tmp_path / "o")])
    _assert_one_error(code, capsys)
    assert _snapshot(tmp_path) == before


# --- names, output folders, secrets -------------------------------------------------------

HOSTILE_NAMES = ["../../etc", "/etc/passwd", "..", ".", "a/../../b", "..\\..\\win", "~root", ""]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=[repr(n) for n in HOSTILE_NAMES])
def test_experiment_names_stay_inside_the_results_folder(name: str, tmp_path: Path) -> None:
    from nni2ray.experiment import load_experiment
    from nni2ray.results import default_output
    from nni2ray.translate import translate

    _write_case(tmp_path / "exp", CONFIG + f"experimentName: {json.dumps(name)}\n", SPACE)
    plan = translate(load_experiment(tmp_path / "exp"))
    base = (tmp_path / "nni2ray-results").resolve()
    assert (
        tmp_path / default_output(plan.name)
    ).resolve().parent == tmp_path.resolve() / "nni2ray-results"
    assert plan.name not in ("", ".", "..") and "/" not in plan.name and "\\" not in plan.name
    assert (base / plan.name).resolve().parent == base


@pytest.mark.parametrize("experiment_id", ["../../x", "/abs", "..", "ok123"])
def test_import_default_output_stays_inside_the_results_folder(experiment_id: str) -> None:
    from nni2ray.cli._import import default_import_output

    path = default_import_output(experiment_id)
    assert path.parent == Path("nni2ray-results") and ".." not in path.name.split("-")[1:2]
    assert "/" not in path.name


def test_unwritable_output_is_an_error_before_any_trial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_case(tmp_path / "exp", CONFIG, SPACE)
    (tmp_path / "exp" / "trial.py").write_text("")  # passes the pre-flight
    (tmp_path / "file").write_text("not a folder")
    code = main(["run", str(tmp_path / "exp"), "--output", str(tmp_path / "file" / "sub")])
    line = _assert_one_error(code, capsys)
    assert "cannot write the output folder" in line


def test_full_disk_is_an_error_before_any_trial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_case(tmp_path / "exp", CONFIG, SPACE)
    (tmp_path / "exp" / "trial.py").write_text("")  # passes the pre-flight

    def full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    code = main(["run", str(tmp_path / "exp"), "--output", str(tmp_path / "out")])
    line = _assert_one_error(code, capsys)
    assert "No space left on device" in line and "free space" in line
    assert not list((tmp_path / "out").rglob("*.json"))


def test_resume_of_a_folder_that_is_no_run_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_case(tmp_path / "exp", CONFIG, SPACE)
    (tmp_path / "exp" / "trial.py").write_text("")  # passes the pre-flight
    monkeypatch.chdir(tmp_path)
    line = _assert_one_error(main(["run", str(tmp_path / "exp"), "--resume"]), capsys)
    assert "no earlier run of 'exp' to resume" in line
    (tmp_path / "empty").mkdir()
    code = main(["run", str(tmp_path / "exp"), "--resume", "--output", str(tmp_path / "empty")])
    assert "not an nni2ray run folder" in _assert_one_error(code, capsys)


def test_secrets_never_reach_the_run_plan(tmp_path: Path) -> None:
    from nni2ray.experiment import load_experiment
    from nni2ray.translate import describe, translate

    remote = CONFIG.replace(
        "trainingService: {platform: local}",
        "trainingService:\n  platform: remote\n  machineList:\n"
        "    - {host: 10.0.0.1, user: bob, password: hunter2-pw, sshKeyFile: /k}\n",
    ).replace("optimize_mode: maximize}", "optimize_mode: maximize, token: tok-secret}")
    _write_case(tmp_path / "exp", remote, SPACE)
    try:
        experiment = load_experiment(tmp_path / "exp")
    except Exception as exc:  # noqa: BLE001 - a refusal must not echo the secret either
        assert "hunter2-pw" not in str(exc) and "tok-secret" not in str(exc)
        return
    text = json.dumps(describe(translate(experiment)), default=str)
    assert "hunter2-pw" not in text and "tok-secret" not in text


def test_corpus_is_large_enough() -> None:
    assert len(CONFIG_CASES) + len(DB_CASES) >= 40
