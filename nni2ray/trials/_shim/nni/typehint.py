"""Type aliases that NNI-style tuners and trials import from ``nni.typehint``."""

from __future__ import annotations

# typing.Dict/List keep these runtime aliases valid on Python 3.8.
from typing import Any, Dict, List, Literal, TypedDict  # noqa: UP035

Parameters = Dict[str, Any]  # noqa: UP006
TrialMetric = float


class _ParameterSearchSpace(TypedDict):
    _type: str
    _value: List[Any]  # noqa: UP006


SearchSpace = Dict[str, _ParameterSearchSpace]  # noqa: UP006


class TrialRecord(TypedDict):
    parameter: Parameters
    value: TrialMetric


class ParameterRecord(TypedDict):
    parameter_id: Any
    parameters: Parameters


__all__ = [
    "Literal",
    "ParameterRecord",
    "Parameters",
    "SearchSpace",
    "TrialMetric",
    "TrialRecord",
    "TypedDict",
]
