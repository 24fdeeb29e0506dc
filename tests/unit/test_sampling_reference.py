"""NNI's sampling formulas as analytic reference distributions (scipy), shared by the tests.

The expected distributions come from NNI's sampling formulas (its ``hpo_utils``, used by
Random and TPE: randint ceils both bounds and excludes the upper one, q-types round ties to
even, uniform q-types clip, normal q-types do not) and scipy's CDFs, never from nni2ray's
code. ``check_distribution`` asserts the value types, the support (bounds, q-multiples,
clipping) and a KS or chi-square goodness of fit.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from scipy import stats

N = 5000
P_MIN = 0.001
SEED = 0


def key(value: Any) -> Any:
    """Hashable identity of a value that keeps its type (``1``, ``1.0`` and ``True`` differ)."""
    if isinstance(value, float):
        return ("float", round(value, 9) + 0.0)
    return (type(value).__name__, json.dumps(value, sort_keys=True))


def quantized(cdf: Callable[[float], float], ks: range, q: float, low: float, high: float):
    """P(value) of clip(round(X / q) * q, low, high); round(X/q) = k iff (k-.5)q <= X <= (k+.5)q."""
    probs: dict[Any, float] = {}
    for k in ks:
        p = cdf((k + 0.5) * q) - cdf((k - 0.5) * q)
        if p > 0:
            value = float(min(max(k * q, low), high))
            probs[key(value)] = probs.get(key(value), 0.0) + p
    return probs


def positions(options: list[Any]) -> dict[Any, float]:
    """Uniform over positions: a value listed twice gets twice the weight."""
    probs: dict[Any, float] = {}
    for option in options:
        probs[key(option)] = probs.get(key(option), 0.0) + 1 / len(options)
    return probs


def _q_uniform(low: float, high: float, q: float) -> dict[Any, float]:
    cdf = stats.uniform(loc=low, scale=high - low).cdf
    return quantized(cdf, range(math.floor(low / q) - 1, math.ceil(high / q) + 2), q, low, high)


def _q_loguniform(low: float, high: float, q: float) -> dict[Any, float]:
    cdf = stats.loguniform(low, high).cdf
    return quantized(cdf, range(math.floor(low / q) - 1, math.ceil(high / q) + 2), q, low, high)


def _q_normal(mu: float, sigma: float, q: float) -> dict[Any, float]:
    ks = range(math.floor((mu - 9 * sigma) / q), math.ceil((mu + 9 * sigma) / q) + 1)
    return quantized(stats.norm(mu, sigma).cdf, ks, q, -math.inf, math.inf)


def _q_lognormal(mu: float, sigma: float, q: float) -> dict[Any, float]:
    ks = range(0, math.ceil(math.exp(mu + 9 * sigma) / q) + 1)
    cdf = stats.lognorm(s=sigma, scale=math.exp(mu)).cdf
    return quantized(cdf, ks, q, -math.inf, math.inf)


@dataclass(frozen=True)
class Case:
    """One ``_type`` spec with its analytic distribution."""

    id: str
    spec: dict[str, Any]
    value_type: type | None  # None: the option's own type (choice)
    probs: dict[Any, float] | None = None  # discrete: key(value) -> probability
    cdf: Callable[[Any], Any] | None = None  # continuous
    bounds: tuple[float, float] = (-math.inf, math.inf)


def _spec(kind: str, *value: Any) -> dict[str, Any]:
    return {"_type": kind, "_value": list(value)}


CASES = [
    Case(
        "choice-scalars",
        _spec("choice", 1, "a", 2.5, 1, True, None),
        None,
        positions([1, "a", 2.5, 1, True, None]),
    ),
    Case(
        "choice-lists-dicts",
        _spec("choice", [1, 2], {"x": 1}, "s"),
        None,
        positions([[1, 2], {"x": 1}, "s"]),
    ),
    Case("randint-2-5", _spec("randint", 2, 5), int, {key(v): 1 / 3 for v in (2, 3, 4)}),
    Case("randint-ceil-upper", _spec("randint", 0, 5.5), int, {key(v): 1 / 6 for v in range(6)}),
    Case("randint-ceil-lower", _spec("randint", 1.2, 3), int, {key(2): 1.0}),
    Case(
        "uniform",
        _spec("uniform", 0.1, 0.5),
        float,
        cdf=stats.uniform(loc=0.1, scale=0.4).cdf,
        bounds=(0.1, 0.5),
    ),
    Case("quniform-clipped-bounds", _spec("quniform", 2, 10, 5), float, _q_uniform(2, 10, 5)),
    Case("quniform-fractional-q", _spec("quniform", 0, 10, 2.5), float, _q_uniform(0, 10, 2.5)),
    Case("quniform-float-bounds", _spec("quniform", 0.1, 1, 0.3), float, _q_uniform(0.1, 1, 0.3)),
    Case(
        "loguniform",
        _spec("loguniform", 1e-4, 1e-1),
        float,
        cdf=stats.loguniform(1e-4, 1e-1).cdf,
        bounds=(1e-4, 1e-1),
    ),
    Case("qloguniform", _spec("qloguniform", 1, 100, 10), float, _q_loguniform(1, 100, 10)),
    Case("normal", _spec("normal", 0, 1), float, cdf=stats.norm(0, 1).cdf),
    Case("normal-shifted", _spec("normal", 5, 2), float, cdf=stats.norm(5, 2).cdf),
    Case("qnormal", _spec("qnormal", 0, 1, 0.5), float, _q_normal(0, 1, 0.5)),
    Case(
        "lognormal",
        _spec("lognormal", 0, 1),
        float,
        cdf=stats.lognorm(s=1, scale=1).cdf,
        bounds=(0, math.inf),
    ),
    Case("qlognormal", _spec("qlognormal", 0, 1, 1), float, _q_lognormal(0, 1, 1)),
]


def case_params() -> list[Any]:
    return [pytest.param(case, id=case.id) for case in CASES]


def check_distribution(case: Case, values: list[Any]) -> None:
    """Assert types, support and goodness of fit of ``values`` against ``case``."""
    assert len(values) == N
    if case.value_type is not None:
        assert {type(value) for value in values} == {case.value_type}
    if case.probs is not None:
        assert_chisquare(values, case.probs)
        return
    assert case.cdf is not None
    assert all(case.bounds[0] <= value <= case.bounds[1] for value in values)
    assert stats.kstest(values, case.cdf).pvalue > P_MIN


def assert_chisquare(values: list[Any], probs: dict[Any, float]) -> None:
    counts = Counter(key(value) for value in values)
    assert set(counts) <= set(probs), f"values outside the support: {set(counts) - set(probs)}"
    big = sorted((k for k in probs if probs[k] * N >= 5), key=str)
    small = [k for k in probs if k not in big]
    observed = [counts[k] for k in big]
    expected = [probs[k] * N for k in big]
    if small:  # pool rare values so every bin expects at least about 5
        observed.append(sum(counts[k] for k in small))
        expected.append(sum(probs[k] for k in small) * N)
    if len(observed) == 1:
        return  # one possible value: the support check above is the whole test
    scale = sum(observed) / sum(expected)
    result = stats.chisquare(observed, [e * scale for e in expected])
    assert result.pvalue > P_MIN, (observed, expected)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param((2, 10, 5), {2.0: 1 / 16, 5.0: 10 / 16, 10.0: 5 / 16}, id="quniform-2-10-5"),
        pytest.param(
            (0, 10, 2.5),
            {0.0: 1 / 8, 2.5: 1 / 4, 5.0: 1 / 4, 7.5: 1 / 4, 10.0: 1 / 8},
            id="quniform-0-10-2.5",
        ),
    ],
)
def test_reference_quniform_matches_hand_computed_table(spec, expected) -> None:
    probs = _q_uniform(*spec)
    assert probs == pytest.approx({key(v): p for v, p in expected.items()})


def test_reference_probabilities_sum_to_one() -> None:
    for case in CASES:
        if case.probs is not None:
            assert sum(case.probs.values()) == pytest.approx(1.0, abs=1e-9), case.id


def test_reference_qlognormal_zero_mass() -> None:
    # 0 comes from exp(N) < q / 2; NNI 3.0 gave 1231 of 5000 for [0, 1, 1].
    assert _q_lognormal(0, 1, 1)[key(0.0)] == pytest.approx(stats.norm.cdf(math.log(0.5)))
