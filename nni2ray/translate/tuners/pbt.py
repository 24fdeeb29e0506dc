"""NNI's PBT tuner: nni2ray's reimplementation of NNI 3.0's PBTTuner rules (no extra package).

Generations of ``population_size`` trials; each trial gets NNI's ``load_checkpoint_dir`` and
``save_checkpoint_dir`` (``<all_checkpoint_dir>/<member>/<generation>``). When a whole
generation has ended, the bottom ``fraction`` copy the parameters of a random member of the
top ``fraction``, load its checkpoint and perturb every parameter (the runtime side:
:mod:`nni2ray.runtime.searchers._pbt`). PBT has no early stopping unless the config names an
assessor (as in NNI): a trial stopped early would leave no checkpoint for the next generation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from nni2ray.errors import UnsupportedError
from nni2ray.experiment import AlgorithmSpec, Experiment, display_path
from nni2ray.notes import Severity
from nni2ray.translate.plan import (
    SchedulerCall,
    SchedulerKind,
    SearcherCall,
    SearcherKind,
    TunePlan,
)
from nni2ray.translate.tuners._common import (
    TunerMapping,
    approximated_instead,
    int_arg,
    seed_arg,
    tuner_note,
)

#: NNI 3.0 PBTTuner's constructor defaults.
PBT_DEFAULTS: dict[str, Any] = {
    "population_size": 10,
    "factor": 0.2,
    "resample_probability": 0.25,
    "fraction": 0.2,
}

PBT_TEXT = (
    "PBT runs NNI's PBT rule (nni2ray): generations of population_size trials; when one has "
    "ended, the bottom fraction load a top trial's checkpoint and perturb its parameters"
)


def _fraction_arg(spec: AlgorithmSpec, exp: Experiment, key: str, low_open: bool) -> float:
    value = spec.class_args.get(key, PBT_DEFAULTS[key])
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and not ((0 < value <= 1) if low_open else (0 <= value <= 1)):
        ok = False
    if not ok:
        raise UnsupportedError(
            f"{key} must be a number in {'(0, 1]' if low_open else '[0, 1]'} (got {value!r})",
            file=display_path(exp.config_file),
            field=f"{spec.role}.classArgs.{key}",
            hint=f"write {key}: {PBT_DEFAULTS[key]}",
        )
    return float(value)


def _factor_arg(spec: AlgorithmSpec, exp: Experiment) -> float:
    # NNI's class takes ``factor``; its classArgs validator names it ``factors``: take both.
    key = "factor" if "factor" in spec.class_args else "factors"
    value = spec.class_args.get(key, PBT_DEFAULTS["factor"])
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise UnsupportedError(
            f"{key} must be a number >= 0 (got {value!r})",
            file=display_path(exp.config_file),
            field=f"{spec.role}.classArgs.{key}",
            hint="write factor: 0.2 (a perturbation moves a value by factor x its range)",
        )
    return float(value)


def pbt_kwargs(spec: AlgorithmSpec, exp: Experiment) -> dict[str, Any]:
    """The searcher's arguments from NNI's classArgs (defaults: NNI 3.0's).

    Raises:
        UnsupportedError: a classArg outside what NNI's rule can use.
    """
    folder = spec.class_args.get("all_checkpoint_dir")
    if folder is not None and not isinstance(folder, str):
        raise UnsupportedError(
            f"all_checkpoint_dir must be a folder path (got {folder!r})",
            file=display_path(exp.config_file),
            field=f"{spec.role}.classArgs.all_checkpoint_dir",
            hint="remove it: each run then uses <run folder>/checkpoint",
        )
    return {
        "all_checkpoint_dir": folder,
        "population_size": int_arg(spec, exp, "population_size", 10, 1),
        "factor": _factor_arg(spec, exp),
        "resample_probability": _fraction_arg(spec, exp, "resample_probability", False),
        "fraction": _fraction_arg(spec, exp, "fraction", True),
        "seed": seed_arg(spec),
    }


def pbt_tuner(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    call = SearcherCall(SearcherKind.PBT, spec.name or "PBT", pbt_kwargs(spec, exp), exact=True)
    # NNI runs PBT without early stopping unless the config names an assessor.
    fifo = SchedulerCall(SchedulerKind.FIFO, exact=True) if exp.assessor is None else None
    return TunerMapping(
        call,
        (tuner_note(spec, exp, Severity.EXACT, PBT_TEXT),),
        scheduler=fifo,
        checkpoint_dirs=True,
    )


PBT_CONVERTED = (
    "PBT runs as random search in the converted project: each trial gets its own "
    "load/save_checkpoint_dir (one folder), without PBT's generations or exploit/explore "
    "(they need nni2ray's searcher: `nni2ray run`)"
)


def pbt_without_nni2ray(plan: TunePlan) -> TunePlan:
    """The plan a converted project (plain Ray Tune, no nni2ray) uses for PBT: random search
    (seeded as the plan is) with one checkpoint folder per trial. Other plans are returned
    as is."""
    call = plan.searcher
    if call.kind != SearcherKind.PBT:
        return plan
    return replace(
        plan,
        searcher=replace(call, exact=False),
        checkpoint_dirs=True,
        notes=approximated_instead(plan.notes, (PBT_TEXT,), PBT_CONVERTED),
    )
