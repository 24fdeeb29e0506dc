"""Hostile input, resource limits: the CLI as a child process under a memory limit and a
timeout refuses bombs fast, in one line naming the limit, and writes nothing beside them."""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.unit.test_nni_import import TRIALS, build_nni_experiment

REPO = Path(__file__).resolve().parents[2]
#: Address space the child may map: enough for Python, PyYAML and jsonschema, far from
#: what expanding a bomb needs.
MEMORY_LIMIT = 512 * 1024 * 1024
#: Each refusal must come well inside this (seconds, on a loaded 2-core machine).
TIME_LIMIT = 30

HEAD = (
    "searchSpaceFile: space.json\ntrialCommand: python3 trial.py\ntrialConcurrency: 1\n"
    "tuner: {name: Random}\ntrainingService: {platform: local}\n"
)


@dataclass
class Result:
    code: int
    out: str
    err: str
    seconds: float


def nni2ray(*args: str, cwd: Path) -> Result:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "nni2ray", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=TIME_LIMIT * 2,
    )
    return Result(done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def _one_line_refusal(result: Result, *needles: str) -> None:
    assert result.code == 1, result.err
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nni2ray: error: "), result.err
    assert "Traceback" not in result.err and "MemoryError" not in result.err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.seconds < TIME_LIMIT


def _experiment(tmp_path: Path, extra: str = "") -> Path:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "config.yml").write_text(HEAD + extra)
    (exp / "space.json").write_text(json.dumps({"x": {"_type": "uniform", "_value": [0, 1]}}))
    (exp / "trial.py").write_text("print(1)\n")
    return exp


def _string_bomb(levels: int = 8, width: int = 10, text: int = 1000) -> str:
    lines = [f'b0: &a0 "{"X" * text}"']
    for level in range(1, levels + 1):
        lines.append(f"b{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + f"\nexperimentName: *a{levels}\n"


@pytest.mark.parametrize(
    "args", [["check"], ["check", "--json"], ["convert", "-o", "OUT"]], ids=lambda a: a[-1]
)
def test_a_10kb_string_alias_bomb_is_refused_fast_with_little_memory(
    tmp_path: Path, args: list[str]
) -> None:
    bomb = _string_bomb()  # 1.5 KB expanding to 100 GB of text
    assert len(bomb) < 10_000
    exp = _experiment(tmp_path, bomb)
    command = [part.replace("OUT", str(tmp_path / "out")) for part in args]
    result = nni2ray(command[0], str(exp), *command[1:], cwd=tmp_path)
    _one_line_refusal(result, "config.yml", "67,108,864 bytes of text, counting YAML aliases")
    assert not (tmp_path / "out").exists()


def test_a_value_count_bomb_names_the_value_limit(tmp_path: Path) -> None:
    exp = _experiment(tmp_path, _string_bomb(levels=7, width=10, text=1))
    _one_line_refusal(nni2ray("check", str(exp), cwd=tmp_path), "1,000,000 values")


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    exp = _experiment(tmp_path, "experimentName: &a [1, *a]\n")
    _one_line_refusal(nni2ray("check", str(exp), cwd=tmp_path), "refers to itself")


def test_a_huge_search_space_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    exp = _experiment(tmp_path)
    with open(exp / "space.json", "wb") as handle:  # sparse: 200 MB that costs no disk
        handle.truncate(200 * 1024 * 1024)
    result = nni2ray("check", str(exp), cwd=tmp_path)
    _one_line_refusal(result, "space.json", "limit of 33,554,432 bytes")
    assert result.seconds < 10


def test_a_search_space_over_the_parameter_limit_names_it(tmp_path: Path) -> None:
    exp = _experiment(tmp_path)
    space = {f"p{i}": {"_type": "uniform", "_value": [0, 1]} for i in range(20_001)}
    (exp / "space.json").write_text(json.dumps(space))
    _one_line_refusal(
        nni2ray("check", str(exp), cwd=tmp_path), "20,001 parameters; the limit is 20,000"
    )


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def test_a_recursive_view_database_is_refused_without_temp_files(tmp_path: Path) -> None:
    folder = build_nni_experiment(tmp_path / "nni", TRIALS)
    db = sqlite3.connect(folder / "db" / "nni.sqlite")
    db.executescript(
        "DROP TABLE MetricData;"
        "CREATE VIEW MetricData AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
        "FROM r) SELECT n AS timestamp, 'AyZZQ' AS trialJobId, '0' AS parameterId, "
        "'PERIODICAL' AS type, n AS sequence, '\"0.5\"' AS data FROM r ORDER BY n DESC;"
    )
    db.close()
    before = _listing(tmp_path)
    result = nni2ray("import", str(folder), "--output", str(tmp_path / "out"), cwd=tmp_path)
    _one_line_refusal(result, "MetricData is a view, not a plain table")
    assert _listing(tmp_path) == before


def test_a_wal_database_is_imported_without_files_beside_it(tmp_path: Path) -> None:
    folder = build_nni_experiment(tmp_path / "nni", TRIALS)
    db = sqlite3.connect(folder / "db" / "nni.sqlite")
    assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    db.close()
    before = _listing(folder)
    result = nni2ray("import", str(folder), "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert result.code == 0, result.err
    assert _listing(folder) == before  # no -wal, no -shm, nothing touched
    assert len(list((tmp_path / "out" / "trials").iterdir())) == len(TRIALS)
