"""NNI's Anneal without NNI: hyperopt's anneal algorithm as a Tune searcher over nni2ray's
latent space, fed as NNI's own Anneal tuner (``HyperoptTuner``) feeds it. Only hyperopt's
public API is used.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ray.tune.search import Searcher

from nni2ray.errors import MissingDependencyError
from nni2ray.experiment import nni_space
from nni2ray.translate import TunePlan
from nni2ray.translate.param_space import DomainCall


def _hyperopt_space(space_json: Any) -> dict[str, Any]:
    """hyperopt's expression of nni2ray's latent space, one label per latent key."""
    from ray.tune.search.hyperopt import HyperOptSearch

    domains = {
        key: DomainCall(kind, tuple(args)).build()
        for key, (kind, args) in nni_space.latent_spec(space_json).items()
    }
    return HyperOptSearch.convert_search_space(domains) if domains else {}


def hyperopt_searcher(plan: TunePlan) -> Searcher:
    """The searcher for a hyperopt plan: NNI's Anneal, :class:`AnnealSearcher` (hyperopt's
    TPE plans are written into converted projects only, where Ray Tune's HyperOptSearch
    runs them).

    Raises:
        MissingDependencyError: hyperopt is not installed.
    """
    algo = plan.searcher.kwargs.get("algo")
    if algo != "anneal":
        raise ValueError(f"nni2ray runs hyperopt's anneal only, not {algo!r}")
    try:
        import hyperopt  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            f"the {plan.searcher.nni_name} tuner runs on hyperopt, which is not installed",
            field="tuner.name",
            hint="pip install 'nni2ray[hyperopt]'",
        ) from exc
    seed = plan.searcher.kwargs.get("random_state_seed")
    return AnnealSearcher(plan.search_space, plan.metric, plan.mode, seed)


class AnnealSearcher(Searcher):
    """hyperopt's anneal algorithm, fed as NNI's Anneal tuner feeds it.

    NNI's tuner gives hyperopt the finished trials only: a pending trial is not in the
    history the next proposal is drawn from (Ray's HyperOptSearch adds every pending trial,
    which also makes anneal's step shrink with trials that have no result). A proposal
    equal to an earlier one is replaced by one of hyperopt's random draws, as NNI does. A
    failed trial teaches nothing. ``add_evaluated_point`` adds a finished point (a
    ``--resume`` or ``--from-nni`` run learns the earlier trials).
    """

    def __init__(self, space_json: Any, metric: str, mode: str, seed: int | None) -> None:
        import hyperopt
        import numpy as np

        super().__init__(metric=metric, mode=mode)
        self._hyperopt = hyperopt
        self._spec = nni_space.latent_spec(space_json)
        self._space = _hyperopt_space(space_json)
        self._domain = hyperopt.Domain(lambda config: config, self._space)
        self._trials = hyperopt.Trials()
        # NNI's tuner draws each proposal's seed so (numpy's legacy RandomState).
        self._rstate = np.random.RandomState(seed)
        self._sign = -1.0 if mode == "max" else 1.0  # hyperopt minimises
        self._running: dict[str, dict[str, Any]] = {}  # trial id -> hyperopt's trial document
        self._proposed: set[str] = set()

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        return True

    def skip(self, count: int) -> None:
        """Move the random state past ``count`` proposals (a resumed run's earlier ones)."""
        for _ in range(count):
            self._seed()

    def _seed(self) -> int:
        return int(self._rstate.randint(2**31 - 1))

    def _propose(self, algorithm: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        trials = self._trials
        new_ids = trials.new_trial_ids(1)
        trials.refresh()
        doc = algorithm(new_ids, self._domain, trials, self._seed())[0]
        assignment = self._hyperopt.base.spec_from_misc(doc["misc"])
        config = self._hyperopt.space_eval(self._space, assignment)
        return doc, dict(config)

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        doc, config = self._propose(self._hyperopt.anneal.suggest)
        key = json.dumps(config, sort_keys=True, default=str)
        if key in self._proposed:  # NNI: a repeated proposal becomes a random one
            doc, config = self._propose(self._hyperopt.rand.suggest)
            key = json.dumps(config, sort_keys=True, default=str)
        self._proposed.add(key)
        self._running[trial_id] = doc
        return config

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        doc = self._running.pop(trial_id, None)
        value = (result or {}).get(self.metric)
        if doc is None or error or not isinstance(value, int | float) or math.isnan(value):
            return
        self._add(doc, float(value))

    def add_evaluated_point(
        self,
        parameters: dict[str, Any],
        value: float,
        error: bool = False,
        pruned: bool = False,
        intermediate_values: list[float] | None = None,
    ) -> None:
        """A finished latent point joins the history (``KeyError``/``ValueError`` when it
        lies outside this space)."""
        if error or math.isnan(value):
            return
        trials = self._trials
        (tid,) = trials.new_trial_ids(1)
        vals: dict[str, list[Any]] = {}
        for key, (kind, args) in self._spec.items():
            point = parameters[key]
            vals[key] = [list(args[0]).index(point) if kind == "choice" else float(point)]
        misc = {
            "tid": tid,
            "cmd": self._domain.cmd,
            "workdir": self._domain.workdir,
            "idxs": {key: [tid] for key in vals},
            "vals": vals,
        }
        (doc,) = trials.new_trial_docs([tid], [None], [self._domain.new_result()], [misc])
        self._add(doc, value)

    def _add(self, doc: dict[str, Any], value: float) -> None:
        doc["state"] = self._hyperopt.JOB_STATE_DONE
        doc["result"] = {"loss": self._sign * value, "status": "ok"}
        self._trials.insert_trial_docs([doc])
        self._trials.refresh()
