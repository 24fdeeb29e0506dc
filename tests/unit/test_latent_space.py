"""The latent route: Tune's own domains, sampled and decoded, give exactly NNI's values."""

from __future__ import annotations

import ast
import math
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from test_sampling_reference import P_MIN, SEED, Case, N, case_params, check_distribution

from nni2ray.experiment import nni_space
from nni2ray.experiment._search_space import parse_search_space
from nni2ray.experiment.sampling import sample
from nni2ray.translate.param_space import search_space_to_json, search_space_to_param_space

NESTED = {
    "optimizer": {
        "_type": "choice",
        "_value": [
            {
                "_name": "sgd",
                "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
                "momentum": {"_type": "uniform", "_value": [0, 1]},
            },
            {"_name": "adam", "lr": {"_type": "loguniform", "_value": [1e-5, 1e-2]}, "eps": 1e-8},
            {"_name": "none"},
        ],
    },
    "bs": {"_type": "choice", "_value": [16, 32]},
}


def ray_latents(space: dict[str, Any], seed: int = SEED) -> list[dict[str, Any]]:
    """N latent configs drawn by Ray Tune's own Domain objects (no Ray session)."""
    columns = {}
    for index, (latent_key, call) in enumerate(search_space_to_param_space(space).items()):
        rng = np.random.default_rng(seed + index)
        columns[latent_key] = list(call.build().sample(size=N, random_state=rng))
    return [{k: column[i] for k, column in columns.items()} for i in range(N)]


def decoded(space: dict[str, Any], seed: int = SEED) -> list[dict[str, Any]]:
    space_json = search_space_to_json(space)
    return [nni_space.decode(space_json, latent) for latent in ray_latents(space, seed)]


@pytest.mark.parametrize("case", case_params())
def test_latent_route_matches_nni_distribution(case: Case) -> None:
    check_distribution(case, [params["x"] for params in decoded({"x": case.spec})])


def test_latent_nested_choice_shape_and_distribution() -> None:
    draws = decoded(NESTED)
    shapes = {"sgd": {"_name", "lr", "momentum"}, "adam": {"_name", "lr", "eps"}, "none": {"_name"}}
    for draw in draws:
        assert list(draw) == ["optimizer", "bs"]
        assert set(draw["optimizer"]) == shapes[draw["optimizer"]["_name"]]
    names = Counter(draw["optimizer"]["_name"] for draw in draws)
    assert stats.chisquare([names["sgd"], names["adam"], names["none"]]).pvalue > P_MIN
    sgd = [draw["optimizer"] for draw in draws if draw["optimizer"]["_name"] == "sgd"]
    assert stats.kstest([o["lr"] for o in sgd], stats.loguniform(1e-4, 1e-1).cdf).pvalue > P_MIN
    assert stats.kstest([o["momentum"] for o in sgd], stats.uniform(0, 1).cdf).pvalue > P_MIN


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        pytest.param({}, [{}], id="empty-one-point"),
        pytest.param(
            {
                "a": {"_type": "choice", "_value": [1, 2]},
                "b": {"_type": "randint", "_value": [0, 2]},
            },
            [{"a": 1, "b": 0}, {"a": 1, "b": 1}, {"a": 2, "b": 0}, {"a": 2, "b": 1}],
            id="last-parameter-fastest",
        ),
        pytest.param(
            {"q": {"_type": "quniform", "_value": [2, 10, 5]}},
            [{"q": 2.0}, {"q": 5.0}, {"q": 10.0}],
            id="quniform-clipped-bounds",
        ),
        pytest.param(
            {"q": {"_type": "quniform", "_value": [0, 10, 2.5]}},
            [{"q": v} for v in (0.0, 2.5, 5.0, 7.5, 10.0)],
            id="quniform-fractional-q",
        ),
        pytest.param(
            {"q": {"_type": "quniform", "_value": [3, 10, 5]}},
            [{"q": 5.0}, {"q": 10.0}],
            id="quniform-low-unreachable",
        ),
        pytest.param(
            {"q": {"_type": "qloguniform", "_value": [1, 100, 10]}},
            [{"q": 1.0}] + [{"q": float(v)} for v in range(10, 101, 10)],
            id="qloguniform-low-by-clipping",
        ),
        pytest.param(
            {"r": {"_type": "randint", "_value": [1.2, 4]}}, [{"r": 2}, {"r": 3}], id="randint-ceil"
        ),
        pytest.param(
            {"c": {"_type": "choice", "_value": [1, 1, [2]]}},
            [{"c": 1}, {"c": 1}, {"c": [2]}],
            id="choice-every-position",
        ),
        pytest.param(
            {
                "o": {
                    "_type": "choice",
                    "_value": [
                        {"_name": "a", "x": {"_type": "choice", "_value": [1, 2]}, "k": 0},
                        {"_name": "b"},
                    ],
                }
            },
            [
                {"o": {"_name": "a", "x": 1, "k": 0}},
                {"o": {"_name": "a", "x": 2, "k": 0}},
                {"o": {"_name": "b"}},
            ],
            id="nested-option-grids",
        ),
    ],
)
def test_grid(space: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    space_json = search_space_to_json(space)
    points = list(nni_space.grid(space_json))
    assert points == expected
    assert [{k: type(v) for k, v in p.items()} for p in points] == [
        {k: type(v) for k, v in p.items()} for p in expected
    ]
    assert nni_space.cardinality(space_json) == len(expected)
    for point in points:  # every grid point survives the latent round trip
        assert nni_space.decode(space_json, nni_space.encode(space_json, point)) == point


@pytest.mark.parametrize(
    ("spec", "finite"),
    [
        pytest.param({"_type": "choice", "_value": [1.5, "a"]}, True, id="choice"),
        pytest.param({"_type": "randint", "_value": [0, 3]}, True, id="randint"),
        pytest.param({"_type": "quniform", "_value": [0, 1, 0.1]}, True, id="quniform"),
        pytest.param({"_type": "qloguniform", "_value": [1, 10, 1]}, True, id="qloguniform"),
        pytest.param({"_type": "uniform", "_value": [0, 1]}, False, id="uniform"),
        pytest.param({"_type": "loguniform", "_value": [1, 10]}, False, id="loguniform"),
        pytest.param({"_type": "normal", "_value": [0, 1]}, False, id="normal"),
        pytest.param({"_type": "qnormal", "_value": [0, 1, 1]}, False, id="qnormal-unbounded"),
        pytest.param({"_type": "lognormal", "_value": [0, 1]}, False, id="lognormal"),
        pytest.param({"_type": "qlognormal", "_value": [0, 1, 1]}, False, id="qlognormal"),
        pytest.param(
            {
                "_type": "choice",
                "_value": [{"_name": "a", "x": {"_type": "randint", "_value": [0, 2]}}],
            },
            True,
            id="nested-finite",
        ),
        pytest.param(
            {
                "_type": "choice",
                "_value": [
                    {"_name": "a"},
                    {"_name": "b", "x": {"_type": "uniform", "_value": [0, 1]}},
                ],
            },
            False,
            id="nested-continuous",
        ),
    ],
)
def test_is_finite(spec: dict[str, Any], finite: bool) -> None:
    space_json = search_space_to_json({"p": spec})
    assert nni_space.is_finite(space_json) is finite
    assert (nni_space.cardinality(space_json) is None) is not finite
    if not finite:
        with pytest.raises(ValueError, match="not finite"):
            next(nni_space.grid(space_json))


def test_latent_keys_escape_the_separator() -> None:
    space = {
        "a/b": {"_type": "uniform", "_value": [0, 1]},
        "a%2Fb": {"_type": "uniform", "_value": [0, 1]},
        "o": {
            "_type": "choice",
            "_value": [
                {"_name": "x/y", "l/r": {"_type": "uniform", "_value": [0, 1]}},
                {"_name": "x", "y/l": {"_type": "uniform", "_value": [0, 1]}},
            ],
        },
    }
    keys = list(nni_space.latent_spec(search_space_to_json(space)))
    assert keys == ["a%2Fb", "a%252Fb", "o", "o/x%2Fy/l%2Fr", "o/x/y%2Fl"]


def test_duplicate_option_names_use_indices() -> None:
    space = {
        "o": {
            "_type": "choice",
            "_value": [
                {"_name": "a", "x": {"_type": "uniform", "_value": [0, 1]}},
                {"_name": "a", "x": {"_type": "uniform", "_value": [5, 6]}},
            ],
        }
    }
    space_json = search_space_to_json(space)
    assert list(nni_space.latent_spec(space_json)) == ["o", "o/0/x", "o/1/x"]
    assert nni_space.decode(space_json, {"o": 1, "o/1/x": 5.5}) == {"o": {"_name": "a", "x": 5.5}}


def test_decode_nested_shape_and_unused_keys_ignored() -> None:
    space_json = search_space_to_json(NESTED)
    latent = {"optimizer": 1, "optimizer/adam/lr": 0.001, "bs": 32, "unrelated": "x"}
    assert nni_space.decode(space_json, latent) == {
        "optimizer": {"_name": "adam", "lr": 0.001, "eps": 1e-8},
        "bs": 32,
    }
    with pytest.raises(ValueError, match="no key 'optimizer/adam/lr'"):
        nni_space.decode(space_json, {"optimizer": 1, "bs": 32})


def test_encode_fills_every_latent_key_inside_its_domain() -> None:
    space_json = search_space_to_json(NESTED)
    params = {"optimizer": {"_name": "none"}, "bs": 16}
    latent = nni_space.encode(space_json, params)
    spec = nni_space.latent_spec(space_json)
    assert set(latent) == set(spec)
    for latent_key, (kind, args) in spec.items():
        if kind in ("uniform", "loguniform"):
            assert args[0] <= latent[latent_key] <= args[1]
    assert nni_space.decode(space_json, latent) == params


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        pytest.param({"_type": "normal", "_value": [0, 1]}, -1.25, id="normal"),
        pytest.param({"_type": "qnormal", "_value": [0, 1, 0.5]}, -1.5, id="qnormal"),
        pytest.param({"_type": "lognormal", "_value": [0, 1]}, 2.5, id="lognormal"),
        pytest.param({"_type": "qlognormal", "_value": [0, 1, 1]}, 0.0, id="qlognormal-zero"),
        pytest.param({"_type": "qlognormal", "_value": [0, 1, 0.1]}, 0.3, id="qlognormal"),
        pytest.param({"_type": "loguniform", "_value": [1e-4, 1]}, 0.01, id="loguniform"),
        pytest.param({"_type": "quniform", "_value": [0.1, 1, 0.3]}, 0.1, id="quniform-low"),
        pytest.param({"_type": "choice", "_value": [1, True, 1.0]}, True, id="choice-bool-not-int"),
        pytest.param(
            {"_type": "choice", "_value": [[1], {"a": None}]}, {"a": None}, id="choice-dict"
        ),
    ],
)
def test_encode_decode_round_trip(spec: dict[str, Any], value: Any) -> None:
    space_json = search_space_to_json({"p": spec})
    back = nni_space.decode(space_json, nni_space.encode(space_json, {"p": value}))["p"]
    assert back == pytest.approx(value) if isinstance(value, float) else back == value
    assert type(back) is type(value)


@pytest.mark.parametrize(
    ("spec", "latent", "expected"),
    [
        pytest.param({"_type": "choice", "_value": [1, "a"]}, "1", 1, id="stringified-category"),
        pytest.param({"_type": "choice", "_value": [True, 1]}, np.int64(1), 1, id="numpy-int"),
        pytest.param({"_type": "randint", "_value": [0, 3]}, 2.0000001, 2, id="randint-float"),
        pytest.param({"_type": "randint", "_value": [0, 3]}, 3, 2, id="randint-clipped"),
        pytest.param({"_type": "quniform", "_value": [2, 10, 5]}, 2.4, 2.0, id="quniform-clip-low"),
        pytest.param({"_type": "uniform", "_value": [0, 1]}, 1.5, 1.0, id="uniform-clipped"),
        pytest.param({"_type": "qlognormal", "_value": [0, 1, 1]}, -3.0, 0.0, id="qlognormal-zero"),
    ],
)
def test_decode_keeps_nni_semantics_for_any_searcher_value(spec, latent, expected) -> None:
    back = nni_space.decode(search_space_to_json({"p": spec}), {"p": latent})["p"]
    assert back == expected and type(back) is type(expected)


def test_nni_space_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(nni_space.__file__).read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports break when the file is copied"
            modules.add((node.module or "").split(".")[0])
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}, modules


def test_decode_of_infinite_exp_does_not_raise() -> None:
    space_json = search_space_to_json({"p": {"_type": "lognormal", "_value": [0, 1]}})
    assert nni_space.decode(space_json, {"p": 1e4})["p"] == math.inf


@pytest.mark.parametrize("case", case_params())
def test_nni_samples_survive_encode_decode_exactly(case: Case) -> None:
    # The runtime draws NNI-exact values with sampling.py and hands searchers their latent
    # form; the trial must then receive the very same value, type included.
    space = parse_search_space({"x": case.spec}, file=None)
    space_json = search_space_to_json(space)
    rng = random.Random(SEED)
    for _ in range(500):
        params = sample(space, rng)
        back = nni_space.decode(space_json, nni_space.encode(space_json, params))
        assert back == params and type(back["x"]) is type(params["x"])
