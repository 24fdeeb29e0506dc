"""One NNI trial as an operating-system process, with no Ray: its context and launch, the
process and its metric channel, the results it yields, warm start, and leftover processes.

The stand-in ``nni`` package the trial imports lives in ``_shim/nni`` (standard library only).
"""

from __future__ import annotations

from nni2ray.trials._launch import SHIM_DIR, prepare_trial, sequence_of, trial_parameters
from nni2ray.trials._leftovers import end_leftover_trials, trial_processes
from nni2ray.trials._preflight import FOREIGN_INTERPRETER_FIX, Finding, preflight
from nni2ray.trials._process import KILL_GRACE_S, LaunchSpec, TrialProcess
from nni2ray.trials._trial_run import (
    EARLY_STOPPED,
    END,
    FAILED,
    FINAL,
    HEARTBEAT,
    PERIODICAL,
    SUCCEEDED,
    USER_CANCELED,
    TrialRun,
    finite_scalar,
)
from nni2ray.trials._warm import Template, WarmChild, WarmCommand, heavy_modules, parse_command
from nni2ray.trials.context import PARAMETERS_KEY, SEQUENCE_KEY, TrialContext

__all__ = [
    "EARLY_STOPPED",
    "FOREIGN_INTERPRETER_FIX",
    "END",
    "FAILED",
    "FINAL",
    "Finding",
    "HEARTBEAT",
    "KILL_GRACE_S",
    "PARAMETERS_KEY",
    "PERIODICAL",
    "SEQUENCE_KEY",
    "SHIM_DIR",
    "SUCCEEDED",
    "USER_CANCELED",
    "LaunchSpec",
    "Template",
    "TrialContext",
    "TrialProcess",
    "TrialRun",
    "WarmChild",
    "WarmCommand",
    "end_leftover_trials",
    "finite_scalar",
    "heavy_modules",
    "parse_command",
    "preflight",
    "prepare_trial",
    "sequence_of",
    "trial_parameters",
    "trial_processes",
]
