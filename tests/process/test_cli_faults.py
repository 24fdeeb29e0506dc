"""Small command-line faults, through the real ``python -m nni2ray``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "experiments" / "all_types"


def _nni2ray(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "nni2ray", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        **kwargs,  # type: ignore[call-overload]
    )


def test_a_closed_pipe_ends_quietly() -> None:
    read_fd, write_fd = os.pipe()
    os.close(read_fd)  # `| head` that has already gone
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with os.fdopen(write_fd, "wb") as pipe:
        proc = subprocess.run(
            [sys.executable, "-m", "nni2ray", "check", str(FIXTURE), "--json"],
            stdout=pipe,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
        )
    assert proc.stderr == ""
    assert proc.returncode == 141


def test_bad_flag_values_name_the_flag_not_the_code() -> None:
    for flag, value in [
        ("--max-trials", "x"),
        ("--concurrency", "1.5"),
        ("--gpus-per-trial", "nan"),
        ("--max-retries", "y"),
        ("--seed", "z"),
    ]:
        proc = _nni2ray("run", str(FIXTURE), flag, value)
        assert proc.returncode == 2
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith(f"nni2ray run: error: argument {flag}: must be "), last
        assert "_int" not in last and "_float" not in last and "invalid" not in last


def test_debug_works_after_the_command() -> None:
    proc = _nni2ray("check", "/nonexistent-experiment", "--debug")
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr
    assert "ExperimentNotFoundError" in proc.stderr
    plain = _nni2ray("check", "/nonexistent-experiment")
    assert "Traceback" not in plain.stderr


def test_import_into_a_full_folder_does_not_suggest_resume(tmp_path: Path) -> None:
    from nni2ray.errors import OutputError
    from nni2ray.results import prepare_output

    (tmp_path / "x").write_text("")
    try:
        prepare_output(tmp_path, resumable=False)
    except OutputError as exc:
        assert "--resume" not in str(exc)
        assert "choose a new --output folder" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a non-empty folder was accepted")


def test_an_unreachable_address_fails_fast_naming_it(tmp_path: Path) -> None:
    import time

    start = time.monotonic()
    proc = _nni2ray(
        "run", str(FIXTURE), "--address", "127.0.0.1:9", "--output", str(tmp_path / "out")
    )
    assert time.monotonic() - start < 15
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "nni2ray: error: --address: cannot reach a Ray cluster at 127.0.0.1:9 (connection "
        "refused); start a cluster with `ray start --head` and pass the address it prints "
        "(host:6379), or leave out --address to run on this machine"
    )
    assert not (tmp_path / "out").exists()  # nothing written
