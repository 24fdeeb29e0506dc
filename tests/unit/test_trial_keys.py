"""The names and rules of a trial's results: metric types, statuses, the tuned number."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from nni2ray.trials import FINAL, PERIODICAL, MetricType, ResultKey, TrialStatus, finite_scalar
from nni2ray.trials._shim.nni import _wire, utils

HUGE = 10**400

# value -> (scalar_of, finite_scalar)
SCALARS: list[tuple[Any, float | None, float | None]] = [
    (3, 3.0, 3.0),
    (-0.5, -0.5, -0.5),
    (True, None, None),
    (False, None, None),
    ({"default": 0.25, "loss": 1}, 0.25, 0.25),
    ({"default": 7}, 7.0, 7.0),
    ({"default": True}, None, None),
    ({"loss": 1.0}, None, None),
    ({"default": "0.5"}, None, None),
    (math.inf, math.inf, None),
    (-math.inf, -math.inf, None),
    ({"default": -math.inf}, -math.inf, None),
    (HUGE, None, None),  # beyond float range: recorded as reported, no tuned number
    (-HUGE, None, None),
    ("0.5", None, None),
    (None, None, None),
    ([0.5], None, None),
]


@pytest.mark.parametrize(("value", "scalar", "finite"), SCALARS)
def test_scalar_rule(value: Any, scalar: float | None, finite: float | None) -> None:
    assert _wire.scalar_of(value) == scalar
    assert finite_scalar(value) == finite


@pytest.mark.parametrize("value", [math.nan, {"default": math.nan}])
def test_nan_is_a_number_but_not_finite(value: Any) -> None:
    scalar = _wire.scalar_of(value)
    assert scalar is not None and math.isnan(scalar)
    assert finite_scalar(value) is None


def test_metric_types_are_the_wire_names() -> None:
    assert (MetricType.PERIODICAL, MetricType.FINAL) == _wire.MESSAGE_TYPES
    assert (PERIODICAL, FINAL) == (utils.MetricType.PERIODICAL, utils.MetricType.FINAL)
    assert ResultKey.METRIC == _wire.DEFAULT_KEY == "default"


def test_statuses_are_written_as_nni_spells_them() -> None:
    row = {ResultKey.STATUS: TrialStatus.EARLY_STOPPED, ResultKey.TYPE: MetricType.END}
    assert json.loads(json.dumps(row)) == {"nni_status": "EARLY_STOPPED", "nni_type": "END"}
    assert f"{TrialStatus.USER_CANCELED}" == "USER_CANCELED"
