"""Tune searchers that keep NNI's search semantics: exact random and grid search, Batch,
and a wrapper that gives any searcher NNI's deduplication, its end of a finite space, and a
warm start from trials that already ran (``--resume``, ``--from-nni``)."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterable, Iterator
from typing import Any

from ray.tune.search import Searcher

from nni2ray.experiment import nni_space
from nni2ray.experiment.model import SearchSpace
from nni2ray.experiment.sampling import sample
from nni2ray.translate import nni_grid
from nni2ray.trials import FINAL, PARAMETERS_KEY, SEQUENCE_KEY, ResultKey, finite_scalar


class RandomSampler(Searcher):
    """NNI's Random tuner: every parameter drawn with NNI's own formulas."""

    def __init__(self, model: SearchSpace, space_json: dict[str, Any], seed: int | None) -> None:
        super().__init__()
        self._model, self._space, self._rng = model, space_json, random.Random(seed)

    def suggest(self, trial_id: str) -> dict[str, Any]:
        return nni_space.encode(self._space, sample(self._model, self._rng))

    def skip(self, count: int) -> None:
        """Draw ``count`` points and drop them: a resumed seeded run continues its sequence
        instead of suggesting the points it already ran."""
        for _ in range(count):
            sample(self._model, self._rng)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        return None


class GridSearcher(Searcher):
    """NNI 3.0's GridSearch, points in its order (continuous parameters start at their
    median and the grid is refined); ends when the space is used up."""

    def __init__(self, space_json: dict[str, Any]) -> None:
        super().__init__()
        self._space = space_json
        self._index = 0
        self._points: Iterator[dict[str, Any]] | None = None

    def suggest(self, trial_id: str) -> dict[str, Any] | str:  # type: ignore[override]
        if self._points is None:  # after unpickling, continue where the grid stopped
            self._points = itertools.islice(nni_grid.grid_points(self._space), self._index, None)
        point = next(self._points, None)
        if point is None:
            return Searcher.FINISHED
        self._index += 1
        return nni_space.encode(self._space, point)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
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

    def suggest(self, trial_id: str) -> dict[str, Any] | str:  # type: ignore[override]
        if self._index >= len(self._options):
            return Searcher.FINISHED
        self._index += 1
        return {PARAMETERS_KEY: self._options[self._index - 1]}

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
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
        # Grid and Batch enumerate a finite list: on a repeat, ask them for their next point.
        self._exhaustive = isinstance(inner, (GridSearcher, BatchSearcher))
        self._replay: list[dict[str, Any]] = []  # configs to run first (interrupted trials)
        self._replayed: dict[str, dict[str, Any]] = {}  # trial id -> replayed config

    def add_known_points(self, points: Iterable[tuple[Any, float | None]]) -> int:
        """Warm-start from trials that already ran; they are not suggested again.

        Args:
            points: ``(parameters, final value)`` pairs, parameters as the trial received
                them (NNI values); the value is None for a trial without a usable result.

        Returns:
            How many points with a value the wrapped searcher learned from (searchers that
            cannot learn from outside results, e.g. random search, learn none).
        """
        learned = 0
        for params, value in points:
            if self._seen is not None:
                self._seen.add(_params_key(self._space, params))
            if value is None or not math.isfinite(value):
                continue
            latent = self._latent(params)
            if latent is not None and _teach(self._inner, latent, value):
                learned += 1
        return learned

    def add_replay_points(self, params_list: Iterable[Any]) -> int:
        """Suggest these parameters first (trials that were running when a run stopped)."""
        for params in params_list:
            latent = self._latent(params)
            if latent is not None:
                self._replay.append(latent)
        return len(self._replay)

    def start_sequence_at(self, sequence: int, *, suggested_before: int = 0) -> None:
        """Number new trials from ``sequence``; move a seeded sampler past the points it
        suggested in the runs before, so that it does not suggest them again."""
        self._next_sequence = sequence
        skip = getattr(self._inner, "skip", None)  # RandomSampler, AnnealSearcher
        if callable(skip):
            skip(suggested_before)

    def _latent(self, params: Any) -> dict[str, Any] | None:
        if not isinstance(self._space, dict) or isinstance(self._inner, BatchSearcher):
            return {PARAMETERS_KEY: params}
        if not isinstance(params, dict):
            return None
        try:
            return nni_space.encode(self._space, {k: params[k] for k in self._space})
        except (KeyError, ValueError, TypeError):
            return None  # parameters from another search space: shown, not learned from

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        self._inner.set_search_properties(metric, mode, config, **spec)
        return True

    # Ray's annotation omits Searcher.FINISHED, the string a searcher returns when done.
    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:  # type: ignore[override]
        config = self._from_replay(trial_id) or self._inner.suggest(trial_id)
        if self._exhaustive and self._seen is not None:
            while isinstance(config, dict) and _key(self._space, config) in self._seen:
                config = self._inner.suggest(trial_id)
        if not isinstance(config, dict):  # None (wait) or Searcher.FINISHED
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

    def _from_replay(self, trial_id: str) -> dict[str, Any] | None:
        while self._replay:
            config = self._replay.pop(0)
            if self._seen is None or _key(self._space, config) not in self._seen:
                self._replayed[trial_id] = config
                return config
        return None

    def _next_unseen(self) -> dict[str, Any] | None:
        assert self._seen is not None
        if self._fallback is None:
            self._fallback = nni_space.grid(self._space)
        for point in self._fallback:
            latent = nni_space.encode(self._space, point)
            if _key(self._space, latent) not in self._seen:
                return latent
        return None

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        return None

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        value = finite_scalar((result or {}).get(self.metric))
        usable = (
            not error
            and result is not None
            and result.get(ResultKey.TYPE) == FINAL
            and value is not None
        )
        replayed = self._replayed.pop(trial_id, None)
        if replayed is not None:  # the wrapped searcher never saw this trial
            if usable and value is not None:
                _teach(self._inner, replayed, value)
        elif usable:
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


def _params_key(space: Any, params: Any) -> str:
    """The dedup key of parameters as a trial received them (extra keys such as
    ``TRIAL_BUDGET`` dropped), equal to :func:`_key` of their latent config."""
    if isinstance(space, dict) and isinstance(params, dict) and all(k in params for k in space):
        params = {k: params[k] for k in space}
    return json.dumps(params, sort_keys=True, default=str)


def _teach(inner: Searcher, latent: dict[str, Any], value: float) -> bool:
    """Give a searcher one finished point; False when it cannot learn from outside results
    (searchers without ``add_evaluated_point``: random, grid, batch) or
    the point lies outside what it searches."""
    try:
        inner.add_evaluated_point(latent, value)
    except (NotImplementedError, ValueError, KeyError):
        return False
    return True
