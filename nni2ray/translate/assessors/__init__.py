"""ASSESSORS: each NNI assessor mapped to the Tune scheduler that stops trials early.

One module per assessor; the registry is keyed by NNI's canonical name. No assessor means
nni2ray's default, ASHA (``asha.py``).
"""

from __future__ import annotations

from nni2ray.errors import UnsupportedError
from nni2ray.experiment import AlgorithmSpec, Experiment, display_path, lookup_algorithm
from nni2ray.notes import Note
from nni2ray.translate.assessors._common import AssessorBuilder
from nni2ray.translate.assessors.asha import (
    DEFAULT_ASHA,
    SCHEDULER_CHOICES,
    default_scheduler,
    scheduler_from_flag,
)
from nni2ray.translate.assessors.curvefitting import curvefitting_assessor
from nni2ray.translate.assessors.custom import custom_assessor
from nni2ray.translate.assessors.medianstop import medianstop_assessor
from nni2ray.translate.plan import SchedulerCall

__all__ = [
    "ASSESSORS",
    "DEFAULT_ASHA",
    "SCHEDULER_CHOICES",
    "AssessorBuilder",
    "assessor_to_scheduler",
    "default_scheduler",
    "scheduler_from_flag",
]

#: NNI canonical assessor name -> builder.
ASSESSORS: dict[str, AssessorBuilder] = {
    "Medianstop": medianstop_assessor,
    "Curvefitting": curvefitting_assessor,
}


def assessor_to_scheduler(
    spec: AlgorithmSpec | None, exp: Experiment
) -> tuple[SchedulerCall, tuple[Note, ...]]:
    """Map the experiment's assessor (or its absence) to a Tune scheduler.

    Raises:
        UnsupportedError: for unknown names. A custom assessor maps to
            ``SchedulerKind.CUSTOM``: the user's class runs in the driver.
    """
    if spec is None:
        return default_scheduler(), ()
    if spec.is_custom:
        return custom_assessor(spec), ()
    entry = lookup_algorithm(spec.name or "")
    builder = ASSESSORS.get(entry.name) if entry else None
    if builder is None:
        raise UnsupportedError(
            f"{spec.name!r} has no Ray Tune equivalent",
            file=display_path(exp.config_file),
            field="assessor.name",
            hint=f"supported: {', '.join(ASSESSORS)}",
        )
    return builder(spec, exp)
