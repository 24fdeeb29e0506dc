"""Draw values from a parsed search space as NNI's Random tuner does.

A numeric parameter draws a value of its latent domain and applies NNI's formula, both from
:mod:`nni2ray.experiment.nni_space` (the one home of the formulas): ``randint`` ceils both
bounds and excludes the upper one, q-types round with Python's ``round`` (ties to even) and
give floats, uniform q-types clip to ``[low, high]``, normal q-types are not clipped.
Only the standard library runs besides ``nni_space``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nni2ray.experiment import nni_space

if TYPE_CHECKING:  # the model is only needed for annotations; keeps the runtime stdlib-only
    from nni2ray.experiment.model import Parameter, SearchSpace

Sampler = Callable[["Parameter", random.Random], Any]


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


def _draw_latent(kind: str, args: tuple[Any, ...], rng: random.Random) -> float:
    """One random value of a latent domain (``nni_space.latent_spec``'s kinds but choice)."""
    if kind == "randint":
        return float(args[0] + rng.randrange(args[1] - args[0]))  # high is exclusive
    if kind == "uniform":
        return rng.uniform(args[0], args[1])
    if kind == "loguniform":
        return math.exp(rng.uniform(math.log(args[0]), math.log(args[1])))
    if kind == "randn":
        return rng.gauss(args[0], args[1])
    raise ValueError(f"no latent domain {kind!r}")


def _number(parameter: Parameter, rng: random.Random) -> Any:
    # lognormal types search their log (randn) and decode exponentiates it.
    value = list(parameter.values)
    kind, args = nni_space.latent_domain(parameter.type, value)
    return nni_space.decode_number(parameter.type, value, _draw_latent(kind, args, rng))


#: One sampler per NNI ``_type``.
SAMPLERS: dict[str, Sampler] = {"choice": _choice, **dict.fromkeys(nni_space.NUMBER_TYPES, _number)}


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
