"""TUNERS: each NNI tuner or advisor name mapped to the Tune searcher that stands in for it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from nni2ray.errors import UnsupportedError
from nni2ray.experiment._paths import display_path
from nni2ray.experiment.model import AlgorithmSpec, Experiment
from nni2ray.notes import Note, Severity
from nni2ray.translate.plan import SchedulerCall, SearcherCall, TunePlan


@dataclass(frozen=True)
class TunerMapping:
    """What one NNI tuner becomes.

    ``scheduler`` is set only for advisors (Hyperband, BOHB), which replace the assessor;
    ``extra_parameters`` are added to every trial's parameters (``TRIAL_BUDGET``).
    """

    searcher: SearcherCall
    notes: tuple[Note, ...] = ()
    scheduler: SchedulerCall | None = None
    extra_parameters: tuple[tuple[str, Any], ...] = ()


Builder = Callable[[AlgorithmSpec, Experiment], TunerMapping]

#: Default optimize_mode of each NNI algorithm (reference 5.2); Random/Grid/Batch ignore it.
DEFAULT_MODES: dict[str, str | None] = {
    "tpe": "minimize",
    "tpe_legacy": "minimize",
    "anneal": "minimize",
    "random": None,
    "gridsearch": None,
    "batch": None,
    "evolution": "maximize",
    "smac": "maximize",
    "metis": "maximize",
    "gp": "maximize",
    "dngo": "maximize",
    "pbt": "maximize",
    "hyperband": "maximize",
    "bohb": "maximize",
}


def _note(spec: AlgorithmSpec, exp: Experiment, severity: Severity, text: str) -> Note:
    return Note(severity, text, file=display_path(exp.config_file), field=f"{spec.role}.name")


def _seed(spec: AlgorithmSpec) -> int | None:
    seed = spec.class_args.get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def _random(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    call = SearcherCall("random", spec.name or "Random", {"seed": _seed(spec)}, exact=True)
    return TunerMapping(call)


def _hyperopt(algo: str, substitute_for: str | None = None) -> Builder:
    def build(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
        kwargs: dict[str, Any] = {"algo": algo, "random_state_seed": _seed(spec)}
        tpe_args = spec.class_args.get("tpe_args") or {}
        if isinstance(tpe_args, dict):
            if isinstance(tpe_args.get("n_startup_jobs"), int):
                kwargs["n_initial_points"] = tpe_args["n_startup_jobs"]
            if isinstance(tpe_args.get("gamma"), (int, float)):
                kwargs["gamma"] = float(tpe_args["gamma"])
        name = spec.name or "TPE"
        if substitute_for:
            text = (
                f"{name} has no Ray Tune equivalent; nni2ray uses {substitute_for} "
                "(hyperopt's TPE, a model-based search) instead"
            )
            note = _note(spec, exp, Severity.APPROXIMATED, text)
        else:
            text = (
                f"{name} runs as Ray Tune's HyperOptSearch ({algo}); it models the same "
                "search space but has no constant liar or linear forgetting"
            )
            note = _note(spec, exp, Severity.APPROXIMATED, text)
        return TunerMapping(SearcherCall("hyperopt", name, kwargs), (note,))

    return build


def _grid(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    # Continuous parameters follow NNI's refined grid (translate/nni_grid.py): endless,
    # so the run ends at maxTrialNumber or maxExperimentDuration, as in NNI.
    return TunerMapping(SearcherCall("grid", spec.name or "GridSearch", {}, exact=True))


def _batch(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    space = exp.raw_search_space
    ok = isinstance(space, dict) and len(space) == 1
    entry = next(iter(space.values())) if ok else None
    if not (isinstance(entry, dict) and entry.get("_type") == "choice"):
        raise UnsupportedError(
            "the Batch tuner needs exactly one search-space key of type choice whose "
            "options are complete parameter dicts",
            file=display_path(exp.search_space_file or exp.config_file),
            field="searchSpace",
            hint='write {"combine_params": {"_type": "choice", "_value": [{...}, ...]}}',
        )
    return TunerMapping(SearcherCall("batch", spec.name or "Batch", {}, exact=True))


def _pbt(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    text = (
        "PBT has no subprocess-friendly Ray Tune equivalent; nni2ray runs random search "
        "with early stopping and gives each trial its own load/save_checkpoint_dir"
    )
    call = SearcherCall("random", spec.name or "PBT", {"seed": _seed(spec)})
    return TunerMapping(
        call,
        (_note(spec, exp, Severity.APPROXIMATED, text),),
        extra_parameters=(("__pbt_checkpoint_dirs__", True),),
    )


_HYPERBAND_EXACT = (
    "Hyperband keeps NNI's bracket schedule exactly (TRIAL_BUDGET per round, promotions "
    "as new trials); new configurations use NNI's sampling formulas from nni2ray's own "
    "random stream"
)
_BOHB_SAMPLING = (
    "BOHB keeps NNI's bracket schedule exactly (TRIAL_BUDGET per round, promotions as new "
    "trials), but draws every new configuration at random with NNI's formulas instead of "
    "from BOHB's KDE model"
)


def _int_arg(spec: AlgorithmSpec, exp: Experiment, key: str, default: int, low: int) -> int:
    value = spec.class_args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise UnsupportedError(
            f"{key} must be an integer >= {low} (got {value!r})",
            file=display_path(exp.config_file),
            field=f"{spec.role}.classArgs.{key}",
            hint=f"write {key}: {default}",
        )
    return value


def _hyperband(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    exec_mode = spec.class_args.get("exec_mode", "parallelism")
    if exec_mode not in ("parallelism", "serial"):
        raise UnsupportedError(
            f"exec_mode must be 'parallelism' or 'serial' (got {exec_mode!r})",
            file=display_path(exp.config_file),
            field=f"{spec.role}.classArgs.exec_mode",
            hint="write exec_mode: parallelism",
        )
    kwargs = {
        "R": _int_arg(spec, exp, "R", 60, 1),
        "eta": _int_arg(spec, exp, "eta", 3, 2),
        "exec_mode": exec_mode,
        "optimize_mode": spec.optimize_mode or "maximize",
        "seed": _seed(spec),
    }
    return TunerMapping(
        SearcherCall("hyperband", spec.name or "Hyperband", kwargs, exact=True),
        (_note(spec, exp, Severity.EXACT, _HYPERBAND_EXACT),),
        scheduler=SchedulerCall("fifo", spec.name, {}, exact=True),
    )


def _bohb(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
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
        "eta": _int_arg(spec, exp, "eta", 3, 2),
        "optimize_mode": spec.optimize_mode or "maximize",
        "seed": _seed(spec),
    }
    return TunerMapping(
        SearcherCall("bohb", spec.name or "BOHB", kwargs),
        (_note(spec, exp, Severity.APPROXIMATED, _BOHB_SAMPLING),),
        scheduler=SchedulerCall("fifo", spec.name, {}, exact=True),
    )


def advisor_without_nni2ray(plan: TunePlan) -> TunePlan:
    """The plan a converted project (plain Ray Tune, no nni2ray) uses for Hyperband/BOHB.

    The exact bracket schedule needs nni2ray's searcher; a converted launcher approximates
    it with random search (Hyperband) or hyperopt's TPE (BOHB), ASHA early stopping and
    ``TRIAL_BUDGET`` = the maximum budget for every trial. Other plans are returned as is.
    """
    call = plan.searcher
    if call.kind not in ("hyperband", "bohb"):
        return plan
    eta = int(call.kwargs["eta"])
    seed = call.kwargs.get("seed")
    if call.kind == "hyperband":
        max_budget = int(call.kwargs["R"])
        s_max = int(math.floor(math.log(max_budget, eta) + 1e-6)) if max_budget > 1 else 0
        min_budget = max(1, int(max_budget / eta**s_max))
        searcher = SearcherCall("random", call.nni_name, {"seed": seed})
        text = (
            "Hyperband runs as random search with ASHA early stopping (max_t=R, "
            "reduction_factor=eta); each trial gets TRIAL_BUDGET=R and ASHA stops weak trials "
            "at rung boundaries instead of restarting promoted configs with a larger budget"
        )
    else:
        max_budget = int(call.kwargs["max_budget"])
        min_budget = max(1, int(call.kwargs["min_budget"]))
        searcher = SearcherCall(
            "hyperopt", call.nni_name, {"algo": "tpe", "random_state_seed": seed}
        )
        text = (
            "BOHB runs as hyperopt's TPE with ASHA early stopping (max_t=max_budget, "
            "grace_period=min_budget, reduction_factor=eta); each trial gets "
            "TRIAL_BUDGET=max_budget"
        )
    exact_notes = [n for n in plan.notes if n.message in (_HYPERBAND_EXACT, _BOHB_SAMPLING)]
    where = exact_notes[0] if exact_notes else None
    note = Note(
        Severity.APPROXIMATED,
        text,
        file=where.file if where else None,
        field=where.field if where else None,
    )
    schedule = {"max_t": max_budget, "reduction_factor": eta, "grace_period": min_budget}
    return replace(
        plan,
        searcher=searcher,
        scheduler=SchedulerCall("asha", plan.scheduler.nni_name, schedule),
        extra_parameters=dict(plan.extra_parameters, TRIAL_BUDGET=max_budget),
        notes=tuple(n for n in plan.notes if n not in exact_notes) + (note,),
    )


def _custom(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    kwargs = {
        "class_name": spec.class_name,
        "code_directory": str(spec.code_directory) if spec.code_directory else None,
        "class_args": dict(spec.class_args),
        "role": spec.role,
        "include_intermediate_results": spec.include_intermediate_results,
    }
    return TunerMapping(SearcherCall("custom", spec.class_name or "", kwargs, exact=True))


#: NNI tuner/advisor name (lower case, aliases included) → builder.
TUNERS: dict[str, Builder] = {
    "tpe": _hyperopt("tpe"),
    "tpe_legacy": _hyperopt("tpe"),
    "anneal": _hyperopt("anneal"),
    "random": _random,
    "gridsearch": _grid,
    "batch": _batch,
    "batchtuner": _batch,
    "evolution": _hyperopt("tpe", "HyperOptSearch"),
    "smac": _hyperopt("tpe", "HyperOptSearch"),
    "metis": _hyperopt("tpe", "HyperOptSearch"),
    "metistuner": _hyperopt("tpe", "HyperOptSearch"),
    "gp": _hyperopt("tpe", "HyperOptSearch"),
    "gptuner": _hyperopt("tpe", "HyperOptSearch"),
    "dngo": _hyperopt("tpe", "HyperOptSearch"),
    "dngotuner": _hyperopt("tpe", "HyperOptSearch"),
    "pbt": _pbt,
    "pbttuner": _pbt,
    "hyperband": _hyperband,
    "bohb": _bohb,
}

_ALIASES = {
    "batchtuner": "batch",
    "metistuner": "metis",
    "gptuner": "gp",
    "dngotuner": "dngo",
    "pbttuner": "pbt",
}


def canonical_key(name: str) -> str:
    key = name.lower()
    return _ALIASES.get(key, key)


def tuner_to_searcher(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    """Map the experiment's tuner (or advisor) to a Tune searcher.

    Raises:
        UnsupportedError: for tuners with no Ray Tune stand-in (NAS tuners) and invalid
            Hyperband/BOHB classArgs. Custom tuners map to ``SearcherCall("custom")``:
            the user's class runs in the driver.
    """
    if spec.is_custom:
        return _custom(spec, exp)
    builder = TUNERS.get((spec.name or "").lower())
    if builder is None:
        supported = ", ".join(sorted({canonical_key(k) for k in TUNERS}))
        raise UnsupportedError(
            f"{spec.name!r} has no Ray Tune equivalent",
            file=display_path(exp.config_file),
            field=f"{spec.role}.name",
            hint=f"supported: {supported}",
        )
    return builder(spec, exp)
