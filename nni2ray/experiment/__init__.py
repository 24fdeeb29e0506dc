"""Stage 1: find, read, validate and normalise an NNI experiment folder into an Experiment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nni2ray.errors import ConfigError, SearchSpaceError
from nni2ray.experiment import _annotation
from nni2ray.experiment._algorithms import BUILTINS, Builtin
from nni2ray.experiment._algorithms import lookup as lookup_algorithm
from nni2ray.experiment._assemble import build_experiment
from nni2ray.experiment._durations import (
    DurationError,
    format_seconds,
    parse_duration,
    parse_duration_text,
)
from nni2ray.experiment._findings import Context
from nni2ray.experiment._locate import find_config, find_launchers
from nni2ray.experiment._normalise import is_v1, normalise
from nni2ray.experiment._paths import display_path, is_inside
from nni2ray.experiment._read import Document, read_yaml
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
    "DurationError",
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
    "load_experiment_dict",
    "lookup_algorithm",
    "parse_duration",
    "parse_duration_text",
    "parse_search_space",
    "summarise",
    "write_annotated_copy",
    "annotated_sources",
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
    named = Path(os.path.realpath(path))
    if named.is_dir() and is_inside(config_file, named):
        ctx.root = named  # the config was found in a subfolder of the folder the user named
    config = normalise(doc, ctx)
    check_shapes(config, ctx)
    return build_experiment(config, config_file, ctx)


def load_experiment_dict(config: dict[str, Any], base_dir: Path, source: Path) -> Experiment:
    """Load a v2 config built in Python (``nni.experiment.ExperimentConfig.json()``).

    Args:
        config: the camelCase config mapping.
        base_dir: what relative paths are relative to (NNI: the working directory of the
            script when it started the experiment).
        source: the launcher script; messages name it, and it stands for the config file.

    Raises:
        ConfigError, SearchSpaceError, UnsupportedError: as :func:`load_experiment`.
    """
    from nni2ray.experiment._schema import check_shapes

    source = Path(os.path.realpath(source))
    ctx = Context(display_path(source), Path(os.path.realpath(base_dir)), version="v2")
    normalised = normalise(Document(config), ctx)
    check_shapes(normalised, ctx)
    return build_experiment(normalised, source, ctx)


def annotated_sources(experiment: Experiment) -> dict[str, str]:
    """The expanded text of each annotated file of the trial code (path relative to the code
    directory -> source calling nni's smart parameters and report functions), as NNI 2.x
    expands them, with the rest of each file (comments, layout) kept where possible and
    each smart parameter carrying the annotated statement's own value as ``default=``;
    files without annotations are left out.

    Raises:
        SearchSpaceError: an annotation does not expand.
    """
    annotated = _annotation.expand_annotations(
        experiment.trial.code_directory, keep_layout=True, keep_defaults=True
    )
    if annotated.problems:
        raise SearchSpaceError(problems=annotated.problems)
    return annotated.files


def write_annotated_copy(experiment: Experiment, dest: Path) -> Path:
    """Write the expanded copy of an annotated experiment's trial code to ``dest``.

    The trial code directory is copied (earlier results and caches left out) with every
    annotated file expanded, as NNI 2.x does; the original folder is not touched.

    Raises:
        SearchSpaceError: the code changed since it was loaded and no longer expands.
    """
    annotated = _annotation.expand_annotations(experiment.trial.code_directory)
    if annotated.problems:
        raise SearchSpaceError(problems=annotated.problems)
    return _annotation.write_annotated_copy(experiment.trial.code_directory, annotated.files, dest)
