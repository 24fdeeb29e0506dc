"""NNI 2.x's annotation runtime (``nni.choice``, ``nni.uniform``, ..., ``nni.function_choice``).

The expanded code of an annotated trial calls these with a ``key`` (``<module>/<name>/<type>``)
that names the trial's parameter. Inside an experiment they return that parameter (``choice``
maps it back to the option's Python object; ``function_choice`` calls the chosen function);
standalone they sample at random, as NNI 2.x did.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

__all__ = [
    "choice",
    "function_choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]


def _standalone() -> bool:
    import os

    from . import _platform

    return _platform.mode(os.environ) == _platform.STANDALONE


def _parameter(key: str | None) -> Any:
    from .trial import get_current_parameter, get_next_parameter

    params = get_current_parameter()
    if params is None:
        params = get_next_parameter()
    if key is None or not isinstance(params, dict) or key not in params:
        raise KeyError(
            f"nni2ray: the trial's parameters have no {key!r}; run annotated code through an "
            "experiment with useAnnotation: true"
        )
    return params[key]


def _options(options: tuple[Any, ...]) -> dict[Any, Any]:
    if len(options) == 1 and isinstance(options[0], dict):
        return options[0]
    return {option: option for option in options}


def choice(*options: Any, name: Any = None, key: str | None = None) -> Any:
    table = _options(options)
    if key is None or _standalone():
        return random.choice(list(table.values()))
    return table[_parameter(key)]


def function_choice(*funcs: Any, name: Any = None, key: str | None = None) -> Any:
    table: dict[Any, Callable[[], Any]] = _options(funcs)
    if key is None or _standalone():
        return random.choice(list(table.values()))()
    return table[_parameter(key)]()


def _numeric(key: str | None, sample: Callable[[], Any]) -> Any:
    if key is None or _standalone():
        return sample()
    return _parameter(key)


def _q(value: float, q: float) -> float:
    return round(value / q) * q


def randint(lower: int, upper: int, name: Any = None, key: str | None = None) -> Any:
    return _numeric(key, lambda: random.randrange(int(lower), int(upper)))


def uniform(low: float, high: float, name: Any = None, key: str | None = None) -> Any:
    return _numeric(key, lambda: random.uniform(low, high))


def quniform(low: float, high: float, q: float, name: Any = None, key: str | None = None) -> Any:
    return _numeric(key, lambda: min(max(_q(random.uniform(low, high), q), low), high))


def loguniform(low: float, high: float, name: Any = None, key: str | None = None) -> Any:
    return _numeric(key, lambda: math.exp(random.uniform(math.log(low), math.log(high))))


def qloguniform(low: float, high: float, q: float, name: Any = None, key: str | None = None) -> Any:
    def sample() -> float:
        value = math.exp(random.uniform(math.log(low), math.log(high)))
        return min(max(_q(value, q), low), high)

    return _numeric(key, sample)


def normal(mu: float, sigma: float, name: Any = None, key: str | None = None) -> Any:
    return _numeric(key, lambda: random.gauss(mu, sigma))


def qnormal(mu: float, sigma: float, q: float, name: Any = None, key: str | None = None) -> Any:
    return _numeric(key, lambda: _q(random.gauss(mu, sigma), q))


def lognormal(mu: float, sigma: float, name: Any = None, key: str | None = None) -> Any:
    return _numeric(key, lambda: math.exp(random.gauss(mu, sigma)))


def qlognormal(mu: float, sigma: float, q: float, name: Any = None, key: str | None = None) -> Any:
    return _numeric(key, lambda: _q(math.exp(random.gauss(mu, sigma)), q))
