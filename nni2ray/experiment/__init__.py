"""Stage 1: find, read, validate and normalise an NNI experiment folder into an Experiment."""

from __future__ import annotations

import os
from pathlib import Path

from nni2ray.errors import ConfigError
from nni2ray.experiment._algorithms import BUILTINS, Builtin
from nni2ray.experiment._algorithms import lookup as lookup_algorithm
from nni2ray.experiment._assemble import build_experiment
from nni2ray.experiment._durations import format_seconds, parse_duration, parse_duration_text
from nni2ray.experiment._findings import Context
from nni2ray.experiment._locate import find_config, find_launchers
from nni2ray.experiment._normalise import is_v1, normalise
from nni2ray.experiment._paths import display_path, is_inside
from nni2ray.experiment._read import read_yaml
from nni2ray.experiment._search_space import parse_search_space
from nni2ray.experiment._summary import summarise
from nni2ray.experiment._to_json import experiment_to_json
from nni2ray.experiment.model import (
    PARAMETER_TYPES,
    AlgorithmSpec,
    Experiment,
    NestedOption,
    Parameter,
    SearchSpace,
)

__all__ = [
    "BUILTINS",
    "PARAMETER_TYPES",
    "AlgorithmSpec",
    "Builtin",
    "Experiment",
    "NestedOption",
    "Parameter",
    "SearchSpace",
    "display_path",
    "experiment_to_json",
    "find_config",
    "find_launchers",
    "format_seconds",
    "is_inside",
    "load_experiment",
    "lookup_algorithm",
    "parse_duration",
    "parse_duration_text",
    "parse_search_space",
    "summarise",
]


def load_experiment(path: Path | str, config_name: str | None = None) -> Experiment:
    """Load an NNI experiment (config v1, v2 or mixed) with everything a run needs.

    Args:
        path: an experiment folder or a config file.
        config_name: the config file to use when the folder holds several.

    Returns:
        The validated experiment; ``notes`` says what was ignored or read leniently.

    Raises:
        ExperimentNotFoundError: no config file, or several and no ``config_name``.
        ConfigError: bad YAML/JSON or config fields; every problem in the file at once.
        SearchSpaceError: only search-space problems were found.
        UnsupportedError: only unsupported built-in algorithm names were found.
    """
    config_file = Path(os.path.realpath(find_config(path, config_name)))
    display = display_path(config_file)
    doc = read_yaml(config_file, display)
    if not isinstance(doc.data, dict):
        got = "an empty file" if doc.data is None else f"a {type(doc.data).__name__}"
        hint = "write the settings as a YAML mapping, e.g. trialConcurrency: 1"
        raise ConfigError(
            f"the config must be a mapping of settings (got {got})", file=display, line=1, hint=hint
        )
    from nni2ray.experiment._schema import check_shapes  # jsonschema: only when reading a config

    ctx = Context(display, config_file.parent, version="v1" if is_v1(doc.data) else "v2")
    config = normalise(doc, ctx)
    check_shapes(config, ctx)
    return build_experiment(config, config_file, ctx)
