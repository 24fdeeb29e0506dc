"""Stage 2: translate an NNI :class:`Experiment` into a :class:`TunePlan` (plain data, no Ray)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from nni2ray.experiment import Experiment, display_path, lookup_algorithm, nni_space
from nni2ray.notes import Note, Severity
from nni2ray.secrets import redact
from nni2ray.translate.assessors import (
    ASSESSORS,
    SCHEDULER_CHOICES,
    assessor_to_scheduler,
    scheduler_from_flag,
)
from nni2ray.translate.plan import (
    Mode,
    SchedulerCall,
    SchedulerKind,
    SearcherCall,
    SearcherKind,
    TunePlan,
)
from nni2ray.translate.tuners import (
    BACKENDS,
    DISPATCHER_HINT,
    NNI_TUNER_CLASSES,
    TUNERS,
    UNSUPPORTED_TUNERS,
    choose_backend,
    dispatcher_message,
    native_plan,
    runs_as,
    searcher_words,
    tuner_to_searcher,
)

__all__ = [
    "ASSESSORS",
    "BACKENDS",
    "DISPATCHER_HINT",
    "dispatcher_message",
    "NNI_TUNER_CLASSES",
    "native_plan",
    "SCHEDULER_CHOICES",
    "TUNERS",
    "UNSUPPORTED_TUNERS",
    "runs_as",
    "searcher_words",
    "Mode",
    "SchedulerCall",
    "SchedulerKind",
    "SearcherCall",
    "SearcherKind",
    "TunePlan",
    "describe",
    "nni_space",
    "translate",
]


def translate(
    experiment: Experiment,
    *,
    max_trials: int | None = None,
    concurrency: int | None = None,
    max_duration: int | None = None,
    scheduler: str | None = None,
    gpus_per_trial: float | None = None,
    seed: int | None = None,
    algorithm_backend: str = "native",
) -> TunePlan:
    """Map an experiment (and command-line overrides) onto Ray Tune.

    Args:
        experiment: the loaded NNI experiment.
        max_trials, concurrency, max_duration, gpus_per_trial: override the config's limits.
        scheduler: ``asha``, ``median``, ``hyperband`` or ``none``; overrides the assessor.
        seed: seeds the searcher (overrides ``classArgs.seed``).
        algorithm_backend: ``native`` (nni2ray's stand-ins; convert's choice), ``auto``
            (NNI's own tuner class where ``nni`` and its packages are installed) or ``nni``
            (NNI's class or an error); see :mod:`nni2ray.translate.tuners.nni_classes`.

    Raises:
        UnsupportedError: for anything with no Ray Tune equivalent (NAS tuners, invalid
            advisor classArgs). Annotation experiments run with the search space generated
            from their annotations; custom algorithms run in the driver.
    """
    tuning = tuner_to_searcher(experiment.tuner, experiment)
    tuning = replace(tuning, searcher=_with_seed(tuning.searcher, seed))
    tuning = choose_backend(experiment.tuner, experiment, tuning, algorithm_backend, seed)
    mode, mode_notes = _resolve_mode(experiment)
    notes: list[Note] = list(experiment.notes) + list(tuning.notes) + list(mode_notes)
    sched, sched_notes = _pick_scheduler(experiment, tuning.scheduler, scheduler, mode)
    notes += sched_notes
    searcher = tuning.searcher
    limits = experiment.limits
    gpus, gpu_notes = _gpus(experiment, gpus_per_trial)
    return TunePlan(
        name=_folder_name(experiment),
        mode=mode,
        search_space=experiment.raw_search_space,
        searcher=searcher,
        scheduler=sched,
        num_samples=max_trials or limits.max_trial_number or -1,
        max_concurrent_trials=concurrency or limits.concurrency,
        time_budget_s=max_duration or limits.max_experiment_duration,
        max_trial_duration_s=limits.max_trial_duration,
        gpus_per_trial=gpus,
        extra_parameters=dict(tuning.extra_parameters),
        checkpoint_dirs=tuning.checkpoint_dirs,
        notes=tuple(notes + gpu_notes),
    )


def _resolve_mode(exp: Experiment) -> tuple[Mode, tuple[Note, ...]]:
    # NNI defaults differ per algorithm: TPE and Anneal minimize, most others maximize,
    # Random/GridSearch/Batch ignore it. An explicit optimize_mode always wins.
    explicit = exp.tuner.optimize_mode or (exp.assessor.optimize_mode if exp.assessor else None)
    if explicit:
        return ("max" if explicit == "maximize" else "min"), ()
    entry = lookup_algorithm(exp.tuner.name or "")
    default = entry.default_optimize_mode if entry else None
    if default:
        return ("max" if default == "maximize" else "min"), ()
    note = Note(
        Severity.WARNING,
        "optimize_mode is not set; nni2ray ranks trials by maximizing the metric",
        file=display_path(exp.config_file),
        field="tuner.classArgs.optimize_mode",
    )
    return "max", (note,)


def _pick_scheduler(
    exp: Experiment, advisor_scheduler: SchedulerCall | None, flag: str | None, mode: Mode
) -> tuple[SchedulerCall, tuple[Note, ...]]:
    if flag is not None:
        return scheduler_from_flag(flag, mode), ()
    if advisor_scheduler is not None:
        notes: tuple[Note, ...] = ()
        if exp.assessor is not None:
            notes = (
                Note(
                    Severity.IGNORED,
                    "an advisor replaces the assessor, as in NNI",
                    file=display_path(exp.config_file),
                    field="assessor",
                ),
            )
        return advisor_scheduler, notes
    return assessor_to_scheduler(exp.assessor, exp)


def _with_seed(call: SearcherCall, seed: int | None) -> SearcherCall:
    if seed is None:
        return call
    key = "random_state_seed" if call.kind == SearcherKind.HYPEROPT else "seed"
    return SearcherCall(call.kind, call.nni_name, dict(call.kwargs, **{key: seed}), call.exact)


def _gpus(exp: Experiment, override: float | None) -> tuple[float | None, list[Note]]:
    if override is not None:
        return override, []
    gpus = exp.trial.gpu_number
    if gpus and exp.max_trial_number_per_gpu > 1:
        # NNI 3.0 local: a trial's demand is trialGpuNumber / maxTrialNumberPerGpu.
        share = gpus / exp.max_trial_number_per_gpu
        per_gpu = exp.max_trial_number_per_gpu
        text = f"maxTrialNumberPerGpu={per_gpu}: each trial asks Ray for {share:g} GPU"
        return share, [
            Note(Severity.EXACT, text, file=display_path(exp.config_file), field="trainingService")
        ]
    return gpus, []


def _folder_name(exp: Experiment) -> str:
    raw = exp.name or exp.config_file.parent.name or "experiment"
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", raw).strip("._") or "experiment"
    return cleaned[:64]


def describe(plan: TunePlan) -> dict[str, Any]:
    """The plan as plain JSON data (for ``experiment.json`` and reports), secrets masked
    (custom algorithms' ``classArgs`` hold tokens and passwords)."""
    described = {
        "name": plan.name,
        "metric": plan.metric,
        "mode": plan.mode,
        "searcher": {
            "kind": plan.searcher.kind,
            "nni": plan.searcher.nni_name,
            "kwargs": plan.searcher.kwargs,
            "exact": plan.searcher.exact,
        },
        "scheduler": {
            "kind": plan.scheduler.kind,
            "nni": plan.scheduler.nni_name,
            "kwargs": plan.scheduler.kwargs,
            "exact": plan.scheduler.exact,
        },
        "num_samples": plan.num_samples,
        "max_concurrent_trials": plan.max_concurrent_trials,
        "time_budget_s": plan.time_budget_s,
        "max_trial_duration_s": plan.max_trial_duration_s,
        "gpus_per_trial": plan.gpus_per_trial,
        "extra_parameters": plan.extra_parameters,
        "checkpoint_dirs": plan.checkpoint_dirs,
        "notes": [{"severity": n.severity.value, "text": str(n)} for n in plan.notes],
    }
    return dict(redact(described))
