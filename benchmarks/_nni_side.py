"""The ``--nni-python`` side of search_quality.py: NNI 3.0's own tuner classes, driven with
NNI's call sequence (update_search_space, generate_parameters, receive_trial_result,
trial_end). Run with a Python that has ``nni``: ``python _nni_side.py JOBS.json OUT.json``
writes ``[[key, curve], ...]`` to OUT.json (NNI logs on stdout)."""

from __future__ import annotations

import importlib
import json
import random
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _objectives import OBJECTIVES, optimum  # noqa: E402

#: NNI tuner name -> (module, class, extra constructor arguments); from NNI 3.0's
#: nni/runtime/default_config/registered_algorithms.yml.
CLASSES = {
    "TPE": ("nni.algorithms.hpo.tpe_tuner", "TpeTuner", {}),
    "Anneal": ("nni.algorithms.hpo.hyperopt_tuner", "HyperoptTuner", {"algorithm_name": "anneal"}),
    "Evolution": ("nni.algorithms.hpo.evolution_tuner", "EvolutionTuner", {}),
    "GP": ("nni.algorithms.hpo.gp_tuner", "GPTuner", {}),
    "Metis": ("nni.algorithms.hpo.metis_tuner", "MetisTuner", {}),
    "SMAC": ("nni.algorithms.hpo.smac_tuner", "SMACTuner", {}),
    "DNGO": ("nni.algorithms.hpo.dngo_tuner", "DNGOTuner", {}),
    "Random": ("nni.algorithms.hpo.random_tuner", "RandomTuner", {}),
}
_SEEDED = {"TPE", "Random"}  # tuners whose constructor takes ``seed``


def _tuner(name: str, seed: int, class_args: dict[str, Any]) -> Any:
    import numpy

    random.seed(seed)
    numpy.random.seed(seed)  # the unseeded tuners draw from numpy's global generator
    module, cls, extra = CLASSES[name]
    kwargs = {"optimize_mode": "minimize", **extra, **class_args}
    if name in _SEEDED:
        kwargs["seed"] = seed
    return getattr(importlib.import_module(module), cls)(**kwargs)


def curve(name: str, objective: str, seed: int, trials: int, pending: int, args: Any) -> Any:
    from nni.common.hpo_utils import validate_search_space  # noqa: F401 (nni is importable)

    space, loss_fn, _ = OBJECTIVES[objective]
    best = optimum(objective)
    tuner = _tuner(name, seed, args)
    tuner.update_search_space(space)
    running: list[tuple[int, Any]] = []
    result: list[float] = []
    incumbent = float("inf")
    next_id = 0
    while len(result) < trials:
        while next_id < trials and len(running) < pending:
            try:
                params = tuner.generate_parameters(next_id)
            except Exception as exc:
                if type(exc).__name__ != "NoMoreTrialError" or not running:
                    raise
                break
            running.append((next_id, params))
            next_id += 1
        if not running:
            break
        pid, params = running.pop(0)
        loss = loss_fn(params)
        try:
            tuner.receive_trial_result(pid, params, loss)
        except Exception:  # NNI's TPE may raise here; NNI's dispatcher logs it and goes on
            traceback.print_exc(file=sys.stderr)
        if hasattr(tuner, "trial_end"):
            tuner.trial_end(pid, True)
        incumbent = min(incumbent, loss)
        result.append(incumbent - best)
    return result + [result[-1]] * (trials - len(result))


def _job(job: tuple[Any, ...]) -> tuple[list[Any], Any]:
    name, objective, seed, trials, pending, args = job
    key = [name, objective, seed, pending]
    try:
        return key, curve(name, objective, seed, trials, pending, args)
    except Exception as exc:
        return key, f"{type(exc).__name__}: {exc}"


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    jobs = [(*job, spec["tuners"].get(job[0], {})) for job in spec["jobs"]]
    with ProcessPoolExecutor(spec.get("workers", 2)) as pool:
        out = list(pool.map(_job, jobs))
    Path(sys.argv[2]).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
