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

from nni2ray.errors import UnsupportedError
from nni2ray.experiment import AlgorithmSpec, Experiment, display_path
from nni2ray.notes import Note, Severity
from nni2ray.translate.plan import (
    SchedulerCall,
    SchedulerKind,
    SearcherCall,
    SearcherKind,
    TunePlan,
)
from nni2ray.translate.tuners._common import TunerMapping, int_arg, seed_arg, tuner_note

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
    }
    return TunerMapping(
        SearcherCall(SearcherKind.BOHB, spec.name or "BOHB", kwargs),
        (tuner_note(spec, exp, Severity.APPROXIMATED, BOHB_SAMPLING),),
        scheduler=SchedulerCall(SchedulerKind.FIFO, spec.name, {}, exact=True),
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
    exact_notes = [n for n in plan.notes if n.message in (HYPERBAND_EXACT, BOHB_SAMPLING)]
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
        scheduler=SchedulerCall(SchedulerKind.ASHA, plan.scheduler.nni_name, schedule),
        extra_parameters=dict(plan.extra_parameters, **{BUDGET_KEY: max_budget}),
        notes=tuple(n for n in plan.notes if n not in exact_notes) + (note,),
    )
