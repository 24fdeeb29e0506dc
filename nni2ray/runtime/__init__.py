"""Stage 3a: run unchanged NNI trial scripts as Ray Tune trials."""

from __future__ import annotations

from nni2ray.runtime._driver import RunOptions, RunSummary, run_experiment
from nni2ray.runtime._progress import plan_line

__all__ = ["RunOptions", "RunSummary", "plan_line", "run_experiment"]
