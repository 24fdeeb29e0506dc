"""ASSESSORS: each NNI assessor mapped to the Tune scheduler that stops trials early."""

from __future__ import annotations

from collections.abc import Callable

from nni2ray.errors import UnsupportedError
from nni2ray.experiment._paths import display_path
from nni2ray.experiment.model import AlgorithmSpec, Experiment
from nni2ray.notes import Note, Severity
from nni2ray.translate.plan import SchedulerCall

#: ASHA as nni2ray's default early stopping: judge after every reported intermediate
#: result, keep the best quarter at each rung (Ray's own default reduction factor).
#: ``max_t`` is set far beyond any epoch count because Ray stops a trial outright once it
#: reaches ``max_t`` reports.
DEFAULT_ASHA = {"grace_period": 1, "reduction_factor": 4, "max_t": 1_000_000}

Builder = Callable[[AlgorithmSpec, Experiment], tuple[SchedulerCall, tuple[Note, ...]]]


def _medianstop(spec: AlgorithmSpec, exp: Experiment) -> tuple[SchedulerCall, tuple[Note, ...]]:
    start_step = spec.class_args.get("start_step", 0)
    if not isinstance(start_step, int) or isinstance(start_step, bool) or start_step < 0:
        raise UnsupportedError(
            f"start_step must be a non-negative integer (got {start_step!r})",
            file=display_path(exp.config_file),
            field="assessor.classArgs.start_step",
            hint="write start_step: 0 or a positive number of intermediate results",
        )
    kwargs = {"optimize_mode": spec.optimize_mode or "maximize", "start_step": start_step}
    return SchedulerCall("medianstop", spec.name, kwargs, exact=True), ()


def _curvefitting(spec: AlgorithmSpec, exp: Experiment) -> tuple[SchedulerCall, tuple[Note, ...]]:
    text = (
        "Curvefitting has no Ray Tune equivalent; nni2ray stops weak trials with ASHA "
        "(grace_period=start_step) instead"
    )
    start = spec.class_args.get("start_step", 6)
    kwargs = dict(DEFAULT_ASHA, grace_period=start if isinstance(start, int) and start > 0 else 1)
    note = Note(
        Severity.APPROXIMATED, text, file=display_path(exp.config_file), field="assessor.name"
    )
    return SchedulerCall("asha", spec.name, kwargs), (note,)


def _custom(spec: AlgorithmSpec) -> SchedulerCall:
    kwargs = {
        "class_name": spec.class_name,
        "code_directory": str(spec.code_directory) if spec.code_directory else None,
        "class_args": dict(spec.class_args),
    }
    return SchedulerCall("custom", spec.class_name, kwargs, exact=True)


ASSESSORS: dict[str, Builder] = {
    "medianstop": _medianstop,
    "curvefitting": _curvefitting,
}

#: ``--scheduler`` choices → what they build.
SCHEDULER_CHOICES = ("asha", "median", "hyperband", "none")


def assessor_to_scheduler(
    spec: AlgorithmSpec | None, exp: Experiment
) -> tuple[SchedulerCall, tuple[Note, ...]]:
    """Map the experiment's assessor (or its absence) to a Tune scheduler.

    Raises:
        UnsupportedError: for unknown names. A custom assessor maps to
            ``SchedulerCall("custom")``: the user's class runs in the driver.
    """
    if spec is None:
        return SchedulerCall("asha", None, dict(DEFAULT_ASHA)), ()
    if spec.is_custom:
        return _custom(spec), ()
    builder = ASSESSORS.get((spec.name or "").lower())
    if builder is None:
        raise UnsupportedError(
            f"{spec.name!r} has no Ray Tune equivalent",
            file=display_path(exp.config_file),
            field="assessor.name",
            hint="supported: Medianstop, Curvefitting",
        )
    return builder(spec, exp)


def scheduler_from_flag(choice: str, mode: str) -> SchedulerCall:
    """The scheduler picked with ``--scheduler`` (overrides the config's assessor)."""
    if choice == "asha":
        return SchedulerCall("asha", None, dict(DEFAULT_ASHA))
    if choice == "median":
        optimize_mode = "maximize" if mode == "max" else "minimize"
        return SchedulerCall(
            "medianstop",
            "Medianstop",
            {"optimize_mode": optimize_mode, "start_step": 0},
            exact=True,
        )
    if choice == "hyperband":
        # Asynchronous HyperBand: ASHA with several brackets. Synchronous HyperBand would
        # pause trials, which restarts a subprocess trial from scratch.
        return SchedulerCall("asha", None, dict(DEFAULT_ASHA, brackets=3))
    if choice == "none":
        return SchedulerCall("fifo", None, {})
    raise AssertionError(f"unreachable: scheduler choice {choice!r}")
