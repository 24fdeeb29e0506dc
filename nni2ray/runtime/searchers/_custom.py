"""A Tune searcher driven by a user's NNI tuner, with NNI's call sequence.

NNI's manager asks the tuner for ``trialConcurrency`` trials at the start and for one more
each time a trial ends; a request the tuner cannot serve (``NoMoreTrialError``) is lost,
and trials pushed later through ``st_callback`` start as soon as a slot is free. The
searcher keeps that accounting as "credits": Tune asks for a trial whenever a slot is
free, and the tuner is asked only while a credit is left.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ray.tune.search import Searcher

from nni2ray.runtime._user_algorithms import (
    CALL_FAILED,
    UserAlgorithm,
    is_tuner,
    load_algorithm,
    load_nni_algorithm,
    not_a_tuner,
)
from nni2ray.trials import (
    EARLY_STOPPED,
    FINAL,
    PARAMETERS_KEY,
    PERIODICAL,
    SEQUENCE_KEY,
    SUCCEEDED,
    ResultKey,
    reported_value,
)

_NO_MORE = ("NoMoreTrialError",)


@dataclass
class _TunerTrial:
    parameter_id: Any
    parameters: Any
    last_intermediate: Any = None
    has_intermediate: bool = False
    finals: set[Any] = field(default_factory=set)  # nni_sequence of every final delivered


class CustomTunerSearch(Searcher):
    """Run a user's NNI tuner as a Tune searcher.

    Args:
        algorithm: the loaded tuner; ``update_search_space`` has already been called.
        concurrency: trialConcurrency, NNI's first request size.
        include_intermediate_results: v1's flag: the last intermediate result of a trial
            the assessor stopped is sent to the tuner as its final result.
    """

    def __init__(
        self,
        algorithm: UserAlgorithm,
        *,
        concurrency: int,
        metric: str,
        mode: str,
        include_intermediate_results: bool = False,
    ) -> None:
        super().__init__(metric=metric, mode=mode)
        self.user_algorithm = algorithm
        self._credits = concurrency
        self._include_intermediate = include_intermediate_results
        self._next_id = 0
        self._next_sequence = 0
        self._pushed: deque[tuple[Any, Any]] = deque()
        self._trials: dict[str, _TunerTrial] = {}

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        return True

    # Searcher.FINISHED is a str, which Ray's annotation of suggest leaves out.
    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:  # type: ignore[override]
        if self.user_algorithm.failure is not None:
            return Searcher.FINISHED
        if not self._pushed and self._credits > 0:
            self._request()
        if self._pushed:
            parameter_id, parameters = self._pushed.popleft()
            return self._start(trial_id, parameter_id, parameters)
        if self.user_algorithm.failure is not None:
            return Searcher.FINISHED
        # NoMoreTrialError: wait while trials run (their ends bring new requests);
        # with nothing running NNI would wait forever, nni2ray ends the run.
        return None if self._trials else Searcher.FINISHED

    def _request(self) -> None:
        self._credits -= 1
        parameter_id = self._next_id
        self._next_id += 1
        try:
            generated = self.user_algorithm.call(
                "generate_multiple_parameters",
                [parameter_id],
                st_callback=self._push,
                passthrough=_NO_MORE,
            )
        except Exception:  # NoMoreTrialError from an overridden generate_multiple_parameters
            generated = []
        if generated is CALL_FAILED:
            return
        if not generated:
            self._credits = 0  # NNI drops the rest of a request the tuner cannot serve
            return
        self._pushed.appendleft((parameter_id, generated[0]))

    def _push(self, parameter_id: Any, parameters: Any) -> None:
        """NNI's ``st_callback``: start a trial with these parameters when a slot is free."""
        self._pushed.append((parameter_id, parameters))

    def _start(self, trial_id: str, parameter_id: Any, parameters: Any) -> dict[str, Any]:
        self._trials[trial_id] = _TunerTrial(parameter_id, copy.deepcopy(parameters))
        sequence = self._next_sequence
        self._next_sequence += 1
        return {PARAMETERS_KEY: parameters, SEQUENCE_KEY: sequence}

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        trial = self._trials.get(trial_id)
        if trial is not None:
            self._observe(trial_id, trial, result)

    def _observe(self, trial_id: str, trial: _TunerTrial, result: dict[str, Any]) -> None:
        kind, sequence = result.get(ResultKey.TYPE), result.get(ResultKey.SEQUENCE)
        if kind == PERIODICAL:
            trial.last_intermediate, trial.has_intermediate = reported_value(result), True
        elif kind == FINAL and sequence not in trial.finals:
            trial.finals.add(sequence)
            self._receive(trial_id, trial, reported_value(result))

    def _receive(self, trial_id: str, trial: _TunerTrial, value: Any) -> None:
        self.user_algorithm.call(
            "receive_trial_result",
            trial.parameter_id,
            copy.deepcopy(trial.parameters),
            value,
            customized=False,
            trial_job_id=trial_id,
        )

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        trial = self._trials.pop(trial_id, None)
        if trial is None:
            return
        self._credits += 1  # NNI requests one new trial whenever a trial ends
        result = result or {}
        if not error:
            self._observe(trial_id, trial, result)
        status = result.get(ResultKey.STATUS, EARLY_STOPPED)  # no status: stopped by Tune
        stopped = not error and status == EARLY_STOPPED
        if self._include_intermediate and stopped and trial.has_intermediate and not trial.finals:
            self._receive(trial_id, trial, trial.last_intermediate)
        success = not error and status == SUCCEEDED
        self.user_algorithm.call("trial_end", trial.parameter_id, success)

    def import_data(self, data: list[dict[str, Any]]) -> None:
        """Warm start: ``[{"parameter": ..., "value": ...}]`` as ``nnictl experiment import``."""
        self.user_algorithm.call("import_data", data)

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its configuration when the run starts; the user's tuner may hold
        # anything, and a run is not resumed from that copy.
        return dict(self.__dict__, user_algorithm=None, _pushed=deque())


def custom_tuner_searcher(
    kwargs: dict[str, Any], search_space: Any, *, concurrency: int, metric: str, mode: str
) -> CustomTunerSearch:
    """Load the user's tuner, hand it the raw search space, and wrap it.

    Raises:
        AlgorithmError: the tuner does not load, or its constructor or
            ``update_search_space`` raised.
        UnsupportedError: the class is an NNI advisor (a message dispatcher), not a tuner.
    """
    role = kwargs.get("role", "tuner")
    if kwargs.get("nni_builtin"):  # NNI's own class (--algorithm-backend auto|nni)
        title = f"NNI's {kwargs['nni_builtin']} {role}"
        algorithm = load_nni_algorithm(
            kwargs["class_name"], dict(kwargs.get("class_args") or {}), role, title
        )
    else:
        algorithm = load_algorithm(
            kwargs["class_name"],
            kwargs.get("code_directory"),
            dict(kwargs.get("class_args") or {}),
            role,
        )
    _check_is_tuner(algorithm, kwargs["class_name"])
    algorithm.call("update_search_space", search_space)
    if algorithm.failure is not None:
        raise algorithm.failure.error()
    return CustomTunerSearch(
        algorithm,
        concurrency=max(1, concurrency),
        metric=metric,
        mode=mode,
        include_intermediate_results=bool(kwargs.get("include_intermediate_results")),
    )


def _check_is_tuner(algorithm: UserAlgorithm, class_name: str) -> None:
    if not is_tuner(algorithm.obj):
        raise not_a_tuner(class_name, algorithm.file, algorithm.role)
