"""NNI's own tuner classes under `--algorithm-backend nni`: the proposals are NNI's, exactly.

For each built-in tuner, nni2ray's searcher (the real plan from `translate(...,
algorithm_backend="nni")`, built by `build_searcher`, driven with `suggest` /
`on_trial_complete` as Tune drives it, 2 trials pending) is compared with NNI's class driven
in-process as NNI's dispatcher drives it (`update_search_space`, `generate_multiple_parameters`
with `st_callback` for `trialConcurrency` ids, then per finished trial
`receive_trial_result` + `trial_end` and a request for one more). Same randomness on both
sides, same results: the parameters must be identical, trial by trial.

NNI 3.0 seeds only TPE and Random from classArgs; Anneal, Evolution, GP, Metis and PBT draw
from `numpy.random.RandomState()` (operating-system entropy) and the global `random` /
`numpy.random` generators, so NNI's own runs of those are not reproducible. Here both sides
get the same entropy: `RandomState()` without a seed is made `RandomState(seed)` and the
global generators are seeded before each side starts. A difference then can only come from
a different call sequence, different arguments or different results.

These need `nni` importable (`pip install 'nni2ray[nni]'`); without it they are skipped.
"""

from __future__ import annotations

import copy
import importlib.machinery
import json
import random
from collections import deque
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.skipif(
    importlib.machinery.PathFinder.find_spec("nni") is None,
    reason="nni is not installed (pip install 'nni2ray[nni]')",
)

MIXED = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "n": {"_type": "randint", "_value": [1, 8]},
    "opt": {"_type": "choice", "_value": ["sgd", "adam", "rmsprop"]},
}
NUMERIC = {  # GP and Metis (NNI's own) search numerical spaces only
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "uniform", "_value": [1e-4, 1e-1]},
    "opt": {"_type": "choice", "_value": [0, 1, 2]},
}
GRID = {
    "x": {"_type": "choice", "_value": [0.1, 0.5, 0.9]},
    "y": {"_type": "uniform", "_value": [0, 1]},  # NNI's refined grid of a range
    "opt": {"_type": "choice", "_value": ["sgd", "adam"]},
}
BATCH = {
    "combine_params": {
        "_type": "choice",
        "_value": [{"x": x / 10, "lr": 0.01, "opt": "adam"} for x in (5, 1, 3, 2, 8, 6)],
    }
}
CLASSES = {
    "TPE": "nni.algorithms.hpo.tpe_tuner.TpeTuner",
    "Random": "nni.algorithms.hpo.random_tuner.RandomTuner",
    "Anneal": "nni.algorithms.hpo.hyperopt_tuner.HyperoptTuner",
    "Evolution": "nni.algorithms.hpo.evolution_tuner.EvolutionTuner",
    "GridSearch": "nni.algorithms.hpo.gridsearch_tuner.GridSearchTuner",
    "Batch": "nni.algorithms.hpo.batch_tuner.BatchTuner",
    "GP": "nni.algorithms.hpo.gp_tuner.GPTuner",
    "Metis": "nni.algorithms.hpo.metis_tuner.MetisTuner",
    "PBT": "nni.algorithms.hpo.pbt_tuner.PBTTuner",
}
#: tuner -> (search space, classArgs of the config, trials); 2 pending at a time.
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], int]] = {
    "TPE": (MIXED, {"optimize_mode": "minimize", "seed": 7, "tpe_args": {"n_startup_jobs": 3}}, 8),
    "Random": (MIXED, {"seed": 7}, 6),
    "Anneal": (MIXED, {"optimize_mode": "minimize"}, 10),
    "Evolution": (MIXED, {"optimize_mode": "minimize", "population_size": 3}, 10),
    "GridSearch": (GRID, {}, 10),
    "Batch": (BATCH, {}, 6),
    "GP": (  # NNI's defaults (250 L-BFGS-B starts, 100000 warm-up points) take minutes
        NUMERIC,
        {
            "optimize_mode": "minimize",
            "cold_start_num": 2,
            "selection_num_starting_points": 5,
            "selection_num_warm_up": 1000,
        },
        5,
    ),
    "PBT": (MIXED, {"optimize_mode": "minimize", "population_size": 2}, 6),
}
#: what NNI's registry adds to the classArgs (builtin_algorithms.yml).
REGISTRY_ARGS = {"Anneal": {"algorithm_name": "anneal"}}
NO_CLASS_ARGS = {"GridSearch", "Batch"}
CONCURRENCY = 2
SEED = 11


def _loss(params: dict[str, Any]) -> float:
    if "combine_params" in params:  # not how BatchTuner hands them out; kept for safety
        params = params["combine_params"]
    opt = {"sgd": 0.3, "adam": 0.0, "rmsprop": 0.1, 0: 0.3, 1: 0.0, 2: 0.1}
    loss = (float(params["x"]) - 0.3) ** 2 + opt.get(params["opt"], 0.2)
    loss += abs(float(params.get("lr", 0.01)) - 0.01) + float(params.get("y", 0.5)) / 10
    return loss + int(params.get("n", 3)) / 100


@pytest.fixture
def same_entropy(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make NNI's unseeded randomness the same on both sides (see the module docstring)."""
    import numpy

    real = numpy.random.RandomState
    current = [SEED]

    class Seeded(real):  # type: ignore[misc,valid-type]
        def __init__(self, seed: Any = None) -> None:
            super().__init__(current[0] if seed is None else seed)

    monkeypatch.setattr(numpy.random, "RandomState", Seeded)

    def reseed(seed: int = SEED) -> None:
        current[0] = seed
        random.seed(seed)
        numpy.random.seed(seed)

    return reseed


@pytest.fixture
def scipy_shapes() -> None:
    """NNI 3.0's GP and Metis pass a 2-D x0 to scipy's minimize and read `res.fun[0]`;
    importing their class through nni2ray adapts that call in their modules (the product's
    `adapt_nni_to_scipy`), so both sides of the comparison run the adapted NNI code."""
    from nni2ray.runtime._user_algorithms import import_nni_class

    import_nni_class(CLASSES["GP"])
    import_nni_class(CLASSES["Metis"])


def _experiment(tmp_path: Path, tuner: str) -> Path:
    space, class_args, trials = CASES[tuner]
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "trial.py").write_text("import nni\n")
    section: dict[str, Any] = {"name": tuner}
    if class_args:
        section["classArgs"] = class_args
    config = {
        "searchSpace": space,
        "trialCommand": "python3 trial.py",
        "trialConcurrency": CONCURRENCY,
        "maxTrialNumber": trials,
        "tuner": section,
        "trainingService": {"platform": "local"},
    }
    (folder / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def _final(value: float) -> dict[str, Any]:
    # As Tune hands a trial's last row to searchers (see test_custom_adapters._final).
    return {
        "nni_type": "FINAL",
        "nni_sequence": 0,
        "nni_value_json": json.dumps(value),
        "nni_status": "SUCCEEDED",
        "done": True,
    }


def _nni2ray_run(folder: Path, trials: int, backend: str = "nni") -> list[Any]:
    """nni2ray's searcher for the experiment, driven as Tune drives it."""
    from nni2ray.experiment import load_experiment, nni_space
    from nni2ray.runtime.searchers import build_searcher
    from nni2ray.translate import translate
    from nni2ray.trials import PARAMETERS_KEY

    experiment = load_experiment(folder)
    plan = translate(experiment, algorithm_backend=backend)  # type: ignore[arg-type]
    if backend == "nni":
        assert plan.searcher.kwargs["nni_builtin"] == experiment.tuner.name  # NNI's own class
    searcher = build_searcher(plan, experiment)
    searcher.set_search_properties(plan.metric, plan.mode, {})
    proposed: list[Any] = []
    running: deque[tuple[str, Any]] = deque()
    started = 0
    while len(proposed) < trials:
        while started < trials and len(running) < CONCURRENCY:
            config = searcher.suggest(f"t{started}")
            if not isinstance(config, dict):
                break
            if PARAMETERS_KEY in config:  # NNI's class hands out NNI's parameters
                params = copy.deepcopy(config[PARAMETERS_KEY])  # as the trial process gets it
            else:  # a native searcher's latent point, as the trial process gets it
                params = nni_space.decode(plan.search_space, config)
            proposed.append(params)
            running.append((f"t{started}", params))
            started += 1
        if not running:
            break
        trial_id, params = running.popleft()  # the oldest trial finishes first
        loss = _loss(params)  # the final row carries the metric too, as the trainable's does
        searcher.on_trial_complete(trial_id, dict(_final(loss), **{plan.metric: loss}))
    return proposed


def _nni_dispatcher_run(tuner_name: str, trials: int, seed_shift: int = 0) -> list[Any]:
    """NNI's class driven as NNI 3.0's msg_dispatcher and manager drive it (``seed_shift``
    is added to a ``seed`` classArg)."""
    from nni2ray.runtime._user_algorithms import import_nni_class

    space, class_args, _ = CASES[tuner_name]
    cls = import_nni_class(CLASSES[tuner_name])
    kwargs = {} if tuner_name in NO_CLASS_ARGS else {**REGISTRY_ARGS.get(tuner_name, {})}
    kwargs.update(class_args)
    if "seed" in kwargs:
        kwargs["seed"] += seed_shift
    tuner = cls(**kwargs)
    tuner.update_search_space(space)
    waiting: deque[tuple[int, Any]] = deque()  # NewTrialJob sent, not started yet
    next_id = 0

    def send_trial(parameter_id: int, params: Any) -> None:  # st_callback
        waiting.append((parameter_id, params))

    def request(count: int) -> None:  # REQUEST_TRIAL_JOBS
        nonlocal next_id
        ids = list(range(next_id, next_id + count))
        next_id += count
        for i, params in enumerate(tuner.generate_multiple_parameters(ids, st_callback=send_trial)):
            waiting.append((ids[i], params))

    proposed: list[Any] = []
    running: deque[tuple[int, Any]] = deque()
    request(CONCURRENCY)
    while len(proposed) < trials:
        while waiting and len(running) < CONCURRENCY and len(proposed) < trials:
            parameter_id, params = waiting.popleft()
            params = copy.deepcopy(params)  # NNI's dispatcher sends it serialized
            proposed.append(params)
            running.append((parameter_id, params))
        if not running:
            break
        parameter_id, params = running.popleft()
        tuner.receive_trial_result(parameter_id, params, _loss(params), customized=False)
        tuner.trial_end(parameter_id, True)
        if not waiting:
            request(1)
    return proposed


@pytest.mark.parametrize("tuner", list(CASES))
def test_nni_backend_proposes_exactly_what_nni_dispatcher_gets(
    tuner: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    same_entropy: Any,
    scipy_shapes: None,
) -> None:
    trials = CASES[tuner][2]
    folder = _experiment(tmp_path, tuner)
    # PBT names checkpoint folders under NNI_CHECKPOINT_DIRECTORY: one root per side.
    monkeypatch.setenv("NNI_CHECKPOINT_DIRECTORY", str(tmp_path / "side"))
    same_entropy()
    ours = _nni2ray_run(folder, trials)
    (tmp_path / "side").rename(tmp_path / "ours") if (tmp_path / "side").exists() else None
    same_entropy()
    theirs = _nni_dispatcher_run(tuner, trials)
    assert len(ours) == trials
    assert ours == theirs
    if tuner in ("GridSearch", "Batch"):  # deterministic: nothing random to differ
        return
    # The comparison is not vacuous: another seed (classArg or entropy) proposes otherwise.
    same_entropy(SEED + 1)
    assert _nni_dispatcher_run(tuner, trials, seed_shift=1) != ours


#: Where nni2ray's own Anneal (``--algorithm-backend native``) proposes what NNI's does: the
#: kinds NNI's tuner and nni2ray's latent space give hyperopt in the same form.
ANNEAL_SAME_FORM = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "opt": {"_type": "choice", "_value": ["sgd", "adam", "rmsprop"]},
}


def test_native_anneal_proposes_what_nni_anneal_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, same_entropy: Any
) -> None:
    """nni2ray's Anneal stand-in (hyperopt's anneal fed the finished trials only, as NNI's
    tuner feeds it) against NNI's own: the same proposals for the same random stream."""
    monkeypatch.setitem(CASES, "Anneal", (ANNEAL_SAME_FORM, {"optimize_mode": "minimize"}, 12))
    folder = _experiment(tmp_path, "Anneal")
    same_entropy()
    ours = _nni2ray_run(folder, 12, backend="native")
    same_entropy()
    assert ours == _nni_dispatcher_run("Anneal", 12)
    same_entropy(SEED + 1)
    assert _nni_dispatcher_run("Anneal", 12) != ours
