"""Every folder in fixtures/invalid/ fails ``nni2ray check`` with exactly its expected_error.txt."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from nni2ray.cli import _check, print_error
from nni2ray.errors import Nni2RayError

INVALID = Path(__file__).resolve().parents[2] / "fixtures" / "invalid"
CASES = sorted(p.name for p in INVALID.iterdir() if p.is_dir())


def check(argv: list[str]) -> int:
    """``nni2ray check`` as ``nni2ray.cli.main`` runs it, with only the check command."""
    parser = argparse.ArgumentParser(prog="nni2ray")
    _check.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except Nni2RayError as exc:
        print_error(exc)
        return 1


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in folder.rglob("*")
    }


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES)
def test_invalid_case(
    case: str, in_repo: Path, capsys: pytest.CaptureFixture[str], update_golden: bool
) -> None:
    folder = INVALID / case
    golden = folder / "expected_error.txt"
    before = _snapshot(folder)
    code = check(["check", f"fixtures/invalid/{case}"])
    captured = capsys.readouterr()
    if update_golden:
        golden.write_text(captured.err)
        before = _snapshot(folder)
    assert code == 1
    assert captured.out == ""
    assert captured.err == golden.read_text()
    assert all(line.startswith("nni2ray: error: ") for line in captured.err.splitlines())
    assert _snapshot(folder) == before  # nothing written
