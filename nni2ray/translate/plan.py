"""Plain value objects describing the Ray Tune side of an experiment (no Ray import).

A :class:`TunePlan` is what :func:`nni2ray.translate.translate` returns: plans compare by
value and hold no Ray object: ``nni2ray.runtime`` builds live searchers and schedulers from
them and ``nni2ray.convert`` writes launcher source from them, each through a registry keyed by
:class:`SearcherKind` / :class:`SchedulerKind`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from nni2ray.notes import Note

Mode = Literal["max", "min"]


class SearcherKind(StrEnum):
    """What stands in for the NNI tuner; the key of every searcher registry (translate's
    builders, runtime's searchers, convert's launcher source and MIGRATION wording)."""

    RANDOM = "random"  # NNI's Random: NNI's sampling formulas
    GRID = "grid"  # NNI's GridSearch over a finite space, enumerated in NNI's order
    BATCH = "batch"  # NNI's Batch tuner: its list of parameter dicts, in order
    HYPEROPT = "hyperopt"  # hyperopt's TPE or Anneal (kwargs ``algo``)
    TPE = "tpe"  # Optuna's TPESampler with a constant liar (TPE, SMAC's stand-in)
    GP = "gp"  # Optuna's GPSampler (GP, Metis, DNGO)
    EVOLUTION = "evolution"  # NNI's evolution rule (convert: Optuna's NSGAIISampler)
    HYPERBAND = "hyperband"  # NNI's Hyperband bracket schedule, exact
    BOHB = "bohb"  # NNI's BOHB bracket schedule
    PBT = "pbt"  # NNI's PBT rule: generations, exploit/explore via checkpoint folders
    CUSTOM = "custom"  # a user's NNI Tuner class, run in the driver


class SchedulerKind(StrEnum):
    """What stands in for the NNI assessor; the key of every scheduler registry."""

    ASHA = "asha"  # Ray's AsyncHyperBandScheduler (nni2ray's default early stopping)
    MEDIANSTOP = "medianstop"  # NNI's Medianstop rule, exact
    FIFO = "fifo"  # no early stopping
    CUSTOM = "custom"  # a user's NNI Assessor class, run in the driver


@dataclass(frozen=True)
class SearcherCall:
    """Which Tune searcher stands in for the NNI tuner.

    Attributes:
        kind: the stand-in (see :class:`SearcherKind`).
        nni_name: the NNI tuner it replaces (``TPE``, ``my_tuner.MyTuner``, ...).
        kwargs: constructor arguments (plain JSON data).
        exact: True when the algorithm is the same as NNI's.
    """

    kind: SearcherKind
    nni_name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    exact: bool = False


@dataclass(frozen=True)
class SchedulerCall:
    """Which Tune scheduler stands in for the NNI assessor (or advisor).

    Attributes:
        kind: the stand-in (see :class:`SchedulerKind`).
        nni_name: the NNI assessor/advisor it replaces, or ``None`` for nni2ray's default.
        kwargs: constructor arguments (plain JSON data).
    """

    kind: SchedulerKind
    nni_name: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    exact: bool = False


@dataclass(frozen=True)
class TunePlan:
    """Everything needed to run the experiment on Ray Tune.

    Attributes:
        name: experiment name (sanitised for folder names).
        metric / mode: the Tune metric (always ``default``) and ``max``/``min``.
        search_space: the NNI search space as plain JSON (``{name: {_type, _value}}``), or
            the raw value for custom tuners.
        searcher / scheduler: what stands in for the tuner and the assessor.
        num_samples: trials to start (``-1``: until the searcher or a limit stops).
        max_concurrent_trials: NNI's trialConcurrency.
        time_budget_s: maxExperimentDuration, None for unlimited.
        max_trial_duration_s: maxTrialDuration, enforced inside the trainable.
        cpus_per_trial / gpus_per_trial: resources requested per trial.
        extra_parameters: keys added to every trial's parameters (``TRIAL_BUDGET``).
        checkpoint_dirs: give every trial NNI PBT's ``load_checkpoint_dir`` and
            ``save_checkpoint_dir`` (one folder per trial).
        notes: what was approximated, ignored or refused.
    """

    name: str
    mode: Mode
    search_space: Any
    searcher: SearcherCall
    scheduler: SchedulerCall
    num_samples: int = -1
    max_concurrent_trials: int = 1
    time_budget_s: int | None = None
    max_trial_duration_s: int | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float | None = None
    extra_parameters: dict[str, Any] = field(default_factory=dict)
    checkpoint_dirs: bool = False
    notes: tuple[Note, ...] = ()
    metric: str = "default"
