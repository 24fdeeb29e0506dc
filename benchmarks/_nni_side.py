"""The ``--nni-python`` side of search_quality.py: NNI 3.0's own tuner classes, driven with
NNI's call sequence (update_search_space, generate_parameters, receive_trial_result,
trial_end). Run with a Python that has ``nni``: ``python _nni_side.py`` reads one job per
line on stdin (``{"job": [tuner, objective, seed, trials, pending], "args": {...},
"timeout": seconds}``) and answers one line per job on stdout (``{"curve": [...]}`` or
``{"error": "..."}``); NNI's own logging goes to stderr."""

from __future__ import annotations

import importlib
import json
import os
import random
import sys
import time
import traceback
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
    "GridSearch": ("nni.algorithms.hpo.gridsearch_tuner", "GridSearchTuner", {}),
    "GP": ("nni.algorithms.hpo.gp_tuner", "GPTuner", {}),
    "Metis": ("nni.algorithms.hpo.metis_tuner", "MetisTuner", {}),
    "SMAC": ("nni.algorithms.hpo.smac_tuner", "SMACTuner", {}),
    "DNGO": ("nni.algorithms.hpo.dngo_tuner", "DNGOTuner", {}),
    "Random": ("nni.algorithms.hpo.random_tuner", "RandomTuner", {}),
}
_SEEDED = {"TPE", "Random"}  # tuners whose constructor takes ``seed``
_NO_ARGS = {"GridSearch"}  # NNI constructs these without classArgs
_CANNOT_IMPORT: dict[str, str] = {}


def _scipy_compat() -> None:
    """NNI 3.0's GPTuner and MetisTuner call ``scipy.optimize.minimize`` with a 2-D ``x0``
    and read ``res.fun[0]``: SciPy >= 1.11 refuses the 2-D x0 and SciPy >= 1.9 returns a
    float ``fun`` (1.9.3, 1.10.1, 1.11.4 measured; older SciPy has no wheel for Python
    3.11). This wrapper gives NNI's code the SciPy it was written for: x0 flattened, and
    ``fun`` a 1-element array where x0 was 2-D. The algorithm itself is unchanged."""
    import numpy as np
    import scipy.optimize

    real = scipy.optimize.minimize

    def minimize(fun: Any, x0: Any, *args: Any, **kwargs: Any) -> Any:
        two_d = np.ndim(x0) > 1
        res = real(fun, np.ravel(x0), *args, **kwargs)
        if two_d:
            res.fun = np.atleast_1d(res.fun)
        return res

    for module in (
        "nni.algorithms.hpo.gp_tuner.util",
        "nni.algorithms.hpo.metis_tuner.lib_acquisition_function",
    ):
        importlib.import_module(module).minimize = minimize


def _tuner(name: str, seed: int, class_args: dict[str, Any]) -> Any:
    import numpy

    random.seed(seed)
    numpy.random.seed(seed)  # the unseeded tuners draw from numpy's global generator
    module, cls, extra = CLASSES[name]
    kwargs = {} if name in _NO_ARGS else {"optimize_mode": "minimize", **extra, **class_args}
    if name in _SEEDED:
        kwargs["seed"] = seed
    if name in ("GP", "Metis"):
        _scipy_compat()
    return getattr(importlib.import_module(module), cls)(**kwargs)


def curve(
    name: str, objective: str, seed: int, trials: int, pending: int, args: Any, timeout: float
) -> list[float]:
    space, loss_fn, _ = OBJECTIVES[objective]
    best = optimum(objective)
    tuner = _tuner(name, seed, args)
    tuner.update_search_space(space)
    if name == "Anneal":
        # NNI's HyperoptTuner draws each proposal's hyperopt seed from a RandomState() it
        # makes without a seed (classArgs take none): given the seed here, it draws the
        # same stream as nni2ray's Anneal, which takes classArgs.seed.
        import numpy

        tuner.rval.rstate = numpy.random.RandomState(seed)
    running: list[tuple[int, Any]] = []
    result: list[float] = []
    incumbent = float("inf")
    next_id = 0
    started = time.monotonic()
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
        tuner.trial_end(pid, True)
        incumbent = min(incumbent, loss)
        result.append(incumbent - best)
        if time.monotonic() - started > timeout and len(result) < trials:
            return result  # cut short: the table uses it where it reaches a checkpoint
    return result + [result[-1]] * (trials - len(result))


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    name, objective, seed, trials, pending = request["job"]
    if name in _CANNOT_IMPORT:
        return {"error": _CANNOT_IMPORT[name]}
    try:
        importlib.import_module(CLASSES[name][0])
    except Exception as exc:  # a package NNI's class needs is missing
        _CANNOT_IMPORT[name] = f"NNI's class not runnable: {type(exc).__name__}: {exc}"
        return {"error": _CANNOT_IMPORT[name]}
    try:
        args = request.get("args") or {}
        timeout = float(request.get("timeout") or 1e9)
        return {"curve": curve(name, objective, seed, trials, pending, args, timeout)}
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        return {"error": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # NNI's loggers print on stdout: send them to stderr
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if line.strip():
            answers.write(json.dumps(_answer(json.loads(line))) + "\n")
            answers.flush()


if __name__ == "__main__":
    main()
