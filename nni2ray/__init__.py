"""nni2ray: run and convert Microsoft NNI hyperparameter-tuning experiments on Ray Tune.

Importing this package is cheap: it never imports Ray, libcst or jsonschema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nni2ray.errors import (
    ConfigError,
    ConvertError,
    ExperimentNotFoundError,
    HistoryError,
    MissingDependencyError,
    Nni2RayError,
    OutputError,
    Problem,
    ResourceError,
    SearchSpaceError,
    TrialLaunchError,
    TrialProtocolError,
    UnsupportedError,
)
from nni2ray.notes import Note, Severity

if TYPE_CHECKING:
    from nni2ray.experiment.model import Experiment

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ConvertError",
    "ExperimentNotFoundError",
    "HistoryError",
    "MissingDependencyError",
    "Nni2RayError",
    "Note",
    "OutputError",
    "Problem",
    "ResourceError",
    "SearchSpaceError",
    "Severity",
    "TrialLaunchError",
    "TrialProtocolError",
    "UnsupportedError",
    "__version__",
    "load_experiment",
]


def load_experiment(path: Any, config_name: str | None = None) -> Experiment:
    """Load an NNI experiment folder or config file.

    See :func:`nni2ray.experiment.load_experiment`.
    """
    from nni2ray.experiment import load_experiment as _load

    return _load(path, config_name=config_name)
