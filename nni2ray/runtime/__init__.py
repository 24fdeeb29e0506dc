"""Stage 3a: run unchanged NNI trial scripts as Ray Tune trials."""

from __future__ import annotations

from nni2ray.runtime._driver import RunOptions, RunSummary, run_experiment
from nni2ray.runtime._progress import plan_line
from nni2ray.runtime._signals import RunInterrupted, SignalGuard, exit_code
from nni2ray.runtime._user_algorithms import check_custom_algorithms

__all__ = [
    "RunInterrupted",
    "RunOptions",
    "RunSummary",
    "SignalGuard",
    "check_custom_algorithms",
    "exit_code",
    "plan_line",
    "run_experiment",
]
