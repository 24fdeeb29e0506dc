"""SCHEDULERS: each :class:`SchedulerKind` of a plan -> the live Tune scheduler, always
behind :class:`NniScheduler` (NNI's assessor rules: judge intermediate results only)."""

from __future__ import annotations

from collections.abc import Callable

from ray.tune.schedulers import AsyncHyperBandScheduler, TrialScheduler

from nni2ray.runtime.schedulers._custom import CustomAssessorScheduler, custom_assessor_scheduler
from nni2ray.runtime.schedulers._nni_scheduler import (
    MedianstopScheduler,
    NniScheduler,
    end_trial_process,
)
from nni2ray.translate import SchedulerKind, TunePlan
from nni2ray.trials import ResultKey

__all__ = [
    "SCHEDULERS",
    "CustomAssessorScheduler",
    "MedianstopScheduler",
    "NniScheduler",
    "SchedulerBuilder",
    "build_scheduler",
    "end_trial_process",
]

#: A registry entry: the plan -> the scheduler Tune runs.
SchedulerBuilder = Callable[[TunePlan], TrialScheduler]


def _asha(plan: TunePlan) -> TrialScheduler:
    kwargs = plan.scheduler.kwargs
    inner = AsyncHyperBandScheduler(
        time_attr=ResultKey.STEP, metric=plan.metric, mode=plan.mode, **kwargs
    )
    return NniScheduler(inner)


def _medianstop(plan: TunePlan) -> TrialScheduler:
    return NniScheduler(MedianstopScheduler(**plan.scheduler.kwargs))


def _fifo(plan: TunePlan) -> TrialScheduler:
    return NniScheduler(None)


def _custom(plan: TunePlan) -> TrialScheduler:
    return custom_assessor_scheduler(plan.scheduler.kwargs)


SCHEDULERS: dict[SchedulerKind, SchedulerBuilder] = {
    SchedulerKind.ASHA: _asha,
    SchedulerKind.MEDIANSTOP: _medianstop,
    SchedulerKind.FIFO: _fifo,
    SchedulerKind.CUSTOM: _custom,
}


def build_scheduler(plan: TunePlan) -> TrialScheduler:
    """The plan's scheduler behind NNI's assessor rules.

    Raises:
        AlgorithmError: a custom assessor does not load or its constructor raised.
    """
    return SCHEDULERS[plan.scheduler.kind](plan)
