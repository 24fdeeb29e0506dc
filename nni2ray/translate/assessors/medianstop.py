"""NNI's Medianstop assessor: NNI's median rule itself (exact)."""

from __future__ import annotations

from nni2ray.errors import UnsupportedError
from nni2ray.experiment import AlgorithmSpec, Experiment, display_path
from nni2ray.notes import Note
from nni2ray.translate.plan import SchedulerCall, SchedulerKind


def medianstop_assessor(
    spec: AlgorithmSpec, exp: Experiment
) -> tuple[SchedulerCall, tuple[Note, ...]]:
    start_step = spec.class_args.get("start_step", 0)
    if not isinstance(start_step, int) or isinstance(start_step, bool) or start_step < 0:
        raise UnsupportedError(
            f"start_step must be a non-negative integer (got {start_step!r})",
            file=display_path(exp.config_file),
            field="assessor.classArgs.start_step",
            hint="write start_step: 0 or a positive number of intermediate results",
        )
    kwargs = {"optimize_mode": spec.optimize_mode or "maximize", "start_step": start_step}
    return SchedulerCall(SchedulerKind.MEDIANSTOP, spec.name, kwargs, exact=True), ()
