"""Emit ``tune_experiment.py``, the launcher, from a TunePlan (source text only, no Ray import)."""

from __future__ import annotations

import json
import pprint
from typing import Any

from nni2ray.convert.launcher._algorithms import SCHEDULER_SOURCES, SEARCHER_SOURCES
from nni2ray.convert.launcher._command import TrialLaunch
from nni2ray.convert.launcher._template import LAUNCHER
from nni2ray.translate import SearcherKind, TunePlan, nni_space
from nni2ray.translate.param_space import param_space_source, search_space_to_param_space

#: The file name of the copied ``nni2ray/experiment/nni_space.py`` in a converted project.
SPACE_MODULE = "nni_search_space.py"
#: The file name of the copied ``nni2ray/translate/nni_grid.py`` (continuous GridSearch).
GRID_MODULE = "nni_grid.py"
LAUNCHER_NAME = "tune_experiment.py"


def launcher_source(
    plan: TunePlan,
    launch: TrialLaunch,
    command: str,
    config_file: str,
    gpu_indices: tuple[int, ...] | None = None,
) -> str:
    """Return the text of ``tune_experiment.py`` for ``plan``.

    Args:
        plan: what translate made of the experiment.
        launch: the parsed trialCommand (empty ``argv`` when it cannot run in-process).
        command: the trialCommand as written, for comments.
        config_file: the config's name, for the docstring.
        gpu_indices: NNI's gpuIndices (the GPUs trials may use), None for all.
    """
    searcher_imports, searcher = SEARCHER_SOURCES[plan.searcher.kind].source(plan.searcher)
    if refined_grid(plan):
        searcher = _REFINED_GRID_SEARCHER
    scheduler_imports, scheduler = SCHEDULER_SOURCES[plan.scheduler.kind].source(plan.scheduler)
    imports = sorted(set(searcher_imports + scheduler_imports))
    return LAUNCHER.substitute(
        name=plan.name,
        config_file=config_file,
        command=command,
        imports="".join(f"{line}\n" for line in imports),
        trial_comment=_trial_comment(launch),
        argv=repr(list(launch.argv)),
        env=repr(launch.env),
        cwd=repr(launch.cwd),
        prefix_env=repr(launch.prefix_env),
        flags=repr(list(launch.flags)),
        shell=repr(launch.shell or None),
        timeout=repr(plan.max_trial_duration_s),
        checkpoint_dirs=repr(plan.checkpoint_dirs),
        gpu_environment=_gpu_environment(plan),
        gpu_setup=_gpu_setup(gpu_indices),
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
        resources=_resources(plan),
        mode=plan.mode,
        stop=repr({"time_total_s": plan.max_trial_duration_s})
        if plan.max_trial_duration_s
        else "None",
    )


def _trial_comment(launch: TrialLaunch) -> str:
    if launch.shell:
        return (
            "# It is not one Python line the launcher can follow, so each Tune trial runs it\n"
            "# with `bash -c` in this folder; tune_trial_bridge/ passes its reports to Tune."
        )
    text = (
        "# Each Tune trial runs the converted script in-process the same way: same working\n"
        "# directory, same sys.argv, same variables."
    )
    if launch.reason:
        text += f"\n# Note: {launch.reason}."
    return text


def _gpu_environment(plan: TunePlan) -> str:
    if plan.gpus_per_trial:
        return "    pass  # Ray sets CUDA_VISIBLE_DEVICES to the GPUs it gave the trial"
    if plan.gpus_per_trial == 0:
        return '    environ["CUDA_VISIBLE_DEVICES"] = ""  # trialGpuNumber: 0 hides every GPU'
    return "    pass  # trialGpuNumber not set: CUDA_VISIBLE_DEVICES is left as it is"


def _gpu_setup(gpu_indices: tuple[int, ...] | None) -> str:
    if gpu_indices is None:
        return ""
    devices = ",".join(str(index) for index in gpu_indices)
    return (
        "    # NNI's gpuIndices: Ray sees (and hands trials) only these GPUs.\n"
        f'    os.environ["CUDA_VISIBLE_DEVICES"] = "{devices}"\n'
    )


def _literal(value: Any) -> str:
    return pprint.pformat(value, indent=4, width=92, sort_dicts=False)


def _resources(plan: TunePlan) -> str:
    resources: dict[str, float] = {"cpu": plan.cpus_per_trial}
    if plan.gpus_per_trial:
        resources["gpu"] = plan.gpus_per_trial
    return repr(resources)


def refined_grid(plan: TunePlan) -> bool:
    """GridSearch over a space with continuous parameters: NNI refines its grid epoch after
    epoch, endlessly; the launcher follows it with the copied ``nni_grid.py``."""
    space = plan.search_space
    return (
        plan.searcher.kind == SearcherKind.GRID
        and isinstance(space, dict)
        and not nni_space.is_finite(space)
    )


_REFINED_GRID_SEARCHER = """\
    # NNI's GridSearch over continuous parameters: every parameter starts at its median and
    # the grid is refined epoch after epoch, for ever; the trial limit (--num-samples) or the
    # time budget ends the run, as under NNI. nni_grid.py (copied from nni2ray, standard
    # library only) yields NNI 3.0's points in NNI's order.
    import itertools

    import nni_grid
    from ray.tune.search import Searcher

    class NniGridSearch(Searcher):
        def __init__(self):
            super().__init__()
            self.index, self.points = 0, None

        def suggest(self, trial_id):
            if self.points is None:  # a generator does not pickle: rebuilt where it stopped
                points = nni_grid.grid_points(SEARCH_SPACE)
                self.points = itertools.islice(points, self.index, None)
            point = next(self.points, None)
            if point is None:
                return Searcher.FINISHED
            self.index += 1
            return {"nni_params": point}

        def on_trial_complete(self, trial_id, result=None, error=False):
            pass

        def __getstate__(self):
            return dict(self.__dict__, points=None)

    return NniGridSearch()"""


def _param_space(plan: TunePlan) -> str:
    head = "def make_param_space(num_samples: int) -> tuple[dict, int]:\n"
    if refined_grid(plan):
        return head + (
            '    """NniGridSearch (make_searcher) suggests every trial\'s parameters in NNI\'s\n'
            '    grid order ({"nni_params": ...}); num_samples is the trial limit."""\n'
            "    return {}, num_samples"
        )
    if plan.searcher.kind == SearcherKind.CUSTOM:
        return head + (
            '    """The custom tuner suggests every trial\'s parameters ({"nni_params": ...})."""\n'
            "    return {}, num_samples"
        )
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
