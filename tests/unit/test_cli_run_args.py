"""``nni2ray run``'s own arguments, checked before anything is loaded or Ray is started."""

from __future__ import annotations

import pytest

from nni2ray.cli import main
from nni2ray.errors import ConfigError
from nni2ray.experiment import parse_duration_text

FOLDER = "fixtures/experiments/digits_sklearn_v2"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3600", 3600),
        ("90.5", 91),
        ("1e2", 100),
        ("45s", 45),
        ("30m", 1800),
        ("1.5h", 5400),
        ("2d", 172800),
        ("1 H", 3600),
    ],
)
def test_max_duration_takes_nni_durations_and_plain_seconds(text: str, seconds: int) -> None:
    assert parse_duration_text(text, field="--max-duration") == seconds


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("5x", "bad unit in duration (got '5x')"),
        ("0", "must be longer than 0 seconds (got 0)"),
        ("-3", "must be longer than 0 seconds (got -3)"),
        ("inf", "must be a finite duration (got inf)"),
        ("h", "bad number in duration (got 'h')"),
    ],
)
def test_bad_max_duration_is_one_line_error(
    text: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigError, match="--max-duration"):
        parse_duration_text(text, field="--max-duration")
    assert main(["run", FOLDER, "--max-duration", text]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"nni2ray: error: --max-duration: {reason}; write an integer number")
