"""One NNI trial as an operating-system process, with no Ray: its context and launch, the
process and its metric channel, the results it yields, warm start, and leftover processes.

The stand-in ``nni`` package the trial imports lives in ``_shim/nni`` (standard library only).
"""

from __future__ import annotations

from nni2ray.trials._launch import SHIM_DIR, prepare_trial, sequence_of, trial_parameters
from nni2ray.trials._leftovers import (
    descendants,
    end_leftover_trials,
    end_warm_templates,
    trial_processes,
)
from nni2ray.trials._preflight import FOREIGN_INTERPRETER_FIX, Finding, preflight
from nni2ray.trials._process import KILL_GRACE_S, LaunchSpec, TrialProcess
from nni2ray.trials._shim.nni._wire import (
    PARAMETER_FILE,
    read_parameter_file,
    scalar_of,
    write_parameter_file,
)
from nni2ray.trials._trial_run import TrialRun, finite_scalar, reported_value
from nni2ray.trials._warm import Template, WarmChild, WarmCommand, heavy_modules, parse_command
from nni2ray.trials.command import PythonCall, python_call, split_command
from nni2ray.trials.context import PARAMETERS_KEY, SEQUENCE_KEY, TrialContext
from nni2ray.trials.keys import FINISHED, TERMINAL, MetricType, ResultKey, TrialStatus

# Short names for the members most code compares with.
PERIODICAL = MetricType.PERIODICAL
FINAL = MetricType.FINAL
END = MetricType.END
HEARTBEAT = MetricType.HEARTBEAT
RUNNING = TrialStatus.RUNNING
SUCCEEDED = TrialStatus.SUCCEEDED
FAILED = TrialStatus.FAILED
EARLY_STOPPED = TrialStatus.EARLY_STOPPED
USER_CANCELED = TrialStatus.USER_CANCELED

__all__ = [
    "EARLY_STOPPED",
    "FOREIGN_INTERPRETER_FIX",
    "END",
    "FAILED",
    "FINAL",
    "FINISHED",
    "Finding",
    "HEARTBEAT",
    "KILL_GRACE_S",
    "PARAMETERS_KEY",
    "PARAMETER_FILE",
    "PERIODICAL",
    "RUNNING",
    "SEQUENCE_KEY",
    "SHIM_DIR",
    "SUCCEEDED",
    "TERMINAL",
    "USER_CANCELED",
    "LaunchSpec",
    "PythonCall",
    "MetricType",
    "ResultKey",
    "Template",
    "TrialContext",
    "TrialProcess",
    "TrialRun",
    "TrialStatus",
    "WarmChild",
    "WarmCommand",
    "descendants",
    "end_leftover_trials",
    "end_warm_templates",
    "finite_scalar",
    "heavy_modules",
    "parse_command",
    "preflight",
    "prepare_trial",
    "python_call",
    "read_parameter_file",
    "reported_value",
    "scalar_of",
    "sequence_of",
    "split_command",
    "trial_parameters",
    "trial_processes",
    "write_parameter_file",
]
