"""Map a "latent" Ray Tune config to NNI parameter values, and back (standard library only).

This module is copied verbatim into converted projects, so it imports only the standard
library and takes the NNI search space as plain JSON (``{name: {"_type", "_value"}}``).

Every NNI parameter is searched through latent keys whose Tune domains any searcher accepts;
:func:`decode` then applies NNI's formulas, so random latent samples decode to exactly NNI's
distributions and every value a trial sees keeps NNI's semantics (q-multiples, clipping,
floats for q-types, ints for randint), whatever searcher produced the latent values.

Latent keys:

* A top-level parameter's key is its escaped name: ``%`` becomes ``%25`` and ``/`` becomes
  ``%2F``, so a key never contains ``/`` and the scheme stays one-to-one.
* A nested choice stores the chosen option's index under its own key; each sub-parameter of
  option ``o`` lives under ``<key>/<o>/<escaped sub-name>`` (recursively for deeper nesting).
  ``<o>`` is the option's escaped ``_name`` when all names of that choice are distinct
  strings, otherwise the option's index (``optimizer/0/lr``).
* A choice of scalars keeps its values (``tune.choice([16, 32])``); a choice holding lists or
  dicts searches the option index instead.

Kinds in :func:`latent_spec`: ``choice`` (args: one tuple of categories), ``randint``
``(low, high)`` with exclusive high, ``uniform``/``loguniform`` ``(low, high)``, ``randn``
``(mu, sigma)``.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

LatentSpec = dict[str, tuple[str, tuple[Any, ...]]]
_FINITE_TYPES = frozenset({"randint", "quniform", "qloguniform"})


def _escape(name: object) -> str:
    return str(name).replace("%", "%25").replace("/", "%2F")


def _floats(value: list[Any]) -> list[float]:
    return [float(item) for item in value]  # YAML 1.1 may have left numbers as strings


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _quantize(value: float, q: float) -> float:
    return float(round(value / q) * q)  # Python round: ties to even, as NNI


def _exp(value: float) -> float:
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


def _is_spec(value: object) -> bool:
    return isinstance(value, dict) and "_type" in value


def _is_nested(options: list[Any]) -> bool:
    return all(isinstance(option, dict) and "_name" in option for option in options)


def _is_scalar(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)  # NaN != NaN: search such options by index
    return value is None or isinstance(value, str | int | bool)


def _by_value(options: list[Any]) -> bool:
    return not _is_nested(options) and all(_is_scalar(option) for option in options)


def _segments(options: list[Any]) -> list[str]:
    names = [option["_name"] for option in options]
    if all(isinstance(name, str) for name in names) and len(set(names)) == len(names):
        return [_escape(name) for name in names]
    return [str(index) for index in range(len(options))]


def _sub_specs(option: dict[str, Any], prefix: str) -> Iterator[tuple[str, str, Any]]:
    for name, spec in option.items():
        if name != "_name" and _is_spec(spec):
            yield f"{prefix}{_escape(name)}", name, spec


# Latent domains. q-types search the continuous domain and are rounded and clipped in
# decode: Tune's quniform/qloguniform reject bounds that are not multiples of q (NNI allows
# them and reaches the bounds by clipping), and many searchers drop q. lognormal types have
# no Tune domain at all, so their log is searched as randn and exponentiated in decode.
_LATENT: dict[str, Callable[[list[float]], tuple[str, tuple[Any, ...]]]] = {
    "randint": lambda v: ("randint", (math.ceil(v[0]), math.ceil(v[1]))),
    "uniform": lambda v: ("uniform", (v[0], v[1])),
    "quniform": lambda v: ("uniform", (v[0], v[1])),
    "loguniform": lambda v: ("loguniform", (v[0], v[1])),
    "qloguniform": lambda v: ("loguniform", (v[0], v[1])),
    "normal": lambda v: ("randn", (v[0], v[1])),
    "qnormal": lambda v: ("randn", (v[0], v[1])),
    "lognormal": lambda v: ("randn", (v[0], v[1])),
    "qlognormal": lambda v: ("randn", (v[0], v[1])),
}

#: Every ``_type`` but ``choice``: each has a latent domain and a formula.
NUMBER_TYPES: tuple[str, ...] = tuple(_LATENT)


def _randint(v: list[float], x: Any) -> int:
    low, high = math.ceil(v[0]), math.ceil(v[1])
    return min(max(int(round(float(x))), low), high - 1)


# NNI's formulas applied to a latent value x (v: the parameter's _value as floats).
_DECODERS: dict[str, Callable[[list[float], Any], Any]] = {
    "randint": _randint,
    "uniform": lambda v, x: _clip(float(x), v[0], v[1]),
    "quniform": lambda v, x: _clip(_quantize(float(x), v[2]), v[0], v[1]),
    "loguniform": lambda v, x: _clip(float(x), v[0], v[1]),
    "qloguniform": lambda v, x: _clip(_quantize(float(x), v[2]), v[0], v[1]),
    "normal": lambda v, x: float(x),
    "qnormal": lambda v, x: _quantize(float(x), v[2]),
    "lognormal": lambda v, x: _exp(float(x)),
    "qlognormal": lambda v, x: _quantize(_exp(float(x)), v[2]),
}


def latent_domain(kind: str, value: list[Any]) -> tuple[str, tuple[Any, ...]]:
    """The latent domain ``(kind, args)`` of a parameter of any ``_type`` but ``choice``."""
    return _LATENT[kind](_floats(value))


def decode_number(kind: str, value: list[Any], latent: Any) -> Any:
    """NNI's formula for a ``_type`` other than ``choice``: the value a trial receives."""
    return _DECODERS[kind](_floats(value), latent)


def latent_spec(space_json: dict[str, Any]) -> LatentSpec:
    """Return ``{latent key: (domain kind, args)}`` for every key a searcher must search."""
    spec: LatentSpec = {}
    for name, param in space_json.items():
        _add_latent(_escape(name), param, spec)
    return spec


def _add_latent(key: str, param: dict[str, Any], spec: LatentSpec) -> None:
    kind, value = param["_type"], param["_value"]
    if kind != "choice":
        spec[key] = latent_domain(kind, value)
    elif _by_value(value):
        spec[key] = ("choice", (tuple(value),))
    else:
        spec[key] = ("choice", (tuple(range(len(value))),))
    if kind == "choice" and _is_nested(value):
        for segment, option in zip(_segments(value), value, strict=True):
            for sub_key, _, sub in _sub_specs(option, f"{key}/{segment}/"):
                _add_latent(sub_key, sub, spec)


def decode(space_json: dict[str, Any], latent: dict[str, Any]) -> dict[str, Any]:
    """Turn a latent config into the NNI parameter dict a trial receives.

    Keys of ``latent`` that the space does not use (other branches, extra keys) are ignored.

    Raises:
        ValueError: a latent key the chosen values need is missing, or a value is not one of
            the options.
    """
    return {name: _decode(_escape(name), param, latent) for name, param in space_json.items()}


def _latent_value(latent: dict[str, Any], key: str) -> Any:
    if key not in latent:
        raise ValueError(f"latent config has no key {key!r}")
    return latent[key]


def _index(value: Any, count: int) -> int:
    index = int(float(value))  # some searchers hand categories back as strings or floats
    if index != float(value) or not 0 <= index < count:
        raise ValueError(f"option index must be an integer in [0, {count}) (got {value!r})")
    return index


def _decode(key: str, param: dict[str, Any], latent: dict[str, Any]) -> Any:
    kind, value = param["_type"], param["_value"]
    raw = _latent_value(latent, key)
    if kind != "choice":
        return decode_number(kind, value, raw)
    if _by_value(value):
        return _match(value, raw)
    index = _index(raw, len(value))
    if not _is_nested(value):
        return copy.deepcopy(value[index])
    option, prefix = value[index], f"{key}/{_segments(value)[index]}/"
    decoded: dict[str, Any] = {"_name": copy.deepcopy(option["_name"])}
    for name, item in option.items():
        if name == "_name":
            continue
        spec = _is_spec(item)
        decoded[name] = (
            _decode(prefix + _escape(name), item, latent) if spec else copy.deepcopy(item)
        )
    return decoded


def _match(options: list[Any], value: Any) -> Any:
    """The option equal to ``value``, preferring the same type (``1`` is not ``True``)."""
    for option in options:
        if type(option) is type(value) and option == value:
            return option
    is_bool = type(value).__name__ in ("bool", "bool_")  # numpy's bool_ too; 1 == True
    for option in options:  # numpy scalars
        if option == value and isinstance(option, bool) == is_bool:
            return option
    for option in options:  # searchers that turn categories into strings (ZOOpt, HEBO)
        if str(option) == str(value):
            return option
    raise ValueError(f"{value!r} is not one of the choice options {options!r}")


def encode(space_json: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Return a complete latent config that decodes to ``params`` (NNI values).

    Keys of branches ``params`` does not choose get a neutral in-domain value, so every
    searcher accepts the result (grid points, warm starts). A numeric value that NNI could not
    produce maps to the nearest latent value, so it decodes to the nearest valid value.

    Raises:
        ValueError: a parameter is missing, or a choice value is not one of the options.
    """
    latent = {key: _neutral(kind, args) for key, (kind, args) in latent_spec(space_json).items()}
    for name, param in space_json.items():
        if name not in params:
            raise ValueError(f"parameters have no value for {name!r}")
        _encode(_escape(name), param, params[name], latent)
    return latent


def _neutral(kind: str, args: tuple[Any, ...]) -> Any:
    if kind == "choice":
        return args[0][0]
    if kind == "randint":
        return args[0]
    if kind == "loguniform":
        return math.sqrt(args[0] * args[1])
    return args[0] if kind == "randn" else (args[0] + args[1]) / 2


def _encode(key: str, param: dict[str, Any], value: Any, latent: dict[str, Any]) -> None:
    kind, options = param["_type"], param["_value"]
    if kind != "choice":
        latent[key] = _encode_number(kind, _floats(options), value)
    elif _by_value(options):
        latent[key] = _match(options, value)
    elif not _is_nested(options):
        matches = [index for index, option in enumerate(options) if option == value]
        if not matches:
            raise ValueError(f"{value!r} is not one of the choice options {options!r}")
        latent[key] = matches[0]
    else:
        index = _option_index(options, value)
        latent[key] = index
        prefix = f"{key}/{_segments(options)[index]}/"
        for sub_key, name, sub in _sub_specs(options[index], prefix):
            if name not in value:
                raise ValueError(f"nested value {value!r} has no {name!r}")
            _encode(sub_key, sub, value[name], latent)


def _option_index(options: list[dict[str, Any]], value: Any) -> int:
    if not isinstance(value, dict) or "_name" not in value:
        raise ValueError(f"a nested choice value must be a dict with _name (got {value!r})")
    named = [i for i, option in enumerate(options) if option["_name"] == value["_name"]]
    same_keys = [i for i in named if set(options[i]) == set(value)]
    if not named:
        raise ValueError(f"no option has _name {value['_name']!r}")
    return (same_keys or named)[0]


def _encode_number(kind: str, v: list[float], value: Any) -> Any:
    x = float(value)
    if kind == "randint":
        return _randint(v, x)
    if kind in ("uniform", "loguniform"):
        return _clip(x, v[0], v[1])
    if kind in ("quniform", "qloguniform"):
        # A clipped bound (low not a multiple of q) decodes from the bound itself.
        candidates = (_clip(x, v[0], v[1]), v[0], v[1])
        return next((c for c in candidates if _DECODERS[kind](v, c) == x), candidates[0])
    if kind in ("normal", "qnormal"):
        return x
    if x > 0:  # exp(log(x)) can miss x by one ulp; a neighbouring latent may hit it exactly
        y = math.log(x)
        nearby = (y, math.nextafter(y, math.inf), math.nextafter(y, -math.inf))
        return next((z for z in nearby if _exp(z) == x), y)
    if kind == "qlognormal":  # 0 comes from exp(y) < q / 2
        return math.log(v[2] / 4)
    raise ValueError(f"{kind} values are > 0 (got {value!r})")


def is_finite(space_json: dict[str, Any]) -> bool:
    """True when the space has finitely many points (choice, randint, uniform q-types)."""
    return all(_finite(param) for param in space_json.values())


def _finite(param: dict[str, Any]) -> bool:
    kind, value = param["_type"], param["_value"]
    if kind != "choice":
        return kind in _FINITE_TYPES
    if not _is_nested(value):
        return True
    return all(_finite(sub) for option in value for _, _, sub in _sub_specs(option, ""))


def _q_values(v: list[float]) -> list[float]:
    low, high, q = v
    # round is monotone, so clip(round(x / q) * q) over x in [low, high] reaches exactly the
    # k * q for k between round(low / q) and round(high / q), clipped to the bounds.
    values = (_clip(float(k * q), low, high) for k in range(round(low / q), round(high / q) + 1))
    return list(dict.fromkeys(values))


def _axis(param: dict[str, Any]) -> list[Any]:
    kind, value = param["_type"], param["_value"]
    if kind == "randint":
        low, high = math.ceil(float(value[0])), math.ceil(float(value[1]))
        return list(range(low, high))
    if kind in ("quniform", "qloguniform"):
        return _q_values(_floats(value))
    if kind != "choice":
        raise ValueError(f"{kind} has infinitely many values; it has no grid")
    if not _is_nested(value):
        return list(value)  # every position, as NNI's GridSearch (duplicates included)
    return [point for option in value for point in _option_points(option)]


def _option_points(option: dict[str, Any]) -> Iterator[dict[str, Any]]:
    names = [name for name, item in option.items() if name != "_name" and _is_spec(item)]
    for combo in itertools.product(*(_axis(option[name]) for name in names)):
        chosen = dict(zip(names, combo, strict=True))
        point = {"_name": option["_name"]}
        for name, item in option.items():
            if name != "_name":
                point[name] = chosen[name] if name in chosen else item
        yield point


def grid(space_json: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield NNI GridSearch's points for a finite space; the last parameter varies fastest.

    Raises:
        ValueError: the space is not finite (see :func:`is_finite`).
    """
    if not is_finite(space_json):
        raise ValueError("the search space is not finite, so it has no grid")
    names = list(space_json)
    for combo in itertools.product(*(_axis(space_json[name]) for name in names)):
        yield copy.deepcopy(dict(zip(names, combo, strict=True)))


def cardinality(space_json: dict[str, Any]) -> int | None:
    """Number of grid points of a finite space (1 for an empty space), None if infinite."""
    if not is_finite(space_json):
        return None
    return math.prod(_count(param) for param in space_json.values())


def _count(param: dict[str, Any]) -> int:
    kind, value = param["_type"], param["_value"]
    if kind != "choice" or not _is_nested(value):
        return len(_axis(param))
    return sum(math.prod(_count(sub) for _, _, sub in _sub_specs(option, "")) for option in value)
