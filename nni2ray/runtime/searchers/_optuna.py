"""Optuna's TPE and GP samplers as Tune searchers over nni2ray's latent space (Ray's OptunaSearch).

Latent keys may contain ``/`` (nested choices), which OptunaSearch reads as nesting; the
searcher below hands OptunaSearch the keys ``p0, p1, ...`` instead and maps them back, using
only OptunaSearch's public API (``suggest``, ``on_trial_complete``, ``add_evaluated_point``).
"""

from __future__ import annotations

from typing import Any

from ray.tune.search import Searcher

from nni2ray.errors import MissingDependencyError
from nni2ray.translate import SearcherKind, TunePlan, nni_space

#: A normal latent (NNI's normal/lognormal families) is searched over mu +- this many sigma.
NORMAL_SPAN = 4.0

_INSTALL = "pip install 'nni2ray[optuna]'"


def _distributions(space_json: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    from optuna.distributions import (
        BaseDistribution,
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    keys: list[str] = []
    dists: dict[str, BaseDistribution] = {}
    for index, (key, (kind, args)) in enumerate(nni_space.latent_spec(space_json).items()):
        keys.append(key)
        name = f"p{index}"
        if kind == "choice":
            dists[name] = CategoricalDistribution(list(args[0]))
        elif kind == "randint":
            dists[name] = IntDistribution(int(args[0]), int(args[1]) - 1)
        elif kind == "uniform":
            dists[name] = FloatDistribution(float(args[0]), float(args[1]))
        elif kind == "loguniform":
            dists[name] = FloatDistribution(float(args[0]), float(args[1]), log=True)
        elif kind == "randn":
            mu, sigma = float(args[0]), abs(float(args[1]))
            dists[name] = FloatDistribution(mu - NORMAL_SPAN * sigma, mu + NORMAL_SPAN * sigma)
        else:
            raise AssertionError(f"unreachable: latent kind {kind!r}")
    return keys, dists


def _sampler(kind: SearcherKind, kwargs: dict[str, Any], nni_name: str) -> Any:
    import optuna

    seed = kwargs.get("seed")
    if kind == SearcherKind.TPE:
        options: dict[str, Any] = {
            "seed": seed,
            "constant_liar": True,
            "n_startup_trials": int(kwargs.get("n_startup_trials", 20)),
        }
        for key in ("n_ei_candidates", "prior_weight"):
            if key in kwargs:
                options[key] = kwargs[key]
        return optuna.samplers.TPESampler(**options)
    if kind == SearcherKind.GP:
        try:
            import importlib

            importlib.import_module("scipy")
            importlib.import_module("torch")
        except ImportError as exc:
            raise MissingDependencyError(
                f"the {nni_name} tuner runs on Optuna's GPSampler, which needs torch and scipy",
                field="tuner.name",
                hint="pip install 'nni2ray[optuna]' torch",
            ) from exc
        return optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=int(kwargs.get("n_startup_trials", 10))
        )
    raise AssertionError(f"unreachable: {kind} is not an Optuna searcher")


class OptunaLatentSearch(Searcher):
    """Ray's OptunaSearch over the latent keys of an NNI search space."""

    def __init__(self, inner: Any, keys: list[str], metric: str, mode: str) -> None:
        super().__init__(metric=metric, mode=mode)
        self._inner = inner
        self._keys = keys
        self._names = {key: f"p{index}" for index, key in enumerate(keys)}

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        return True  # the space, metric and mode were fixed at construction

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        params = self._inner.suggest(trial_id)
        if params is None:
            return None
        return {key: params[self._names[key]] for key in self._keys}

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        return None  # Optuna's pruners are not used: the scheduler stops trials

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        self._inner.on_trial_complete(trial_id, result, error=error)

    def add_evaluated_point(
        self,
        parameters: dict[str, Any],
        value: float,
        error: bool = False,
        pruned: bool = False,
        intermediate_values: list[float] | None = None,
    ) -> None:
        """Learn one finished latent point (warm start); ValueError when a value lies
        outside the distribution Optuna searches."""
        renamed = {self._names[key]: parameters[key] for key in self._keys}
        self._inner.add_evaluated_point(renamed, value, error=error, pruned=pruned)

    def save(self, checkpoint_path: str) -> None:
        self._inner.save(checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        self._inner.restore(checkpoint_path)


def optuna_searcher(plan: TunePlan) -> Searcher:
    """The plan's Optuna sampler (TPE with a constant liar, or GP) as a searcher.

    Raises:
        MissingDependencyError: optuna (or, for GP, torch/scipy) is not installed.
    """
    try:
        import optuna
        from ray.tune.search.optuna import OptunaSearch
    except ImportError as exc:
        raise MissingDependencyError(
            f"the {plan.searcher.nni_name} tuner runs on Optuna, which is not installed",
            field="tuner.name",
            hint=_INSTALL,
        ) from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    keys, dists = _distributions(plan.search_space)
    sampler = _sampler(plan.searcher.kind, plan.searcher.kwargs, plan.searcher.nni_name)
    inner = OptunaSearch(space=dists, metric=plan.metric, mode=plan.mode, sampler=sampler)
    return OptunaLatentSearch(inner, keys, plan.metric, plan.mode)
