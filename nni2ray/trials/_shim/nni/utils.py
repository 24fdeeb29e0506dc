"""NNI's trial helpers: merge tuned parameters into defaults and read scalar rewards."""

from __future__ import annotations

from enum import Enum, unique
from typing import Any

from . import _wire

__all__ = [
    "ClassArgsValidator",
    "OptimizeMode",
    "extract_scalar_history",
    "extract_scalar_reward",
    "merge_parameter",
]


@unique
class OptimizeMode(Enum):
    """Whether a tuner should minimize or maximize the reported metric."""

    Minimize = "minimize"
    Maximize = "maximize"


class MetricType:
    """The metric message types of NNI's wire protocol."""

    FINAL = _wire.FINAL
    PERIODICAL = _wire.PERIODICAL
    REQUEST_PARAMETER = "REQUEST_PARAMETER"


def merge_parameter(base_params: Any, override_params: dict[str, Any] | None) -> Any:
    """Override ``base_params`` (a dict or a Namespace) in place with ``override_params``.

    Returns:
        ``base_params`` itself, updated.

    Raises:
        ValueError: when a key is missing from ``base_params``, or a value's type does not
            fit the base value's (ints are accepted for float bases and become floats).
    """
    if override_params is None:
        return base_params
    is_dict = isinstance(base_params, dict)
    for key, value in override_params.items():
        if is_dict:
            if key not in base_params:
                raise ValueError(f"Key '{key}' not found in base parameters.")
            base_params[key] = _ensure_compatible_type(key, base_params[key], value)
        else:
            if not hasattr(base_params, key):
                raise ValueError(f"Key '{key}' not found in base parameters.")
            value = _ensure_compatible_type(key, getattr(base_params, key), value)
            setattr(base_params, key, value)
    return base_params


def _ensure_compatible_type(key: str, base: Any, override: Any) -> Any:
    if base is None or isinstance(override, type(base)):
        return override
    if isinstance(base, float) and isinstance(override, int):
        return float(override)
    raise ValueError(
        f'Expected "{key}" in override parameters to have type {type(base).__name__}, '
        f"but found {type(override).__name__}"
    )


def extract_scalar_reward(value: Any, scalar_key: str = "default") -> Any:
    """Return ``value`` if it is a number, else ``value[scalar_key]`` if that is a number.

    Raises:
        RuntimeError: for anything else, with NNI's message.
    """
    if isinstance(value, (float, int)):
        return value
    if isinstance(value, dict) and isinstance(value.get(scalar_key), (float, int)):
        return value[scalar_key]
    raise RuntimeError(
        "Incorrect final result: the final result should be float/int, "
        'or a dict which has a key named "default" whose value is float/int.'
    )


def extract_scalar_history(trial_history: list[Any], scalar_key: str = "default") -> list[Any]:
    """Apply :func:`extract_scalar_reward` to every intermediate result of a trial."""
    return [extract_scalar_reward(item, scalar_key) for item in trial_history]


class ClassArgsValidator:
    """NNI's base class for checking a custom tuner's or assessor's ``classArgs``.

    ``validate_class_args`` accepts everything unless a subclass overrides it. ``choices``
    and ``range`` return ``schema`` checks as NNI's do when the ``schema`` package is
    installed (NNI depends on it), else plain predicates.
    """

    def validate_class_args(self, **kwargs: Any) -> None:
        return None

    def choices(self, key: str, *args: Any) -> Any:
        def check(n: Any) -> bool:
            return n in args

        return _schema_and(check, f"{key} should be in [{args}]!")

    def range(self, key: str, keyType: Any, start: Any, end: Any) -> Any:  # noqa: N803
        def check(n: Any) -> bool:
            return isinstance(n, keyType) and start <= n <= end

        return _schema_and(check, f"{key} should be in range of ({start}, {end})!")


def _schema_and(check: Any, error: str) -> Any:
    try:
        from schema import And  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return check
    return And(check, error=error)
