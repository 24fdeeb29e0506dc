"""Emit ``tune_experiment.py``, the launcher, from a TunePlan (source text only, no Ray import)."""

from __future__ import annotations

import json
import pprint
from typing import Any

from nni2ray.convert.launcher._command import TrialLaunch
from nni2ray.convert.launcher._template import LAUNCHER
from nni2ray.translate.param_space import param_space_source, search_space_to_param_space
from nni2ray.translate.plan import SchedulerCall, SearcherCall, TunePlan

#: The file name of the copied ``nni2ray/translate/nni_space.py`` in a converted project.
SPACE_MODULE = "nni_search_space.py"
LAUNCHER_NAME = "tune_experiment.py"


def launcher_source(plan: TunePlan, launch: TrialLaunch, command: str, config_file: str) -> str:
    """Return the text of ``tune_experiment.py`` for ``plan``.

    Args:
        plan: what translate made of the experiment.
        launch: the parsed trialCommand (empty ``argv`` when it cannot run in-process).
        command: the trialCommand as written, for comments.
        config_file: the config's name, for the docstring.
    """
    searcher_imports, searcher = _searcher(plan.searcher)
    scheduler_imports, scheduler = _scheduler(plan.scheduler)
    imports = sorted(set(searcher_imports + scheduler_imports))
    return LAUNCHER.substitute(
        name=plan.name,
        config_file=config_file,
        command=command,
        imports="".join(f"{line}\n" for line in imports),
        argv=repr(list(launch.argv)),
        env=repr(launch.env),
        search_space=json.dumps(plan.search_space, indent=4),
        extra_parameters=_literal(
            {key: value for key, value in plan.extra_parameters.items() if not key.startswith("__")}
        ),
        extra_origin="Hyperband/BOHB (TRIAL_BUDGET)" if plan.extra_parameters else "tuner",
        param_space=_param_space(plan),
        tuner=plan.searcher.nni_name,
        assessor=plan.scheduler.nni_name or "none; nni2ray's default",
        searcher=searcher,
        scheduler=scheduler,
        num_samples=plan.num_samples,
        concurrency=plan.max_concurrent_trials,
        time_budget=plan.time_budget_s,
        refusal=f"the trial command cannot run as a Tune function trial: {launch.reason}",
        resources=_resources(plan),
        mode=plan.mode,
        stop=repr({"time_total_s": plan.max_trial_duration_s})
        if plan.max_trial_duration_s
        else "None",
    )


def _literal(value: Any) -> str:
    return pprint.pformat(value, indent=4, width=92, sort_dicts=False)


def _resources(plan: TunePlan) -> str:
    resources: dict[str, float] = {"cpu": plan.cpus_per_trial}
    if plan.gpus_per_trial:
        resources["gpu"] = plan.gpus_per_trial
    return repr(resources)


def _param_space(plan: TunePlan) -> str:
    head = "def make_param_space(num_samples: int) -> tuple[dict, int]:\n"
    if plan.searcher.kind in {"grid", "batch"}:
        points = (
            "list(nni_search_space.grid(SEARCH_SPACE))"
            if plan.searcher.kind == "grid"
            else 'next(iter(SEARCH_SPACE.values()))["_value"]'
        )
        return head + (
            '    """Every point of NNI\'s grid (or Batch list) once; --num-samples caps it."""\n'
            f"    points = {points}\n"
            "    if num_samples > 0:\n"
            "        points = points[:num_samples]\n"
            '    return {"nni_params": tune.grid_search(points)}, 1'
        )
    domains = param_space_source(search_space_to_param_space(plan.search_space), indent=8)
    domains = domains.replace("\n}", "\n    }")
    return head + (
        '    """Latent Tune domains; nni_search_space.decode() turns a sample into NNI values."""\n'
        f"    param_space = {domains}\n"
        "    return param_space, num_samples"
    )


def _kwargs(kwargs: dict[str, Any], skip: tuple[str, ...] = ()) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if v is not None and k not in skip)


def _searcher(call: SearcherCall) -> tuple[list[str], str]:
    if call.kind == "hyperopt":
        algo = call.kwargs.get("algo", "tpe")
        body = (
            "    try:\n"
            "        import hyperopt\n"
            "        from ray.tune.search.hyperopt import HyperOptSearch\n"
            "    except ImportError:  # hyperopt is not part of Ray\n"
            '        print("warning: hyperopt is not installed (pip install hyperopt); "\n'
            '              "falling back to random search", file=sys.stderr)\n'
            "        return None\n"
            f"    searcher = HyperOptSearch({_kwargs(call.kwargs, ('algo',))})\n"
        )
        if algo == "anneal":
            body += "    searcher.algo = hyperopt.anneal.suggest  # NNI's Anneal tuner\n"
        return [], body + "    return searcher"
    if call.kind == "random" and call.kwargs.get("seed") is not None:
        body = f"    return BasicVariantGenerator(random_state={call.kwargs['seed']!r})"
        return ["from ray.tune.search.basic_variant import BasicVariantGenerator"], body
    if call.kind in {"grid", "batch"}:
        return [], "    return None  # the grid_search in the param space lists every point"
    return [], "    return None  # Tune's default: random search"


def _scheduler(call: SchedulerCall) -> tuple[list[str], str]:
    if call.kind == "asha":
        kwargs = _kwargs(call.kwargs)
        body = f'    return ASHAScheduler(time_attr="training_iteration", {kwargs})'
        return ["from ray.tune.schedulers import ASHAScheduler"], body
    if call.kind == "medianstop":
        start = call.kwargs.get("start_step", 0)
        body = (
            "    # NNI stops a trial whose best result so far is worse than the median of the\n"
            "    # completed trials' running averages at the same step; Ray's rule also counts\n"
            "    # running trials. grace_period = NNI's start_step.\n"
            "    return MedianStoppingRule(\n"
            f'        time_attr="training_iteration", grace_period={start!r}, '
            "min_samples_required=1\n    )"
        )
        return ["from ray.tune.schedulers import MedianStoppingRule"], body
    if call.kind == "hyperband":
        kwargs = _kwargs(call.kwargs)
        body = f'    return HyperBandScheduler(time_attr="training_iteration", {kwargs})'
        return ["from ray.tune.schedulers import HyperBandScheduler"], body
    return [], "    return None  # FIFO: trials are never stopped early"
