"""Emit ``tune_experiment.py``, the launcher, from a TunePlan (source text only, no Ray import)."""

from __future__ import annotations

import json
import pprint
from typing import Any

from nni2ray.convert.launcher._algorithms import SCHEDULER_SOURCES, SEARCHER_SOURCES
from nni2ray.convert.launcher._command import TrialLaunch
from nni2ray.convert.launcher._template import LAUNCHER
from nni2ray.translate import SearcherKind, TunePlan
from nni2ray.translate.param_space import param_space_source, search_space_to_param_space

#: The file name of the copied ``nni2ray/experiment/nni_space.py`` in a converted project.
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
    searcher_imports, searcher = SEARCHER_SOURCES[plan.searcher.kind].source(plan.searcher)
    scheduler_imports, scheduler = SCHEDULER_SOURCES[plan.scheduler.kind].source(plan.scheduler)
    imports = sorted(set(searcher_imports + scheduler_imports))
    return LAUNCHER.substitute(
        name=plan.name,
        config_file=config_file,
        command=command,
        imports="".join(f"{line}\n" for line in imports),
        argv=repr(list(launch.argv)),
        env=repr(launch.env),
        search_space=json.dumps(plan.search_space, indent=4),
        extra_parameters=_literal(plan.extra_parameters),
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
    if plan.searcher.kind in (SearcherKind.GRID, SearcherKind.BATCH):
        points = (
            "list(nni_search_space.grid(SEARCH_SPACE))"
            if plan.searcher.kind == SearcherKind.GRID
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
