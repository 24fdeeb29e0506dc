"""Turn a :class:`TunePlan` into live Ray Tune searchers and schedulers."""

from __future__ import annotations

from typing import Any

from ray.tune.schedulers import AsyncHyperBandScheduler, TrialScheduler
from ray.tune.search import Searcher

from nni2ray.errors import MissingDependencyError, UnsupportedError
from nni2ray.experiment.model import Experiment
from nni2ray.runtime.schedulers._nni_scheduler import MedianstopScheduler, NniScheduler
from nni2ray.runtime.searchers._nni_search import (
    BatchSearcher,
    GridSearcher,
    NniSearch,
    RandomSampler,
)
from nni2ray.translate import TunePlan, nni_space
from nni2ray.translate.param_space import DomainCall
from nni2ray.trials import ResultKey


def build_searcher(plan: TunePlan, experiment: Experiment) -> Searcher:
    """The plan's searcher, wrapped with NNI's dedup and completion rules.

    Custom tuners, Hyperband and BOHB hand out NNI parameters verbatim and are not wrapped.

    Raises:
        AlgorithmError: a custom tuner does not load or its setup raised.
    """
    call = plan.searcher
    space = plan.search_space
    if call.kind == "custom":
        from nni2ray.runtime.searchers._custom import custom_tuner_searcher

        concurrency = plan.max_concurrent_trials
        return custom_tuner_searcher(
            call.kwargs, space, concurrency=concurrency, metric=plan.metric, mode=plan.mode
        )
    if call.kind in ("hyperband", "bohb"):
        from nni2ray.runtime.searchers._hyperband import bracket_searcher

        if experiment.search_space is None:
            raise AssertionError("unreachable: an advisor without a parsed search space")
        return bracket_searcher(
            call.kind, call.kwargs, experiment.search_space, metric=plan.metric, mode=plan.mode
        )
    if call.kind == "batch":
        inner: Searcher = BatchSearcher(space)
    elif call.kind == "grid":
        inner = GridSearcher(space)
    elif call.kind == "random" or not space:  # hyperopt cannot search an empty space
        if experiment.search_space is None:
            raise AssertionError("unreachable: random search without a parsed search space")
        inner = RandomSampler(experiment.search_space, space, call.kwargs.get("seed"))
    elif call.kind == "hyperopt":
        inner = _hyperopt(plan)
    else:
        raise UnsupportedError(f"searcher {call.kind!r} is not available", field="tuner")
    return NniSearch(inner, space, plan.metric, plan.mode)


def _hyperopt(plan: TunePlan) -> Searcher:
    try:
        import hyperopt
        from ray.tune.search.hyperopt import HyperOptSearch
    except ImportError as exc:
        raise MissingDependencyError(
            f"the {plan.searcher.nni_name} tuner runs on hyperopt, which is not installed",
            field="tuner.name",
            hint="pip install 'nni2ray[hyperopt]'",
        ) from exc
    kwargs = plan.searcher.kwargs
    domains = {
        key: DomainCall(kind, tuple(args)).build()
        for key, (kind, args) in nni_space.latent_spec(plan.search_space).items()
    }
    options: dict[str, Any] = {"random_state_seed": kwargs.get("random_state_seed")}
    for key in ("n_initial_points", "gamma"):
        if key in kwargs:
            options[key] = kwargs[key]
    searcher = HyperOptSearch(
        space=HyperOptSearch.convert_search_space(domains) if domains else None,
        metric=plan.metric,
        mode=plan.mode,
        **options,
    )
    if kwargs.get("algo") == "anneal":
        searcher.algo = hyperopt.anneal.suggest
    return searcher


def build_scheduler(plan: TunePlan) -> TrialScheduler:
    """The plan's scheduler behind NNI's assessor rules (intermediate results only).

    Raises:
        AlgorithmError: a custom assessor does not load or its constructor raised.
    """
    call = plan.scheduler
    if call.kind == "custom":
        from nni2ray.runtime.schedulers._custom import custom_assessor_scheduler

        return custom_assessor_scheduler(call.kwargs)
    inner: TrialScheduler | None
    if call.kind == "asha":
        inner = AsyncHyperBandScheduler(
            time_attr=ResultKey.STEP, metric=plan.metric, mode=plan.mode, **call.kwargs
        )
    elif call.kind == "medianstop":
        inner = MedianstopScheduler(**call.kwargs)
    elif call.kind == "fifo":
        inner = None
    else:
        raise UnsupportedError(f"scheduler {call.kind!r} is not available", field="assessor")
    return NniScheduler(inner)
