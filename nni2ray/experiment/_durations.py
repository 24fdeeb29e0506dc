"""Parse NNI duration values (``3600``, ``"1h"``, ``"1.5d"``) into whole seconds."""

from __future__ import annotations

import math

from nni2ray.errors import ConfigError

#: Units in the order NNI tries them: the first one the string ends with wins.
UNITS: tuple[tuple[str, int], ...] = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))

ACCEPTED_FORMS = "an integer number of seconds or a number followed by d, h, m or s (30m, 1.5h)"


class DurationError(ValueError):
    """A duration value that NNI would reject; the message says why."""


def parse_duration(value: object) -> int:
    """Convert an NNI duration to seconds, as NNI does (``ceil(number * unit)``).

    Args:
        value: an int (seconds), a float (seconds; NNI rejects it, nni2ray rounds up) or a
            string such as ``"30m"``, ``"1.5h"``, ``"1 H"``, ``"1e2s"``.

    Returns:
        The duration in whole seconds, always > 0.

    Raises:
        DurationError: for a bad unit, an unparsable number, or a value <= 0.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DurationError(f"must be a duration (got {value!r})")
    if isinstance(value, str):
        seconds = _parse_string(value)
    else:
        if not math.isfinite(value):
            raise DurationError(f"must be a finite duration (got {value!r})")
        seconds = math.ceil(value)
    if seconds <= 0:
        raise DurationError(f"must be longer than 0 seconds (got {value!r})")
    return seconds


def parse_duration_text(text: str, *, field: str) -> int:
    """A duration typed on the command line: NNI's forms, or a bare number of seconds (what
    a number means in a config file), such as ``3600``.

    Raises:
        ConfigError: naming ``field``, for a value :func:`parse_duration` refuses.
    """
    try:
        number: float | str = float(text)
    except ValueError:
        number = text
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    try:
        return parse_duration(number)
    except DurationError as exc:
        raise ConfigError(str(exc), field=field, hint=f"write {ACCEPTED_FORMS}") from None


def _parse_string(value: str) -> int:
    text = value.lower()
    for unit, factor in UNITS:
        if text.endswith(unit):
            try:
                number = float(text[: -len(unit)])
            except ValueError:
                raise DurationError(f"bad number in duration (got {value!r})") from None
            if not math.isfinite(number):
                raise DurationError(f"must be a finite duration (got {value!r})")
            return math.ceil(number * factor)
    raise DurationError(f"bad unit in duration (got {value!r})")


def format_seconds(seconds: int) -> str:
    """Write seconds the short way NNI users write them: ``5400`` -> ``1h30m``."""
    parts = []
    rest = seconds
    for unit, factor in UNITS:
        count, rest = divmod(rest, factor)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
