"""Draw values from a parsed search space with exactly the formulas of NNI's own samplers.

Standard library only at run time (``random``, ``math``): generated projects reuse it. The
formulas follow NNI's ``hpo_utils`` (Random/TPE): ``randint`` ceils both bounds and excludes
the upper one, q-types round with Python's ``round`` (ties to even) and always give floats,
uniform q-types clip to ``[low, high]`` while normal q-types are not clipped.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the model is only needed for annotations; keeps the runtime stdlib-only
    from nni2ray.experiment.model import Parameter, SearchSpace

Sampler = Callable[["Parameter", random.Random], Any]


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _quantize(value: float, q: float) -> float:
    return float(round(value / q) * q)


def _choice(parameter: Parameter, rng: random.Random) -> Any:
    # Uniform over positions: a value listed twice is drawn twice as often, as in NNI.
    option = parameter.options[rng.randrange(len(parameter.options))]
    if not hasattr(option, "parameters"):  # a plain JSON value, returned unchanged
        return option
    drawn: dict[str, Any] = {"_name": option.name}
    for sub in option.parameters:
        drawn[sub.name] = sample_parameter(sub, rng)
    drawn.update(option.constants)
    return drawn


def _randint(parameter: Parameter, rng: random.Random) -> int:
    low, high = math.ceil(parameter.values[0]), math.ceil(parameter.values[1])
    return low + rng.randrange(high - low)


def _uniform(parameter: Parameter, rng: random.Random) -> float:
    low, high = parameter.values[:2]
    return rng.uniform(low, high)


def _quniform(parameter: Parameter, rng: random.Random) -> float:
    low, high, q = parameter.values
    return _clip(_quantize(rng.uniform(low, high), q), low, high)


def _loguniform(parameter: Parameter, rng: random.Random) -> float:
    low, high = parameter.values[:2]
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _qloguniform(parameter: Parameter, rng: random.Random) -> float:
    low, high, q = parameter.values
    value = math.exp(rng.uniform(math.log(low), math.log(high)))
    return _clip(_quantize(value, q), low, high)  # clip bounds are the original, not the logs


def _normal(parameter: Parameter, rng: random.Random) -> float:
    mu, sigma = parameter.values[:2]
    return rng.gauss(mu, sigma)


def _qnormal(parameter: Parameter, rng: random.Random) -> float:
    mu, sigma, q = parameter.values
    return _quantize(rng.gauss(mu, sigma), q)  # unbounded, so NNI does not clip


def _lognormal(parameter: Parameter, rng: random.Random) -> float:
    mu, sigma = parameter.values[:2]
    return math.exp(rng.gauss(mu, sigma))


def _qlognormal(parameter: Parameter, rng: random.Random) -> float:
    mu, sigma, q = parameter.values
    return _quantize(math.exp(rng.gauss(mu, sigma)), q)  # not clipped: 0.0 is possible


#: One sampler per NNI ``_type``.
SAMPLERS: dict[str, Sampler] = {
    "choice": _choice,
    "randint": _randint,
    "uniform": _uniform,
    "quniform": _quniform,
    "loguniform": _loguniform,
    "qloguniform": _qloguniform,
    "normal": _normal,
    "qnormal": _qnormal,
    "lognormal": _lognormal,
    "qlognormal": _qlognormal,
}


def sample_parameter(parameter: Parameter, rng: random.Random) -> Any:
    """Draw one value for ``parameter`` as NNI's Random tuner would.

    Args:
        parameter: a validated parameter (from :func:`parse_search_space`).
        rng: the random source; seed it for reproducible draws.

    Returns:
        An ``int`` for randint, a ``float`` for the other numeric types, the option itself for
        a plain choice, and ``{"_name": ..., <sub-parameters>, <constants>}`` for a nested one.
    """
    return SAMPLERS[parameter.type](parameter, rng)


def sample(space: SearchSpace, rng: random.Random) -> dict[str, Any]:
    """Draw one parameter dict (``{name: value}``) for the whole space, in file order."""
    return {parameter.name: sample_parameter(parameter, rng) for parameter in space.parameters}
