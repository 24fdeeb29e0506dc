"""Tune searchers that keep NNI's search semantics: exact random and grid search, Batch,
and a wrapper that gives any searcher NNI's deduplication and its end of a finite space."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterator
from typing import Any

from ray.tune.search import Searcher

from nni2ray.experiment.model import SearchSpace
from nni2ray.experiment.sampling import sample
from nni2ray.runtime._context import PARAMETERS_KEY, SEQUENCE_KEY
from nni2ray.runtime._trial_run import FINAL
from nni2ray.translate import nni_space


class RandomSampler(Searcher):
    """NNI's Random tuner: every parameter drawn with NNI's own formulas."""

    def __init__(self, model: SearchSpace, space_json: dict[str, Any], seed: int | None) -> None:
        super().__init__()
        self._model, self._space, self._rng = model, space_json, random.Random(seed)

    def suggest(self, trial_id: str) -> dict[str, Any]:
        return nni_space.encode(self._space, sample(self._model, self._rng))

    def on_trial_complete(
        self, trial_id: str, result: dict | None = None, error: bool = False
    ) -> None:
        return None


class GridSearcher(Searcher):
    """NNI's GridSearch over a finite space: every point once, last parameter fastest."""

    def __init__(self, space_json: dict[str, Any]) -> None:
        super().__init__()
        self._space = space_json
        self._index = 0
        self._points: Iterator[dict[str, Any]] | None = None

    def suggest(self, trial_id: str) -> dict[str, Any] | str:
        if self._points is None:  # after unpickling, continue where the grid stopped
            self._points = itertools.islice(nni_space.grid(self._space), self._index, None)
        point = next(self._points, None)
        if point is None:
            return Searcher.FINISHED
        self._index += 1
        return nni_space.encode(self._space, point)

    def on_trial_complete(
        self, trial_id: str, result: dict | None = None, error: bool = False
    ) -> None:
        return None

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__, _points=None)


class BatchSearcher(Searcher):
    """NNI's Batch tuner: each option of the single choice, as the trial's whole parameters."""

    def __init__(self, space_json: dict[str, Any]) -> None:
        super().__init__()
        (entry,) = space_json.values()
        self._options = list(entry["_value"])
        self._index = 0

    def suggest(self, trial_id: str) -> dict[str, Any] | str:
        if self._index >= len(self._options):
            return Searcher.FINISHED
        self._index += 1
        return {PARAMETERS_KEY: self._options[self._index - 1]}

    def on_trial_complete(
        self, trial_id: str, result: dict | None = None, error: bool = False
    ) -> None:
        return None


class NniSearch(Searcher):
    """Wrap a searcher with NNI's rules.

    * In a finite space a repeated configuration is replaced by the next unseen grid
      point, and the search ends when none is left (NNI's Random/TPE deduplication; NNI
      then hangs in TUNER_NO_MORE_TRIAL, nni2ray ends the run).
    * The wrapped searcher learns only real final results: an early-stopped, failed or
      metric-less trial is reported to it as an error, as NNI calls only ``trial_end``.
    """

    def __init__(self, inner: Searcher, space_json: Any, metric: str, mode: str) -> None:
        super().__init__(metric=metric, mode=mode)
        self._inner = inner
        self._space = space_json
        finite = isinstance(space_json, dict) and nni_space.is_finite(space_json)
        self._seen: set[str] | None = set() if finite else None
        self._fallback: Iterator[dict[str, Any]] | None = None
        self._next_sequence = 0

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict, **spec: Any
    ) -> bool:
        self._inner.set_search_properties(metric, mode, config, **spec)
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:
        config = self._inner.suggest(trial_id)
        if config is None or config == Searcher.FINISHED:
            return config
        if self._seen is not None:
            if _key(self._space, config) in self._seen:
                config = self._next_unseen()
                if config is None:
                    return Searcher.FINISHED
            self._seen.add(_key(self._space, config))
        # NNI numbers trials 0, 1, 2, ... in creation order (NNI_TRIAL_SEQ_ID).
        config = dict(config, **{SEQUENCE_KEY: self._next_sequence})
        self._next_sequence += 1
        return config

    def _next_unseen(self) -> dict[str, Any] | None:
        assert self._seen is not None
        if self._fallback is None:
            self._fallback = nni_space.grid(self._space)
        for point in self._fallback:
            latent = nni_space.encode(self._space, point)
            if _key(self._space, latent) not in self._seen:
                return latent
        return None

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        return None

    def on_trial_complete(
        self, trial_id: str, result: dict | None = None, error: bool = False
    ) -> None:
        value = (result or {}).get(self.metric)
        usable = (
            not error
            and result is not None
            and result.get("nni_type") == FINAL
            and isinstance(value, (int, float))
            and math.isfinite(value)
        )
        if usable:
            self._inner.on_trial_complete(trial_id, {self.metric: value}, error=False)
        else:
            self._inner.on_trial_complete(trial_id, None, error=True)

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__, _fallback=None)  # a generator does not pickle

    def save(self, checkpoint_path: str) -> None:
        self._inner.save(checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        self._inner.restore(checkpoint_path)


def _key(space: Any, latent: dict[str, Any]) -> str:
    params = latent[PARAMETERS_KEY] if PARAMETERS_KEY in latent else nni_space.decode(space, latent)
    return json.dumps(params, sort_keys=True, default=str)
