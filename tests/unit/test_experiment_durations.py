"""Duration parsing follows NNI's rule: the first unit of d/h/m/s, rounded up, > 0."""

from __future__ import annotations

import pytest

from nni2ray.experiment._durations import DurationError, format_seconds, parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param("1h", 3600, id="hour"),
        pytest.param("30m", 1800, id="minutes"),
        pytest.param("10s", 10, id="seconds"),
        pytest.param("2d", 172800, id="days"),
        pytest.param("1.5h", 5400, id="fractional-hours"),
        pytest.param("0.5h", 1800, id="half-hour"),
        pytest.param("0.1s", 1, id="ceil-up"),
        pytest.param("1H", 3600, id="upper-case"),
        pytest.param("1 h", 3600, id="inner-space"),
        pytest.param("1e2s", 100, id="exponent"),
        pytest.param(3600, 3600, id="int-seconds"),
        pytest.param(1.5, 2, id="float-seconds-lenient"),
    ],
)
def test_parse_duration(value: object, seconds: int) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("100", "bad unit", id="no-unit"),
        pytest.param("10ms", "bad number", id="ms-ends-with-s"),
        pytest.param("0s", "longer than 0", id="zero"),
        pytest.param(0, "longer than 0", id="zero-int"),
        pytest.param(-5, "longer than 0", id="negative"),
        pytest.param("1 week", "bad unit", id="word-unit"),
        pytest.param(True, "must be a duration", id="bool"),
        pytest.param([1], "must be a duration", id="list"),
        pytest.param(float("inf"), "finite", id="inf"),
        pytest.param("infh", "finite", id="inf-string"),
    ],
)
def test_bad_duration(value: object, message: str) -> None:
    with pytest.raises(DurationError, match=message):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(3600, "1h", id="hour"),
        pytest.param(5400, "1h30m", id="mixed"),
        pytest.param(90061, "1d1h1m1s", id="all-units"),
        pytest.param(0, "0s", id="zero"),
    ],
)
def test_format_seconds(seconds: int, text: str) -> None:
    assert format_seconds(seconds) == text
