"""NNI 3.0 GridSearch's sequence of parameters, for any search space (standard library only).

NNI's GridSearchTuner (``nni/algorithms/hpo/gridsearch_tuner.py``) searches in "epochs".
Every categorical parameter (``choice``, ``randint``) lists all its options in every epoch.
Every numeric parameter is a position ``p`` in ``(0, 1)`` of its distribution, mapped to a
value by the inverse CDF (``low + (high - low) * p``, in log space for the log types; the
normal quantile for the normal types) and then NNI's rounding and clipping. The first epoch
holds ``p = 1/2`` only (the median); each later epoch adds the midpoints of the intervals
still divisible (1/4 and 3/4, then 1/8, 3/8, 5/8 and 7/8, ...); an interval whose two ends
give the same value (q-types, ``uniform[a, a]``) is not divided again. An epoch visits the
vectors of grid indexes with the last parameter varying fastest and skips the vectors
every index of which was already in the previous epochs; parameters of a nested-choice
option that the vector does not choose stay put. A point whose values were already
proposed is skipped. The sequence ends when no interval can be divided ("Search space
fully explored"): it is finite for choice, randint and the q-types, endless otherwise.

NNI computes the normal quantile as ``mu + sigma * sqrt(2) * erfinv(2p - 1)`` with SciPy's
``erfinv``; so does this module when SciPy is installed (bit-identical values). Without
SciPy it uses :class:`statistics.NormalDist`, whose values for the normal types may differ
from NNI's in the last bit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

#: A parameter's path: names, with the option index after a nested choice's name.
Key = tuple[str | int, ...]

_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True)
class _Spec:
    key: Key
    kind: str
    values: list[Any]
    categorical: bool
    size: int = 0
    low: float = 0.0  # log of the bound for log types
    high: float = 0.0
    normal: bool = False
    mu: float = 0.0
    sigma: float = 0.0
    q: float | None = None
    clip: tuple[float, float] | None = None
    log: bool = False

    def is_active(self, formatted: dict[Key, Any]) -> bool:
        """Whether this parameter counts for ``formatted`` (its nested option is chosen)."""
        if len(self.key) >= 2 and isinstance(self.key[-2], int):
            return formatted.get(self.key[:-2]) == self.key[-2]
        return True


def grid_points(space_json: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield the parameters NNI 3.0's GridSearch proposes, in its order, without repeats.

    An empty space yields one empty point (NNI's tuner raises ``Search space is empty``).
    """
    specs = _format(space_json, ())
    if not specs:
        yield {}
        return
    grid = _Grid(specs)
    seen: set[str] = set()
    while (formatted := grid.next_point()) is not None:
        params = _deformat(formatted, specs)
        key = json.dumps(params, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            yield params


class _Grid:
    def __init__(self, specs: list[_Spec]) -> None:
        self.specs = specs
        self.grid: list[list[float]] | None = []
        self.bar = [0] * len(specs)
        self.divisions: dict[int, list[tuple[float, float]]] = {}
        self.vector: list[int] | None = None
        for i, spec in enumerate(specs):
            if spec.categorical:
                self.grid.append([float(k) for k in range(spec.size)])
                continue
            self.grid.append([0.5])
            self.divisions[i] = [(a, b) for a, b in ((0.0, 0.5), (0.5, 1.0)) if _less(a, b, spec)]

    def next_point(self) -> dict[Key, Any] | None:
        while self.grid is not None:
            self._advance()
            if self.vector is None:
                self._refine()
                continue
            if all(v < bar for v, bar in zip(self.vector, self.bar, strict=True)):
                continue  # proposed in an earlier epoch
            return self._formatted()
        return None

    def _formatted(self) -> dict[Key, Any]:
        assert self.grid is not None and self.vector is not None
        formatted: dict[Key, Any] = {}
        for i, spec in enumerate(self.specs):
            if spec.is_active(formatted):
                x = self.grid[i][self.vector[i]]
                formatted[spec.key] = int(x) if spec.categorical else _inverse_cdf(x, spec)
        return formatted

    def _advance(self) -> None:
        assert self.grid is not None
        if self.vector is None:
            self.vector = [0] * len(self.specs)
            return
        current = self._formatted()
        active = [i for i, spec in enumerate(self.specs) if spec.is_active(current)]
        for i in reversed(active):
            if self.vector[i] + 1 < len(self.grid[i]):
                self.vector[i] += 1
                return
            self.vector[i] = 0
        self.vector = None  # the epoch is over

    def _refine(self) -> None:
        assert self.grid is not None
        updated = False
        for i, spec in enumerate(self.specs):
            self.bar[i] = len(self.grid[i])
            if spec.categorical:
                continue
            added, kept = [], []
            for low, high in self.divisions[i]:
                mid = (low + high) / 2
                left, right = _less(low, mid, spec), _less(mid, high, spec)
                # 0 and 1 are never grid values (infinite for normal types), so a midpoint
                # next to them is new even when it gives the same value as the bound.
                if (left or low == 0.0) and (right or high == 1.0):
                    added.append(mid)
                    updated = True
                if left:
                    kept.append((low, mid))
                    updated = updated or low == 0.0
                if right:
                    kept.append((mid, high))
                    updated = updated or high == 1.0
            self.grid[i] += added
            self.divisions[i] = kept
        if not updated:
            self.grid = None  # fully explored


def _format(space: dict[str, Any], parent: Key) -> list[_Spec]:
    specs: list[_Spec] = []
    for name, spec in space.items():
        if name == "_name":
            continue
        key = (*parent, name)
        kind, values = spec["_type"], spec["_value"]
        specs.append(_spec(key, kind, values))
        if kind == "choice" and _is_nested(values):
            for index, option in enumerate(values):
                specs += _format(option, (*key, index))
    return specs


def _spec(key: Key, kind: str, values: list[Any]) -> _Spec:
    if kind == "choice":
        return _Spec(key, kind, values, categorical=True, size=len(values))
    if kind == "randint":
        size = math.ceil(float(values[1])) - math.ceil(float(values[0]))
        return _Spec(key, kind, values, categorical=True, size=size)
    q = float(values[2]) if kind.startswith("q") else None
    log = "log" in kind
    if "normal" in kind:
        mu, sigma = float(values[0]), float(values[1])
        return _Spec(key, kind, values, False, normal=True, mu=mu, sigma=sigma, q=q, log=log)
    low, high = float(values[0]), float(values[1])
    clip = (low, high) if q is not None else None
    if log:
        low, high = math.log(low), math.log(high)
    return _Spec(key, kind, values, False, low=low, high=high, q=q, clip=clip, log=log)


def _is_nested(values: list[Any]) -> bool:
    return bool(values) and all(isinstance(v, dict) and "_name" in v for v in values)


def _inverse_cdf(p: float, spec: _Spec) -> float:
    if not spec.normal:
        return spec.low + (spec.high - spec.low) * p
    if p <= 0.0 or p >= 1.0:
        return -math.inf if p <= 0.0 else math.inf
    erfinv = _erfinv()
    if erfinv is None:
        return spec.mu + spec.sigma * _STANDARD_NORMAL.inv_cdf(p)
    return spec.mu + spec.sigma * math.sqrt(2) * float(erfinv(2 * p - 1))


_ERFINV: list[Callable[[float], Any] | None] = []


def _erfinv() -> Callable[[float], Any] | None:
    if not _ERFINV:
        try:
            from scipy.special import erfinv  # type: ignore[import-untyped]
        except ImportError:
            erfinv = None
        _ERFINV.append(erfinv)
    return _ERFINV[0]


def _value(x: float, spec: _Spec) -> float:
    """NNI's value for a formatted number: exp for log types, then rounding and clipping."""
    if spec.log:
        x = math.exp(x)
    if spec.q is not None:
        x = round(x / spec.q) * spec.q
    if spec.clip:
        x = min(max(x, spec.clip[0]), spec.clip[1])
    return x


def _less(a: float, b: float, spec: _Spec) -> bool:
    """Whether position ``a`` gives a smaller value than position ``b``."""
    xa, xb = _inverse_cdf(a, spec), _inverse_cdf(b, spec)
    va = xa if math.isinf(xa) else _value(xa, spec)
    vb = xb if math.isinf(xb) else _value(xb, spec)
    return va < vb


def _deformat(formatted: dict[Key, Any], specs: list[_Spec]) -> dict[str, Any]:
    by_key = {spec.key: spec for spec in specs}
    params: dict[str, Any] = {}
    for key, x in formatted.items():
        spec = by_key[key]
        if spec.kind == "randint":
            value: Any = min(math.ceil(float(v)) for v in spec.values[:2]) + x
            _assign(params, key, int(value))
        elif spec.categorical and _is_nested(spec.values):
            _assign(params, (*key, "_name"), spec.values[x]["_name"])
        elif spec.categorical:
            _assign(params, key, spec.values[x])
        else:
            _assign(params, key, _value(x, spec))
    return params


def _assign(params: dict[str, Any], key: Key, value: Any) -> None:
    head, rest = key[0], key[1:]
    if not rest:
        params[str(head)] = value
    elif isinstance(head, int):
        _assign(params, rest, value)
    else:
        _assign(params.setdefault(head, {}), rest, value)
