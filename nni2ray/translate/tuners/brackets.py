"""NNI's Hyperband and BOHB advisors: the bracket schedule (the one home of its formulas),
their classArgs, and the approximation a converted project (plain Ray Tune) uses instead.

Bracket ``s`` runs ``s + 1`` rounds; round ``i`` starts ``floor(n / eta**i)`` trials with
``TRIAL_BUDGET = floor(r * eta**i)``, where ``s_max = floor(log_eta(R / min_budget))``,
``n = ceil((s_max + 1) * eta**s / (s + 1))`` and ``r = R / eta**s``; brackets go from
``s_max`` down to 0. NNI allows 1e-6 of slack in every floor and ceil.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from nni2ray.errors import MissingDependencyError, UnsupportedError
from nni2ray.experiment import AlgorithmSpec, Experiment, display_path
from nni2ray.notes import Note, Severity
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
    installed,
    int_arg,
    seed_arg,
    tuner_note,
)

#: The parameter NNI's advisors add to every trial.
BUDGET_KEY = "TRIAL_BUDGET"

_EPSILON = 1e-6  # NNI's own tolerance in every floor/ceil of the schedule


def s_max_of(max_budget: float, eta: int, min_budget: float = 1) -> int:
    """``floor(log_eta(max_budget / min_budget))`` (Hyperband: ``min_budget`` = 1)."""
    return math.floor(math.log(max_budget / min_budget, eta) + _EPSILON)


def bracket_rounds(s: int, s_max: int, max_budget: float, eta: int) -> list[tuple[int, int]]:
    """Bracket ``s``'s rounds as ``(number of trials, TRIAL_BUDGET)``."""
    n = math.ceil((s_max + 1) * eta**s / (s + 1) - _EPSILON)
    r = max_budget / eta**s
    return [
        (math.floor(n / eta**i + _EPSILON), math.floor(r * eta**i + _EPSILON)) for i in range(s + 1)
    ]


def schedule(
    max_budget: float, eta: int, min_budget: float = 1
) -> dict[int, list[tuple[int, int]]]:
    """Every bracket of one Hyperband iteration, ``s_max`` first."""
    s_max = s_max_of(max_budget, eta, min_budget)
    return {s: bracket_rounds(s, s_max, max_budget, eta) for s in range(s_max, -1, -1)}


HYPERBAND_EXACT = (
    "Hyperband keeps NNI's bracket schedule exactly (TRIAL_BUDGET per round, promotions "
    "as new trials); new configurations use NNI's sampling formulas from nni2ray's own "
    "random stream"
)
BOHB_SAMPLING = (
    "BOHB keeps NNI's bracket schedule exactly (TRIAL_BUDGET per round, promotions as new "
    "trials), but draws every new configuration at random with NNI's formulas instead of "
    "from BOHB's KDE model"
)
BOHB_NATIVE_MODEL = (
    "BOHB keeps NNI's bracket schedule exactly (TRIAL_BUDGET per round, promotions as new "
    "trials); new configurations come from nni2ray's BOHB model, NNI's rules on statsmodels' "
    "KDEMultivariate (min_points_in_model, top_n_percent, num_samples, random_fraction, "
    "bandwidth_factor, min_bandwidth), every final result in one model as NNI 3.0 feeds it, "
    "its own random stream; a nested choice's options that a configuration did not choose "
    "carry random values in the model"
)
BOHB_NNI_MODEL = (
    "BOHB keeps NNI's bracket schedule exactly (TRIAL_BUDGET per round, promotions as new "
    "trials); new configurations come from NNI's own BOHB model (CG_BOHB, "
    "nni.algorithms.hpo.bohb_advisor), fed as NNI's advisor feeds it"
)
#: Every note a BOHB plan may carry about what proposes its configurations.
BOHB_NOTES = (BOHB_SAMPLING, BOHB_NATIVE_MODEL, BOHB_NNI_MODEL)

#: What the native model imports (statsmodels' KDE; scipy's truncated normal).
BOHB_PACKAGES = ("statsmodels", "scipy")
BOHB_INSTALL = "pip install 'nni2ray[bohb]'"
#: What NNI's own BOHB model imports beyond nni.
BOHB_NNI_PACKAGES = ("ConfigSpace", "statsmodels")
BOHB_NNI_INSTALL = "pip install ConfigSpace statsmodels"

#: BOHB's classArgs that shape the model: name -> (type, NNI's default, low, high).
_MODEL_ARGS: dict[str, tuple[type, Any, float, float]] = {
    "min_points_in_model": (int, None, 0, 9999),
    "top_n_percent": (int, 15, 1, 99),
    "num_samples": (int, 64, 1, 9999),
    "random_fraction": (float, 1 / 3, 0, 1),
    "bandwidth_factor": (float, 3.0, 0, 9999),
    "min_bandwidth": (float, 1e-3, 0, 9999),
}


def hyperband_advisor(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    exec_mode = spec.class_args.get("exec_mode", "parallelism")
    if exec_mode not in ("parallelism", "serial"):
        raise UnsupportedError(
            f"exec_mode must be 'parallelism' or 'serial' (got {exec_mode!r})",
            file=display_path(exp.config_file),
            field=f"{spec.role}.classArgs.exec_mode",
            hint="write exec_mode: parallelism",
        )
    kwargs = {
        "R": int_arg(spec, exp, "R", 60, 1),
        "eta": int_arg(spec, exp, "eta", 3, 2),
        "exec_mode": exec_mode,
        "optimize_mode": spec.optimize_mode or "maximize",
        "seed": seed_arg(spec),
    }
    return TunerMapping(
        SearcherCall(SearcherKind.HYPERBAND, spec.name or "Hyperband", kwargs, exact=True),
        (tuner_note(spec, exp, Severity.EXACT, HYPERBAND_EXACT),),
        scheduler=SchedulerCall(SchedulerKind.FIFO, spec.name, {}, exact=True),
    )


def bohb_advisor(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    min_budget = spec.class_args.get("min_budget", 1)
    max_budget = spec.class_args.get("max_budget", 3)
    numbers = all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in (min_budget, max_budget)
    )
    if not numbers or not 0 < min_budget <= max_budget:
        raise UnsupportedError(
            f"BOHB needs 0 < min_budget <= max_budget (got {min_budget!r}, {max_budget!r})",
            file=display_path(exp.config_file),
            field=f"{spec.role}.classArgs",
            hint="write e.g. min_budget: 1 and max_budget: 27",
        )
    kwargs = {
        "min_budget": min_budget,
        "max_budget": max_budget,
        "eta": int_arg(spec, exp, "eta", 3, 2),
        "optimize_mode": spec.optimize_mode or "maximize",
        "seed": seed_arg(spec),
        "model_args": _model_args(spec, exp),
    }
    config_space = spec.class_args.get("config_space")
    if isinstance(config_space, str):
        kwargs["config_space"] = config_space
    notes = []
    missing = [p for p in BOHB_PACKAGES if not installed(p)]
    if missing:
        kwargs["model"] = "random"
        text = (
            f"BOHB's model needs {', '.join(missing)}, which is not installed "
            f"({BOHB_INSTALL}); configurations are drawn at random inside the schedule"
        )
        notes.append(tuner_note(spec, exp, Severity.WARNING, text))
        notes.append(tuner_note(spec, exp, Severity.APPROXIMATED, BOHB_SAMPLING))
    else:
        kwargs["model"] = "native"
        notes.append(tuner_note(spec, exp, Severity.APPROXIMATED, BOHB_NATIVE_MODEL))
    if config_space is not None:
        text = (
            "classArgs.config_space (a ConfigSpace .pcs file) is read only by NNI's own BOHB "
            "model (--algorithm-backend nni/auto); nni2ray's model searches the search space"
        )
        notes.append(tuner_note(spec, exp, Severity.APPROXIMATED, text))
    return TunerMapping(
        SearcherCall(SearcherKind.BOHB, spec.name or "BOHB", kwargs),
        tuple(notes),
        scheduler=SchedulerCall(SchedulerKind.FIFO, spec.name, {}, exact=True),
    )


def _model_args(spec: AlgorithmSpec, exp: Experiment) -> dict[str, Any]:
    """BOHB's model classArgs, checked with NNI's validator's ranges (NNI's defaults)."""
    args: dict[str, Any] = {}
    for key, (kind, default, low, high) in _MODEL_ARGS.items():
        value = spec.class_args.get(key, default)
        if value is None:
            args[key] = None
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or (kind is int and not isinstance(value, int)) or not low <= value <= high:
            raise UnsupportedError(
                f"{key} must be {'an integer' if kind is int else 'a number'} in "
                f"[{low:g}, {high:g}] (got {value!r})",
                file=display_path(exp.config_file),
                field=f"{spec.role}.classArgs.{key}",
                hint=f"write {key}: {default if default is not None else 7}",
            )
        args[key] = kind(value)
    return args


def nni_model_problem(space_json: dict[str, Any]) -> str | None:
    """Why NNI 3.0's BOHB model cannot take this space here (None: it can), found without
    importing nni: ConfigSpace 1.x (the only line that installs beside numpy 2) dropped the
    ``q`` NNI's conversion passes for quniform/qloguniform and needs bounds for the normal
    types; NNI hands a nested choice's option to the trial unsampled (its ``_type`` specs)."""
    for name, param in space_json.items():
        kind = param.get("_type") if isinstance(param, dict) else None
        if kind in ("quniform", "qloguniform", "normal", "qnormal", "lognormal", "qlognormal"):
            return (
                f"NNI 3.0's BOHB converts {kind} ({name!r}) with arguments ConfigSpace 1.x no "
                "longer takes"
            )
        values = param.get("_value") if isinstance(param, dict) else None
        if kind == "choice" and any(isinstance(v, dict) for v in values or []):
            return (
                f"NNI 3.0's BOHB hands the options of the nested choice {name!r} to the trial "
                "unsampled"
            )
    return None


def bohb_backend(
    spec: AlgorithmSpec, exp: Experiment, native: TunerMapping, backend: str
) -> TunerMapping:
    """BOHB under ``--algorithm-backend``: nni2ray's bracket schedule (NNI's own) in every
    backend; the configurations come from NNI's CG_BOHB under ``nni`` (an error when it
    cannot run) and ``auto`` (where it can), else from nni2ray's model.

    Raises:
        MissingDependencyError: ``nni`` and NNI's model needs a package that is missing.
        UnsupportedError: ``nni`` and NNI's model cannot take the search space.
    """
    if backend == "native":
        return native
    missing = [p for p in ("nni", *BOHB_NNI_PACKAGES) if not installed(p)]
    own_space = isinstance(native.searcher.kwargs.get("config_space"), str)  # NNI reads it
    problem = None if missing or own_space else nni_model_problem(exp.raw_search_space or {})
    config = display_path(exp.config_file)
    if missing and backend == "nni":
        raise MissingDependencyError(
            f"NNI's BOHB model needs {', '.join(missing)}, which is not installed "
            "(--algorithm-backend nni)",
            file=config,
            field=f"{spec.role}.name",
            hint=("pip install 'nni2ray[nni]' and " if "nni" in missing else "")
            + BOHB_NNI_INSTALL
            + ", or use --algorithm-backend auto",
        )
    if problem and backend == "nni":
        raise UnsupportedError(
            problem + " (--algorithm-backend nni)",
            file=config,
            field=f"{spec.role}.name",
            hint="use --algorithm-backend auto or native (nni2ray's BOHB model)",
        )
    if missing or problem:
        if "nni" in missing:
            return native  # no NNI at all: the native model, as without the flag
        why = problem or f"NNI's BOHB model needs {', '.join(missing)} ({BOHB_NNI_INSTALL})"
        text = why + "; nni2ray's BOHB model runs"
        note = Note(Severity.WARNING, text, file=config, field=f"{spec.role}.name")
        return replace(native, notes=(note, *native.notes))
    kwargs = dict(native.searcher.kwargs, model="nni", backend=backend)
    # NNI's model reads config_space itself; the native model's notes do not apply.
    notes = tuple(
        n for n in native.notes if n.message not in BOHB_NOTES and "config_space" not in n.message
    )
    exact = tuner_note(spec, exp, Severity.EXACT, BOHB_NNI_MODEL)
    return replace(
        native,
        searcher=replace(native.searcher, kwargs=kwargs, exact=True),
        notes=(exact, *notes),
    )


def advisor_without_nni2ray(plan: TunePlan) -> TunePlan:
    """The plan a converted project (plain Ray Tune, no nni2ray) uses for Hyperband/BOHB.

    The exact bracket schedule needs nni2ray's searcher; a converted launcher approximates
    it with random search (Hyperband) or hyperopt's TPE (BOHB), ASHA early stopping and
    ``TRIAL_BUDGET`` = the maximum budget for every trial. Other plans are returned as is.
    """
    call = plan.searcher
    if call.kind not in (SearcherKind.HYPERBAND, SearcherKind.BOHB):
        return plan
    eta = int(call.kwargs["eta"])
    seed = call.kwargs.get("seed")
    if call.kind == SearcherKind.HYPERBAND:
        max_budget = int(call.kwargs["R"])
        min_budget = max(1, int(max_budget / eta ** s_max_of(max_budget, eta)))
        searcher = SearcherCall(SearcherKind.RANDOM, call.nni_name, {"seed": seed})
        text = (
            "Hyperband runs as random search with ASHA early stopping (max_t=R, "
            "reduction_factor=eta); each trial gets TRIAL_BUDGET=R and ASHA stops weak trials "
            "at rung boundaries instead of restarting promoted configs with a larger budget"
        )
    else:
        max_budget = int(call.kwargs["max_budget"])
        min_budget = max(1, int(call.kwargs["min_budget"]))
        searcher = SearcherCall(
            SearcherKind.HYPEROPT, call.nni_name, {"algo": "tpe", "random_state_seed": seed}
        )
        text = (
            "BOHB runs as hyperopt's TPE with ASHA early stopping (max_t=max_budget, "
            "grace_period=min_budget, reduction_factor=eta); each trial gets "
            "TRIAL_BUDGET=max_budget"
        )
    schedule = {"max_t": max_budget, "reduction_factor": eta, "grace_period": min_budget}
    return replace(
        plan,
        searcher=searcher,
        scheduler=SchedulerCall(SchedulerKind.ASHA, plan.scheduler.nni_name, schedule),
        extra_parameters=dict(plan.extra_parameters, **{BUDGET_KEY: max_budget}),
        notes=approximated_instead(plan.notes, (HYPERBAND_EXACT, *BOHB_NOTES), text),
    )
