"""A Tune scheduler driven by a user's NNI assessor, with NNI's call sequence: ``assess_trial``
after each intermediate result, ``trial_end`` only for trials that reported one."""

from __future__ import annotations

from typing import Any

from ray.tune.schedulers import TrialScheduler

from nni2ray.runtime._user_algorithms import (
    CALL_FAILED,
    UserAlgorithm,
    load_algorithm,
)
from nni2ray.runtime.schedulers._nni_scheduler import NniScheduler, end_trial_process
from nni2ray.trials import PERIODICAL, SUCCEEDED, ResultKey, reported_value


class CustomAssessorScheduler(NniScheduler):
    """Ask a user's NNI assessor about every intermediate result; stop the trial on Bad.

    * ``assess_trial(trial_job_id, history)`` after each intermediate result, with every
      intermediate value as reported (numbers or dicts), until the trial is judged Bad.
    * ``trial_end(trial_job_id, success)`` when a trial that reported at least one
      intermediate result ends; ``success`` only for SUCCEEDED.
    * As :class:`NniScheduler`: never pauses, ends a stopped trial's process at once.
    * If the assessor raises, no new trial starts and running trials are stopped.
    """

    def __init__(self, algorithm: UserAlgorithm) -> None:
        super().__init__(None)
        self.user_algorithm = algorithm
        self._histories: dict[str, list[Any]] = {}

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
        if self.user_algorithm.failure is not None:
            return self._stop(trial)
        if result.get(ResultKey.TYPE) != PERIODICAL or trial.trial_id in self.stopped:
            return TrialScheduler.CONTINUE
        history = self._histories.setdefault(trial.trial_id, [])
        history.append(reported_value(result))
        verdict = self.user_algorithm.call("assess_trial", trial.trial_id, list(history))
        if verdict is not CALL_FAILED and not _is_verdict(verdict):
            message = (
                "Result of Assessor.assess_trial must be an object of AssessResult, "
                f"not {type(verdict)}"
            )
            self.user_algorithm.fail("assess_trial", RuntimeError(message))
        if self.user_algorithm.failure is not None:
            tune_controller.search_alg.set_finished()  # no new trials after a crash
            return self._stop(trial)
        if _value_of(verdict) is False:
            return self._stop(trial)
        return TrialScheduler.CONTINUE

    def _stop(self, trial: Any) -> str:
        self.stopped.add(trial.trial_id)
        end_trial_process(trial)
        return TrialScheduler.STOP

    def on_trial_complete(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> None:
        self._end(trial, (result or {}).get(ResultKey.STATUS) == SUCCEEDED)

    def on_trial_error(self, tune_controller: Any, trial: Any) -> None:
        self._end(trial, False)

    def on_trial_remove(self, tune_controller: Any, trial: Any) -> None:
        self._end(trial, False)

    def _end(self, trial: Any, success: bool) -> None:
        if self._histories.pop(trial.trial_id, None):
            self.user_algorithm.call("trial_end", trial.trial_id, success)

    def debug_string(self) -> str:
        return f"custom assessor {self.user_algorithm.class_name}"

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its configuration when the run starts; the user's assessor may
        # hold anything, and a run is not resumed from that copy.
        return dict(self.__dict__, user_algorithm=None)


def _is_verdict(verdict: Any) -> bool:
    return isinstance(verdict, bool) or type(verdict).__name__ == "AssessResult"


def _value_of(verdict: Any) -> bool:
    return bool(verdict.value) if type(verdict).__name__ == "AssessResult" else bool(verdict)


def custom_assessor_scheduler(kwargs: dict[str, Any]) -> CustomAssessorScheduler:
    """Load the user's assessor and wrap it.

    Raises:
        AlgorithmError: the assessor does not load or its constructor raised.
    """
    algorithm = load_algorithm(
        kwargs["class_name"],
        kwargs.get("code_directory"),
        dict(kwargs.get("class_args") or {}),
        "assessor",
    )
    return CustomAssessorScheduler(algorithm)
