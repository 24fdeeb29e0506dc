"""Plain value objects describing the Ray Tune side of an experiment (no Ray import).

A :class:`TunePlan` is what :func:`nni2ray.translate.translate` returns: plans compare by
value, render as text and as Python source, and only ``nni2ray.translate._build`` turns them
into live Ray objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from nni2ray.notes import Note

Mode = Literal["max", "min"]


@dataclass(frozen=True)
class SearcherCall:
    """Which Tune searcher stands in for the NNI tuner.

    Attributes:
        kind: ``random`` (BasicVariantGenerator), ``grid`` (NNI's grid, enumerated),
            ``hyperopt`` (HyperOptSearch; ``algo`` = ``tpe`` or ``anneal`` in kwargs),
            ``batch`` (the Batch tuner's option list), ``custom`` (a user NNI tuner).
        nni_name: the NNI tuner it replaces (``TPE``, ``my_tuner.MyTuner``, ...).
        kwargs: constructor arguments (plain JSON data).
        exact: True when the algorithm is the same as NNI's.
    """

    kind: str
    nni_name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    exact: bool = False


@dataclass(frozen=True)
class SchedulerCall:
    """Which Tune scheduler stands in for the NNI assessor (or advisor).

    Attributes:
        kind: ``asha``, ``medianstop`` (NNI's median rule, exact), ``hyperband``, ``fifo``
            (no early stopping), ``custom`` (a user NNI assessor).
        nni_name: the NNI assessor/advisor it replaces, or ``None`` for nni2ray's default.
        kwargs: constructor arguments (plain JSON data).
    """

    kind: str
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
    notes: tuple[Note, ...] = ()
    metric: str = "default"
