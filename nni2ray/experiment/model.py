"""Frozen value objects for an NNI experiment: the one model every later stage reads.

Nothing after :mod:`nni2ray.experiment` indexes raw YAML or JSON: the loader turns a config
folder into an :class:`Experiment`, and the search space into a :class:`SearchSpace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nni2ray.notes import Note

#: The ten NNI ``_type`` names, in NNI's documentation order.
PARAMETER_TYPES: tuple[str, ...] = (
    "choice",
    "randint",
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
)

OptimizeMode = Literal["maximize", "minimize"]
AlgorithmRole = Literal["tuner", "assessor", "advisor"]


@dataclass(frozen=True)
class NestedOption:
    """One option of a nested ``choice``: a dict with ``_name`` and sub-parameters.

    ``parameters`` are the option's keys whose values are ``{_type, _value}`` specs;
    ``constants`` are its other keys (besides ``_name``), passed to the trial verbatim.
    """

    name: Any
    parameters: tuple[Parameter, ...] = ()
    constants: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Parameter:
    """One search-space entry.

    Attributes:
        name: the key in the search space (or in the nested option).
        type: one of :data:`PARAMETER_TYPES`.
        values: for every type but ``choice``, ``_value`` converted to floats
            (``[low, high]``, ``[low, high, q]``, ``[mu, sigma]`` or ``[mu, sigma, q]``).
        options: for ``choice``, the options in order; each is a plain JSON value or a
            :class:`NestedOption` (all of them are when the choice is nested).
        path: where the entry sits, for messages (``optimizer[0].lr``).
    """

    name: str
    type: str
    values: tuple[float, ...] = ()
    options: tuple[Any, ...] = ()
    path: str = ""

    @property
    def nested(self) -> bool:
        """True for a ``choice`` whose options are all dicts with ``_name``."""
        return (
            self.type == "choice"
            and bool(self.options)
            and all(isinstance(option, NestedOption) for option in self.options)
        )


@dataclass(frozen=True)
class SearchSpace:
    """A validated NNI search space, parameters in file order."""

    parameters: tuple[Parameter, ...] = ()

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(parameter.name for parameter in self.parameters)


@dataclass(frozen=True)
class AlgorithmSpec:
    """A ``tuner``, ``assessor`` or ``advisor`` section.

    Attributes:
        role: ``advisor`` for NNI advisors (Hyperband, BOHB, or an ``advisor:`` section).
        name: the canonical built-in name (``TPE``, ``Medianstop``, ...) or None for custom.
        class_name: ``module.Class`` of a custom algorithm.
        code_directory: absolute directory holding the custom algorithm's module.
        class_args: constructor keyword arguments as written in the config.
        optimize_mode: the validated ``classArgs.optimize_mode``, None when not given.
        include_intermediate_results: v1's flag (NNI 3.0 drops it; kept for the record).
    """

    role: AlgorithmRole
    name: str | None = None
    class_name: str | None = None
    code_directory: Path | None = None
    class_args: dict[str, Any] = field(default_factory=dict)
    optimize_mode: OptimizeMode | None = None
    include_intermediate_results: bool = False

    @property
    def is_custom(self) -> bool:
        return self.class_name is not None


@dataclass(frozen=True)
class TrialSpec:
    """How one trial is started."""

    command: str
    code_directory: Path
    gpu_number: float | None = None  # None: CUDA_VISIBLE_DEVICES untouched; 0: hidden


@dataclass(frozen=True)
class Limits:
    """Experiment limits; durations in seconds, None for unlimited."""

    concurrency: int
    max_trial_number: int | None = None
    max_experiment_duration: int | None = None
    max_trial_duration: int | None = None


@dataclass(frozen=True)
class Experiment:
    """Everything nni2ray understood from one NNI config file."""

    config_file: Path
    config_version: Literal["v1", "v2"]
    trial: TrialSpec
    limits: Limits
    tuner: AlgorithmSpec
    name: str | None = None
    assessor: AlgorithmSpec | None = None
    search_space: SearchSpace | None = None  # None: kept raw (custom format) or annotation
    raw_search_space: Any = None
    search_space_file: Path | None = None
    use_annotation: bool = False
    platform: str = "local"
    use_active_gpu: bool | None = None
    gpu_indices: tuple[int, ...] | None = None
    max_trial_number_per_gpu: int = 1
    experiment_working_directory: Path | None = None
    notes: tuple[Note, ...] = ()
    #: The experiment folder the user named (the config's folder unless the config was
    #: found in a subfolder of the named one); files outside it are "outside".
    root: Path | None = None
