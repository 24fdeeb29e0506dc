"""ASHA: nni2ray's early stopping when the config has no assessor, and ``--scheduler``."""

from __future__ import annotations

from nni2ray.translate.plan import Mode, SchedulerCall, SchedulerKind

#: ASHA as nni2ray's default early stopping: judge after every reported intermediate
#: result, keep the best quarter at each rung (Ray's own default reduction factor).
#: ``max_t`` is set far beyond any epoch count because Ray stops a trial outright once it
#: reaches ``max_t`` reports.
DEFAULT_ASHA = {"grace_period": 1, "reduction_factor": 4, "max_t": 1_000_000}

#: ``--scheduler`` choices.
SCHEDULER_CHOICES = ("asha", "median", "hyperband", "none")


def default_scheduler() -> SchedulerCall:
    """What stops weak trials when the config names no assessor."""
    return SchedulerCall(SchedulerKind.ASHA, None, dict(DEFAULT_ASHA))


def scheduler_from_flag(choice: str, mode: Mode) -> SchedulerCall:
    """The scheduler picked with ``--scheduler`` (overrides the config's assessor)."""
    if choice == "asha":
        return default_scheduler()
    if choice == "median":
        optimize_mode = "maximize" if mode == "max" else "minimize"
        return SchedulerCall(
            SchedulerKind.MEDIANSTOP,
            "Medianstop",
            {"optimize_mode": optimize_mode, "start_step": 0},
            exact=True,
        )
    if choice == "hyperband":
        # Asynchronous HyperBand: ASHA with several brackets. Synchronous HyperBand would
        # pause trials, which restarts a subprocess trial from scratch.
        return SchedulerCall(SchedulerKind.ASHA, None, dict(DEFAULT_ASHA, brackets=3))
    if choice == "none":
        return SchedulerCall(SchedulerKind.FIFO, None, {})
    raise AssertionError(f"unreachable: scheduler choice {choice!r}")
