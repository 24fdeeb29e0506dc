"""hyperopt's TPE or Anneal as a Tune searcher over nni2ray's latent space."""

from __future__ import annotations

from typing import Any

from ray.tune.search import Searcher

from nni2ray.errors import MissingDependencyError
from nni2ray.experiment import nni_space
from nni2ray.translate import TunePlan
from nni2ray.translate.param_space import DomainCall


def hyperopt_searcher(plan: TunePlan) -> Searcher:
    """HyperOptSearch with the plan's ``algo``, seed, ``n_initial_points`` and ``gamma``.

    Raises:
        MissingDependencyError: hyperopt is not installed.
    """
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
    if kwargs.get("algo") == "anneal":  # HyperOptSearch always builds TPE; swap the algorithm
        setattr(searcher, "algo", hyperopt.anneal.suggest)  # noqa: B010 (untyped attribute)
    return searcher
