"""Search-quality benchmark for PBT: nni2ray's PBT searcher against NNI 3.0's PBTTuner.

Both are driven in-process (no Ray, no trial processes) on toy "training" objectives with a
checkpoint: a trial loads the state saved in its ``load_checkpoint_dir`` (or starts fresh),
trains one step with its hyperparameters, saves the state under its ``save_checkpoint_dir``
and reports the loss. Exploiting a good checkpoint therefore matters, as in real PBT.

* ``sgd``: noisy SGD on a quadratic, tracked exactly by its mean ``m`` and variance ``v``
  (no sampling noise in the benchmark itself). One step = ``512 / batch`` iterations of
  ``m <- m (1 - lr)``, ``v <- v (1 - lr)^2 + lr^2 sigma^2 / batch``; loss = ``m^2 + v``.
  A large ``lr`` shrinks ``m`` fast but leaves a high noise floor, so the best schedule
  lowers ``lr`` over time, which only PBT's exploit-and-perturb can find. ``lr``
  loguniform, ``batch`` choice.
* ``sgd_q``: the same dynamics over ``lr`` uniform, ``batch`` randint (x16) and a
  ``decay`` quniform that multiplies ``lr`` at every iteration.
* ``branin``: no state at all (the loss depends only on the parameters): PBT as a local
  search around the best members.

The loss has no reachable optimum for the two SGD toys, so "regret" is the best loss itself
(0 is a lower bound); Branin's regret is the loss minus its optimum. Each run is
``--generations`` generations of ``--population`` members with NNI's default factor (0.2),
resample_probability (0.25) and fraction (0.2). Prints, per objective and side, the
median [quartiles] of the best loss after each third of the run, and the ratio of
nni2ray's median regret at the end to NNI's (below 1: nni2ray's is better). ``no-PBT`` is a
baseline: the same random first generation trained on without exploit or explore.

NNI's PBTTuner draws from unseeded generators (``np.random.RandomState()``); the seed is
given to Python's and numpy's global generators, so its runs differ between invocations.

    PYTHONPATH=$PWD /work/main/.venv/bin/python benchmarks/search_quality_pbt.py --seeds 500
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SIGMA2 = 4.0
START = (10.0, 0.0)  # (m, v) of a fresh model
ITERATIONS = 512

SGD_SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-4, 1.0]},
    "batch": {"_type": "choice", "_value": [8, 16, 32, 64, 128, 256]},
}
SGDQ_SPACE = {
    "lr": {"_type": "uniform", "_value": [0.0001, 0.5]},
    "batch": {"_type": "randint", "_value": [1, 17]},
    "decay": {"_type": "quniform", "_value": [0.99, 1.0, 0.001]},
}
BRANIN_SPACE = {
    "x1": {"_type": "uniform", "_value": [-5, 10]},
    "x2": {"_type": "uniform", "_value": [0, 15]},
}
BRANIN_OPTIMUM = 0.397887


def _sgd_step(state: tuple[float, float], lr: float, batch: float, decay: float = 1.0) -> Any:
    m, v = state
    for _ in range(int(ITERATIONS / batch)):
        m *= 1 - lr
        v = v * (1 - lr) ** 2 + lr * lr * SIGMA2 / batch
        lr *= decay
    return (m, v), m * m + v


def sgd(params: dict[str, Any], state: Any) -> Any:
    return _sgd_step(state or START, float(params["lr"]), float(params["batch"]))


def sgd_q(params: dict[str, Any], state: Any) -> Any:
    batch = 16 * int(params["batch"])
    return _sgd_step(state or START, float(params["lr"]), batch, float(params["decay"]))


def branin(params: dict[str, Any], state: Any) -> Any:
    x1, x2 = float(params["x1"]), float(params["x2"])
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    loss = (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10
    return None, loss


#: name -> (search space, trial step, optimum).
OBJECTIVES: dict[str, tuple[dict[str, Any], Callable[..., Any], float]] = {
    "sgd": (SGD_SPACE, sgd, 0.0),
    "sgd_q": (SGDQ_SPACE, sgd_q, 0.0),
    "branin": (BRANIN_SPACE, branin, BRANIN_OPTIMUM),
}
CLASS_ARGS = {"factor": 0.2, "resample_probability": 0.25, "fraction": 0.2}


def _trial(step: Callable[..., Any], states: dict[str, Any], params: dict[str, Any]) -> float:
    """One PBT trial: load, train one step, save, report the loss."""
    state = states.get(params["load_checkpoint_dir"])
    saved, loss = step(params, state)
    states[params["save_checkpoint_dir"]] = saved
    return float(loss)


def native_run(objective: str, seed: int, population: int, generations: int) -> list[float]:
    """Best-so-far regret after each generation under nni2ray's PBT rules."""
    from nni2ray.experiment import parse_search_space
    from nni2ray.runtime.searchers import PbtPopulation

    space, step, optimum = OBJECTIVES[objective]
    pbt = PbtPopulation(
        parse_search_space(space, file=None),
        "/pbt",
        population_size=population,
        maximize=False,
        seed=seed,
        **CLASS_ARGS,
    )
    states: dict[str, Any] = {}
    best, curve = math.inf, []
    for _ in range(generations):
        handed = []
        while (item := pbt.next()) is not None:
            handed.append(item)
        for token, params in handed:
            loss = _trial(step, states, params)
            best = min(best, loss)
            pbt.ended(token, loss)
        curve.append(best - optimum)
    return curve


def fixed_run(objective: str, seed: int, population: int, generations: int) -> list[float]:
    """Baseline without PBT: the same random first generation, each member trained on with
    its own hyperparameters (no exploit, no explore)."""
    import random

    from nni2ray.experiment import parse_search_space
    from nni2ray.experiment.sampling import sample

    space, step, optimum = OBJECTIVES[objective]
    rng = random.Random(seed)
    members = [sample(parse_search_space(space, file=None), rng) for _ in range(population)]
    states: list[Any] = [None] * population
    best, curve = math.inf, []
    for _ in range(generations):
        for index, params in enumerate(members):
            states[index], loss = step(params, states[index])
            best = min(best, float(loss))
        curve.append(best - optimum)
    return curve


def nni_run(objective: str, seed: int, population: int, generations: int) -> list[float]:
    """The same under NNI 3.0's PBTTuner (its generate/receive protocol, in order)."""
    import random

    import numpy as np
    from nni.algorithms.hpo.pbt_tuner import PBTTuner

    random.seed(seed)
    np.random.seed(seed)
    space, step, optimum = OBJECTIVES[objective]
    with tempfile.TemporaryDirectory() as folder:
        tuner = PBTTuner(
            optimize_mode="minimize",
            all_checkpoint_dir=folder,
            population_size=population,
            **CLASS_ARGS,
        )
        tuner.update_search_space(space)
        states: dict[str, Any] = {}
        best, curve, next_id = math.inf, [], 0
        for _ in range(generations):
            ids = list(range(next_id, next_id + population))
            next_id += population
            handed = tuner.generate_multiple_parameters(ids, st_callback=lambda *a, **k: None)
            for parameter_id, params in zip(ids, handed, strict=True):
                loss = _trial(step, states, params)
                best = min(best, loss)
                tuner.receive_trial_result(parameter_id, params, loss)
            curve.append(best - optimum)
    return curve


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], statistics.median(values), q[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=500)
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--generations", type=int, default=6)
    parser.add_argument("--objectives", nargs="*", default=list(OBJECTIVES))
    args = parser.parse_args(argv)
    try:
        import nni  # noqa: F401
    except ImportError:
        print("NNI is not importable here: only nni2ray's side runs", file=sys.stderr)
        sides = ["nni2ray", "no-PBT"]
    else:
        sides = ["nni2ray", "NNI", "no-PBT"]
    runs = {"nni2ray": native_run, "NNI": nni_run, "no-PBT": fixed_run}
    marks = sorted({max(1, args.generations * k // 3) for k in (1, 2, 3)})
    trials = args.population * args.generations
    print(
        f"PBT: {args.seeds} seeds, population {args.population}, {args.generations} "
        f"generations ({trials} trials), factor 0.2, resample_probability 0.25, fraction 0.2"
    )
    print(
        "median [q1, q3] of the best-so-far regret after generation " + ", ".join(map(str, marks))
    )
    for objective in args.objectives:
        finals: dict[str, float] = {}
        for side in sides:
            curves = [
                runs[side](objective, seed, args.population, args.generations)
                for seed in range(args.seeds)
            ]
            cells = []
            for mark in marks:
                q1, med, q3 = _quartiles([c[mark - 1] for c in curves])
                cells.append(f"{med:.4g} [{q1:.4g}, {q3:.4g}]")
            finals[side] = statistics.median(c[-1] for c in curves)
            print(f"{objective:8} {side:8} " + " | ".join(cells))
        if "NNI" in finals and finals["NNI"] > 0:
            ratio = finals["nni2ray"] / finals["NNI"]
            print(f"{objective:8} ratio of median regret at the end (nni2ray / NNI): {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
