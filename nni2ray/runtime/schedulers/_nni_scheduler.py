"""Tune schedulers with NNI's early-stopping semantics.

:class:`NniScheduler` shows a wrapped scheduler only the intermediate results (NNI's
assessors never judge the final result), never pauses a trial (a paused subprocess trial
would restart from scratch), and ends a stopped trial's process tree at once.
:class:`MedianstopScheduler` is NNI's Medianstop assessor rule, implemented exactly.
"""

from __future__ import annotations

import logging
from typing import Any

from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from nni2ray.trials import PERIODICAL, SUCCEEDED, ResultKey, finite_scalar

logger = logging.getLogger(__name__)


def _judgeable(result: dict[str, Any]) -> bool:
    metric = finite_scalar(result.get(ResultKey.METRIC))
    return result.get(ResultKey.TYPE) == PERIODICAL and metric is not None


def end_trial_process(trial: Any) -> None:
    """Ask the trial's actor to end its process tree now (the actor may be cached)."""
    actor = getattr(getattr(trial, "temporary_state", None), "ray_actor", None)
    if actor is not None:
        actor.end_trial_process.remote()


class NniScheduler(FIFOScheduler):
    """Wrap a Tune scheduler so that it acts like an NNI assessor."""

    def __init__(self, inner: TrialScheduler | None) -> None:
        super().__init__()
        self._inner = inner
        self.stopped: set[str] = set()

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        if self._inner is not None:
            self._inner.set_search_properties(metric, mode, **spec)
        return True

    def on_trial_add(self, tune_controller: Any, trial: Any) -> None:
        if self._inner is not None:
            self._inner.on_trial_add(tune_controller, trial)

    def on_trial_error(self, tune_controller: Any, trial: Any) -> None:
        if self._inner is not None:
            self._inner.on_trial_error(tune_controller, trial)

    def on_trial_remove(self, tune_controller: Any, trial: Any) -> None:
        if self._inner is not None:
            self._inner.on_trial_remove(tune_controller, trial)

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
        if self._inner is None or not _judgeable(result):
            return TrialScheduler.CONTINUE
        decision = self._inner.on_trial_result(tune_controller, trial, result)
        if decision == TrialScheduler.STOP:
            self.stopped.add(trial.trial_id)
            end_trial_process(trial)
            return decision
        return TrialScheduler.CONTINUE  # never PAUSE: it would restart the trial

    def on_trial_complete(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> None:
        if self._inner is not None:
            self._inner.on_trial_complete(tune_controller, trial, result or {})

    def debug_string(self) -> str:
        return self._inner.debug_string() if self._inner is not None else "FIFO"


class MedianstopScheduler(FIFOScheduler):
    """NNI's Medianstop assessor, exactly.

    A trial with at least ``start_step`` intermediate results is stopped when its best
    value so far is worse than the median, over completed SUCCEEDED trials with at least as
    many results, of their running averages over the same number of results.
    """

    def __init__(self, optimize_mode: str = "maximize", start_step: int = 0) -> None:
        super().__init__()
        self._maximize = optimize_mode != "minimize"
        self._start_step = start_step
        self._histories: dict[str, list[float]] = {}
        self._completed: list[list[float]] = []

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        return True

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
        history = self._histories.setdefault(trial.trial_id, [])
        history.append(float(result[ResultKey.METRIC]))
        return TrialScheduler.STOP if self.is_bad(history) else TrialScheduler.CONTINUE

    def is_bad(self, history: list[float]) -> bool:
        steps = len(history)
        if steps < self._start_step:
            return False
        averages = sorted(sum(h[:steps]) / steps for h in self._completed if len(h) >= steps)
        if not averages:
            return False
        if self._maximize:
            median = averages[(len(averages) - 1) // 2]
            return max(history) < median
        median = averages[len(averages) // 2]
        return min(history) > median

    def on_trial_complete(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> None:
        history = self._histories.pop(trial.trial_id, [])
        if (result or {}).get(ResultKey.STATUS) == SUCCEEDED and len(history) >= self._start_step:
            self._completed.append(history)

    def on_trial_error(self, tune_controller: Any, trial: Any) -> None:
        self._histories.pop(trial.trial_id, None)

    def on_trial_remove(self, tune_controller: Any, trial: Any) -> None:
        self._histories.pop(trial.trial_id, None)
