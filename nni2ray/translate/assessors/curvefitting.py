"""NNI's Curvefitting assessor: ASHA stands in (Ray Tune has no learning-curve model)."""

from __future__ import annotations

from nni2ray.experiment import AlgorithmSpec, Experiment, display_path
from nni2ray.notes import Note, Severity
from nni2ray.translate.assessors.asha import DEFAULT_ASHA
from nni2ray.translate.plan import SchedulerCall, SchedulerKind


def curvefitting_assessor(
    spec: AlgorithmSpec, exp: Experiment
) -> tuple[SchedulerCall, tuple[Note, ...]]:
    text = (
        "Curvefitting has no Ray Tune equivalent; nni2ray stops weak trials with ASHA "
        "(grace_period=start_step) instead"
    )
    start = spec.class_args.get("start_step", 6)
    kwargs = dict(DEFAULT_ASHA, grace_period=start if isinstance(start, int) and start > 0 else 1)
    note = Note(
        Severity.APPROXIMATED, text, file=display_path(exp.config_file), field="assessor.name"
    )
    return SchedulerCall(SchedulerKind.ASHA, spec.name, kwargs), (note,)
