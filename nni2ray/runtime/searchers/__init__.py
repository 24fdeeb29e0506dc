"""SEARCHERS: each :class:`SearcherKind` of a plan -> the live Tune searcher that runs it.

Searchers that draw NNI parameters from a latent space (random, grid, batch, hyperopt,
Optuna's samplers) are
wrapped in :class:`NniSearch` (NNI's dedup and end of finite spaces); the ones that hand out
NNI parameters verbatim (custom tuners, Hyperband, BOHB, PBT) are not.
"""

from __future__ import annotations

from collections.abc import Callable

from ray.tune.search import Searcher

from nni2ray.experiment import Experiment
from nni2ray.runtime.searchers._custom import CustomTunerSearch, custom_tuner_searcher
from nni2ray.runtime.searchers._evolution import EvolutionSearcher
from nni2ray.runtime.searchers._hyperband import BracketSearch, bohb_searcher, hyperband_searcher
from nni2ray.runtime.searchers._hyperopt import AnnealSearcher, hyperopt_searcher
from nni2ray.runtime.searchers._nni_search import (
    BatchSearcher,
    GridSearcher,
    NniSearch,
    RandomSampler,
)
from nni2ray.runtime.searchers._optuna import OptunaLatentSearch, optuna_searcher
from nni2ray.runtime.searchers._pbt import PbtPopulation, PbtSearch, pbt_searcher
from nni2ray.translate import SearcherKind, TunePlan

__all__ = [
    "SEARCHERS",
    "AnnealSearcher",
    "BracketSearch",
    "CustomTunerSearch",
    "EvolutionSearcher",
    "NniSearch",
    "OptunaLatentSearch",
    "PbtPopulation",
    "PbtSearch",
    "SearcherBuilder",
    "build_searcher",
    "hyperopt_searcher",
    "optuna_searcher",
]

#: A registry entry: the plan and its experiment -> the searcher Tune drives.
SearcherBuilder = Callable[[TunePlan, Experiment], Searcher]


def _random(plan: TunePlan, experiment: Experiment) -> Searcher:
    if experiment.search_space is None:
        raise AssertionError("unreachable: random search without a parsed search space")
    seed = plan.searcher.kwargs.get("seed")
    return _wrapped(plan, RandomSampler(experiment.search_space, plan.search_space, seed))


def _grid(plan: TunePlan, experiment: Experiment) -> Searcher:
    return _wrapped(plan, GridSearcher(plan.search_space))


def _batch(plan: TunePlan, experiment: Experiment) -> Searcher:
    return _wrapped(plan, BatchSearcher(plan.search_space))


def _hyperopt(plan: TunePlan, experiment: Experiment) -> Searcher:
    if not plan.search_space:  # hyperopt cannot search an empty space
        return _random(plan, experiment)
    return _wrapped(plan, hyperopt_searcher(plan))


def _optuna(plan: TunePlan, experiment: Experiment) -> Searcher:
    if not plan.search_space:  # Optuna cannot search an empty space
        return _random(plan, experiment)
    return _wrapped(plan, optuna_searcher(plan))


def _evolution(plan: TunePlan, experiment: Experiment) -> Searcher:
    if not plan.search_space:
        return _random(plan, experiment)
    kwargs = plan.searcher.kwargs
    size = int(kwargs.get("population_size", 32))
    return _wrapped(plan, EvolutionSearcher(plan.search_space, size, kwargs.get("seed"), plan.mode))


def _custom(plan: TunePlan, experiment: Experiment) -> Searcher:
    return custom_tuner_searcher(
        plan.searcher.kwargs,
        plan.search_space,
        concurrency=plan.max_concurrent_trials,
        metric=plan.metric,
        mode=plan.mode,
    )


def _wrapped(plan: TunePlan, inner: Searcher) -> Searcher:
    return NniSearch(inner, plan.search_space, plan.metric, plan.mode)


SEARCHERS: dict[SearcherKind, SearcherBuilder] = {
    SearcherKind.RANDOM: _random,
    SearcherKind.GRID: _grid,
    SearcherKind.BATCH: _batch,
    SearcherKind.HYPEROPT: _hyperopt,
    SearcherKind.TPE: _optuna,
    SearcherKind.GP: _optuna,
    SearcherKind.EVOLUTION: _evolution,
    SearcherKind.HYPERBAND: hyperband_searcher,
    SearcherKind.BOHB: bohb_searcher,
    SearcherKind.PBT: pbt_searcher,
    SearcherKind.CUSTOM: _custom,
}


def build_searcher(plan: TunePlan, experiment: Experiment) -> Searcher:
    """The plan's searcher, wrapped with NNI's dedup and completion rules where it applies.

    Raises:
        AlgorithmError: a custom tuner does not load or its setup raised.
        MissingDependencyError: the searcher's optional package is not installed.
    """
    return SEARCHERS[plan.searcher.kind](plan, experiment)
