"""NNI's Evolution rule as a Tune searcher over nni2ray's latent space (no extra package).

As NNI's EvolutionTuner: the first ``population_size`` trials are random; then two finished
individuals are drawn at random, the worse is replaced by the better, and a copy of the
better with ONE parameter redrawn at random is the next trial; the pair's second slot is
dropped and the new trial joins the population when its result arrives. A failed trial is
replaced by a new random individual.
"""

from __future__ import annotations

import copy
import math
import random
from typing import Any

from ray.tune.search import Searcher

from nni2ray.translate import nni_space


class EvolutionSearcher(Searcher):
    """NNI's naive evolution (tournament of two, one-parameter mutation)."""

    def __init__(
        self, space_json: dict[str, Any], population_size: int, seed: int | None, mode: str
    ) -> None:
        super().__init__(metric="default", mode=mode)
        self._space = space_json
        self._spec = nni_space.latent_spec(space_json)
        self._rng = random.Random(seed)
        self._sign = 1.0 if mode == "max" else -1.0
        self._random_left = max(1, population_size)
        self._population: list[tuple[dict[str, Any], float]] = []
        self._running: dict[str, dict[str, Any]] = {}

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        return True

    def _draw(self, key: str) -> Any:
        kind, args = self._spec[key]
        if kind == "choice":
            return self._rng.choice(list(args[0]))
        if kind == "randint":
            return self._rng.randrange(int(args[0]), int(args[1]))
        if kind == "uniform":
            return self._rng.uniform(float(args[0]), float(args[1]))
        if kind == "loguniform":
            return math.exp(self._rng.uniform(math.log(args[0]), math.log(args[1])))
        return self._rng.gauss(float(args[0]), float(args[1]))  # randn

    def _random(self) -> dict[str, Any]:
        return {key: self._draw(key) for key in self._spec}

    def _mutate(self, parent: dict[str, Any]) -> dict[str, Any]:
        child = copy.deepcopy(parent)
        before = nni_space.decode(self._space, parent)
        keys = list(self._spec)
        for _ in range(10):  # prefer a key the parent's branch uses (NNI mutates those)
            key = self._rng.choice(keys)
            child[key] = self._draw(key)
            if nni_space.decode(self._space, child) != before:
                break
            child[key] = parent[key]
        return child

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self._random_left > 0 or not self._population:
            if self._random_left == 0 and self._running:
                return None  # NNI waits for a result before it can mutate
            self._random_left = max(0, self._random_left - 1)
            config = self._random()
        else:
            population = self._population
            self._rng.shuffle(population)
            if len(population) > 1 and population[0][1] < population[1][1]:
                population[0] = population[1]
            config = self._mutate(population[0][0])
            if len(population) > 1:
                population.pop(1)
        self._running[trial_id] = config
        return dict(config)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        config = self._running.pop(trial_id, None)
        value = (result or {}).get(self.metric)
        if config is None:
            return
        if error or not isinstance(value, int | float) or not math.isfinite(value):
            self._random_left += 1  # NNI: a failed trial is replaced by a random individual
            return
        self._population.append((config, self._sign * float(value)))

    def add_evaluated_point(
        self,
        parameters: dict[str, Any],
        value: float,
        error: bool = False,
        pruned: bool = False,
        intermediate_values: list[float] | None = None,
    ) -> None:
        """Warm start: a finished latent point joins the population."""
        self._population.append(({k: parameters[k] for k in self._spec}, self._sign * value))
        self._random_left = max(0, self._random_left - 1)
