"""Golden before/after cases for the convert rewrites, one folder per case in fixtures/convert."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nni2ray.convert import Converted, Failed, convert_source

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "convert"
CASES = sorted(path.name for path in FIXTURES.iterdir() if (path / "before.py").is_file())


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    try:
        option = request.config.getoption("--update-golden", default=False)
    except ValueError:  # the option is registered by tests/conftest.py when it exists
        option = False
    return bool(option) or os.environ.get("NNI2RAY_UPDATE_GOLDEN") == "1"


def _notes_text(notes: tuple[object, ...]) -> str:
    return "".join(f"{note}\n" for note in notes)


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES)
def test_convert_case(case: str, update_golden: bool) -> None:
    folder = FIXTURES / case
    before = (folder / "before.py").read_text()
    result = convert_source(before, filename="before.py")
    assert not isinstance(result, Failed), result
    after, notes_file = folder / "after.py", folder / "notes.txt"
    if update_golden:
        if result.code != before:
            after.write_text(result.code)
        elif after.exists():
            after.unlink()
        if result.notes:
            notes_file.write_text(_notes_text(result.notes))
        elif notes_file.exists():
            notes_file.unlink()
    expected = after.read_text() if after.exists() else before  # no after.py: unchanged
    assert result.code == expected
    assert isinstance(result, Converted) == (result.code != before)
    expected_notes = notes_file.read_text() if notes_file.exists() else ""
    assert _notes_text(result.notes) == expected_notes
    compile(result.code, str(after), "exec")  # the output is valid Python
    again = convert_source(result.code, filename="after.py")
    assert again.code == result.code  # idempotent
    if "import nni" not in expected_notes:  # nni stays only where a note says why
        assert "import nni" not in result.code
        assert "from nni" not in result.code
