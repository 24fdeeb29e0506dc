"""Stage 3a: run unchanged NNI trial scripts as Ray Tune trials."""

from __future__ import annotations

from nni2ray.runtime._driver import RunOptions, RunSummary, run_experiment

__all__ = ["RunOptions", "RunSummary", "run_experiment"]
