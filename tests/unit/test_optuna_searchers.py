"""The native stand-ins (Optuna TPE with a constant liar, Optuna GP, NNI's evolution rule)
over NNI's latent space."""

from __future__ import annotations

from typing import Any

import pytest

from nni2ray.runtime.searchers import EvolutionSearcher, NniSearch, optuna_searcher
from nni2ray.translate import (
    SchedulerCall,
    SchedulerKind,
    SearcherCall,
    SearcherKind,
    TunePlan,
    nni_space,
)

MIXED = {
    "x": {"_type": "uniform", "_value": [-2, 2]},
    "n": {"_type": "randint", "_value": [1, 5]},
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "w": {"_type": "qnormal", "_value": [0, 1, 0.5]},
    "opt": {
        "_type": "choice",
        "_value": [
            {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0, 1]}},
            {"_name": "adam", "beta/1": {"_type": "quniform", "_value": [0.8, 1.0, 0.05]}},
        ],
    },
}


def _search(kind: SearcherKind, space: dict[str, Any], seed: int = 1, **kwargs: Any) -> NniSearch:
    if kind == SearcherKind.EVOLUTION:
        evolution = EvolutionSearcher(space, kwargs.get("population_size", 32), seed, "max")
        return NniSearch(evolution, space, "default", "max")
    call = SearcherCall(kind, kind.value, {"seed": seed, **kwargs})
    plan = TunePlan("x", "max", space, call, SchedulerCall(SchedulerKind.FIFO))
    return NniSearch(optuna_searcher(plan), space, "default", "max")


def _score(params: dict[str, Any]) -> float:
    bonus = params["opt"]["_name"] == "adam"
    return -((params["x"] - 1.0) ** 2) + bonus - abs(params["n"] - 3) / 4


@pytest.mark.parametrize("kind", [SearcherKind.TPE, SearcherKind.GP, SearcherKind.EVOLUTION])
def test_every_sampler_searches_the_mixed_space_with_pending_trials(kind: SearcherKind) -> None:
    search = (
        _search(kind, MIXED, n_startup_trials=5)
        if kind != SearcherKind.EVOLUTION
        else (_search(kind, MIXED, population_size=6))
    )
    scores: list[float] = []
    pending: list[tuple[str, dict[str, Any]]] = []
    for number in range(24):
        config = search.suggest(f"t{number}")
        assert isinstance(config, dict)
        params = nni_space.decode(MIXED, config)
        assert set(params) == set(MIXED) and 1 <= params["n"] <= 4
        assert params["w"] % 0.5 == 0  # NNI's q-rounding applied to the latent value
        pending.append((f"t{number}", params))
        if len(pending) == 4:  # four trials run at once
            trial_id, done = pending.pop(0)
            scores.append(_score(done))
            search.on_trial_complete(trial_id, {"default": scores[-1], "nni_type": "FINAL"})
    assert max(scores[10:]) >= max(scores[:10])


def test_tpe_constant_liar_spreads_pending_trials() -> None:
    space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    search = _search(SearcherKind.TPE, space, n_startup_trials=3)
    for number in range(12):
        config = search.suggest(f"t{number}")
        search.on_trial_complete(
            f"t{number}", {"default": -abs(config["x"] - 0.3), "nni_type": "FINAL"}
        )
    pending = [search.suggest(f"p{i}")["x"] for i in range(4)]
    assert len({round(x, 6) for x in pending}) == 4


def test_a_failed_or_nan_trial_is_not_learned_as_a_value() -> None:
    space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    search = _search(SearcherKind.GP, space, n_startup_trials=2)
    for number, value in enumerate([float("nan"), 0.5, float("inf"), 0.2, 0.1]):
        search.suggest(f"t{number}")
        search.on_trial_complete(f"t{number}", {"default": value, "nni_type": "FINAL"})
    assert 0 <= search.suggest("next")["x"] <= 1


def test_missing_optuna_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from nni2ray.errors import MissingDependencyError

    real_import = builtins.__import__

    def no_optuna(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    with pytest.raises(MissingDependencyError, match="Optuna") as caught:
        _search(SearcherKind.TPE, {"x": {"_type": "uniform", "_value": [0, 1]}})
    assert "nni2ray[optuna]" in str(caught.value.hint)


@pytest.mark.parametrize("kind", [SearcherKind.TPE, SearcherKind.EVOLUTION])
def test_converted_launcher_searches_nested_and_normal_latent_keys(kind: SearcherKind) -> None:
    import sys

    from ray import tune

    from nni2ray.convert.launcher._algorithms import SEARCHER_SOURCES
    from nni2ray.translate.param_space import DomainCall

    space = dict(MIXED, b={"_type": "normal", "_value": [0, 2]})
    call = SearcherCall(kind, kind.value, {"seed": 2})
    imports, body = SEARCHER_SOURCES[kind].source(call)
    namespace: dict[str, Any] = {"sys": sys, "tune": tune}
    exec("\n".join([*imports, "def make_searcher():", body]), namespace)  # noqa: S102
    searcher = namespace["make_searcher"]()
    param_space = {
        key: DomainCall(k, tuple(args)).build()
        for key, (k, args) in nni_space.latent_spec(space).items()
    }
    assert any("/" in key for key in param_space)
    searcher.set_search_properties("default", "max", param_space)
    for number in range(3):
        config = searcher.suggest(str(number))
        assert set(config) == set(param_space)
        params = nni_space.decode(space, config)
        assert -8 <= params["b"] <= 8
        searcher.on_trial_complete(str(number), {"default": float(number)})


def test_evolution_mutates_one_parameter_of_the_better_of_two() -> None:
    space = {f"x{i}": {"_type": "uniform", "_value": [0, 1]} for i in range(4)}
    search = _search(SearcherKind.EVOLUTION, space, population_size=5)
    finished: list[dict[str, Any]] = []
    for number in range(5):  # the random first generation
        config = search.suggest(f"r{number}")
        finished.append(nni_space.decode(space, config))
        result = {"default": sum(finished[-1].values()), "nni_type": "FINAL"}
        search.on_trial_complete(f"r{number}", result)
    for number in range(10):
        child = nni_space.decode(space, search.suggest(f"c{number}"))
        changed = [min(sum(child[k] != p[k] for k in space) for p in finished)]
        assert changed == [1], (child, finished)
        finished.append(child)
        result = {"default": sum(child.values()), "nni_type": "FINAL"}
        search.on_trial_complete(f"c{number}", result)
