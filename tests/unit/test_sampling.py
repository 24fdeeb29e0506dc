"""Statistical tests: nni2ray.experiment.sampling draws exactly NNI's distributions."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from scipy import stats
from test_sampling_reference import P_MIN, SEED, Case, N, case_params, check_distribution

from nni2ray.experiment._search_space import parse_search_space
from nni2ray.experiment.model import PARAMETER_TYPES
from nni2ray.experiment.sampling import SAMPLERS, sample, sample_parameter

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


def test_every_type_has_a_sampler() -> None:
    assert set(SAMPLERS) == set(PARAMETER_TYPES)


@pytest.mark.parametrize("case", case_params())
def test_sampler_matches_nni_distribution(case: Case) -> None:
    parameter = parse_search_space({"x": case.spec}, file=None).parameters[0]
    rng = random.Random(SEED)
    check_distribution(case, [sample_parameter(parameter, rng) for _ in range(N)])


def test_sampling_is_reproducible_with_a_seed() -> None:
    space = parse_search_space(NESTED, file=None)
    first = [sample(space, random.Random(7)) for _ in range(3)]
    assert first == [sample(space, random.Random(7)) for _ in range(3)]


def test_nested_choice_shape_and_distribution() -> None:
    space = parse_search_space(NESTED, file=None)
    rng = random.Random(SEED)
    draws = [sample(space, rng) for _ in range(N)]
    assert all(list(draw) == ["optimizer", "bs"] for draw in draws)
    shapes = {
        "sgd": {"_name", "lr", "momentum"},
        "adam": {"_name", "lr", "eps"},
        "none": {"_name"},
    }
    for draw in draws:
        assert set(draw["optimizer"]) == shapes[draw["optimizer"]["_name"]]
    names = Counter(draw["optimizer"]["_name"] for draw in draws)
    assert stats.chisquare([names["sgd"], names["adam"], names["none"]]).pvalue > P_MIN
    adam = [draw["optimizer"] for draw in draws if draw["optimizer"]["_name"] == "adam"]
    assert all(option["eps"] == 1e-8 for option in adam)
    lrs = [option["lr"] for option in adam]
    assert stats.kstest(lrs, stats.loguniform(1e-5, 1e-2).cdf).pvalue > P_MIN


def test_empty_space_samples_an_empty_dict() -> None:
    assert sample(parse_search_space({}, file=None), random.Random(0)) == {}
