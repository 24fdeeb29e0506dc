"""Search-quality benchmark for BOHB: where the bracket schedule's new configurations come from.

Drives nni2ray's BOHB searcher (:class:`BracketSearch`, NNI's exact bracket schedule)
in-process on multi-fidelity objectives, one trial at a time (suggest, evaluate at the
trial's ``TRIAL_BUDGET``, report the final result, complete), with three config sources:

* ``native``: nni2ray's BOHB model (NNI's rules on statsmodels' KDEMultivariate, every
  budget in one model as NNI 3.0 feeds CG_BOHB);
* ``random``: NNI's random formulas inside the same schedule (nni2ray before this model);
* ``nni``: NNI 3.0's own CG_BOHB (needs nni, ConfigSpace and statsmodels in this Python);
* ``per-budget`` (on request): nni2ray's model with one model per TRIAL_BUDGET, proposing
  from the largest budget that has one (the BOHB paper's and HpBandSter's rule).

Objectives: Branin (2-D) and Hartmann6 (6-D); a trial at budget ``b`` sees the true value
plus Gaussian noise whose standard deviation shrinks as ``1/b`` (``--noise`` scales it).
``svc`` (on request): scikit-learn's SVC on the digits data (C, gamma, kernel), trained on
``100 * b`` images, loss = error on 600 held-out images (optimum taken as 0).
The incumbent after ``t`` trials is the best true value among configurations run at the
largest budget so far (what a user would trust); regret = incumbent - optimum. Prints per
objective and source the median [quartiles] of the regret at the end of each Hyperband
iteration, and the ratio of each source's median regret at the last trial to random's.

    PYTHONPATH=$PWD python benchmarks/search_quality_bohb.py --seeds 10 --iterations 6
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _objectives import BRANIN_SPACE, HARTMANN_SPACE, branin, hartmann6  # noqa: E402

OBJECTIVES: dict[str, tuple[dict[str, Any], Any, float, float]] = {
    # name: (space, true function, optimum, noise sd at budget 1)
    "branin": (BRANIN_SPACE, branin, 0.397887, 20.0),
    "hartmann6": (HARTMANN_SPACE, hartmann6, -3.32237, 0.6),
}
SOURCES = ("native", "random", "nni", "per-budget")
SVC_SPACE = {
    "C": {"_type": "loguniform", "_value": [1e-2, 1e3]},
    "gamma": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "kernel": {"_type": "choice", "_value": ["rbf", "sigmoid"]},
}
_DIGITS: list[Any] = []


def svc_error(params: dict[str, Any], budget: int) -> float:
    """Held-out error of an SVC trained on ``100 * budget`` digits images."""
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    if not _DIGITS:
        x, y = load_digits(return_X_y=True)
        _DIGITS.extend([x[:900], y[:900], x[-600:], y[-600:]])
    x_train, y_train, x_test, y_test = _DIGITS
    n = 100 * budget
    model = SVC(C=params["C"], gamma=params["gamma"], kernel=params["kernel"])
    model.fit(x_train[:n], y_train[:n])
    return float(1.0 - model.score(x_test, y_test))


OBJECTIVES["svc"] = (SVC_SPACE, None, 0.0, 0.0)
MAX_BUDGET, ETA, MIN_BUDGET = 9, 3, 1


def _trials_per_iteration() -> int:
    from nni2ray.translate.tuners import schedule

    return sum(n for rounds in schedule(MAX_BUDGET, ETA, MIN_BUDGET).values() for n, _ in rounds)


def _source(name: str, space: dict[str, Any], parsed: Any, seed: int) -> Any:
    from nni2ray.runtime.searchers._bohb_model import (
        BohbArgs,
        KdeModel,
        NniBohbModel,
        RandomSource,
    )

    if name == "native":
        return KdeModel(space, BohbArgs(), seed)
    if name == "nni":
        return NniBohbModel(space, BohbArgs(), seed)
    if name == "per-budget":
        return KdeModel(space, BohbArgs(), seed, per_budget=True)
    return RandomSource(parsed, seed)


def one_search(objective: str, source: str, seed: int, trials: int, noise: float) -> list[float]:
    """Regret of the incumbent after each trial (inf before any max-budget trial)."""
    from nni2ray.experiment import parse_search_space
    from nni2ray.runtime.searchers._hyperband import BracketSearch
    from nni2ray.trials import FINAL, PARAMETERS_KEY, ResultKey

    space, func, best, sd = OBJECTIVES[objective]
    parsed = parse_search_space(space, file=None)
    search = BracketSearch(
        parsed,
        max_budget=MAX_BUDGET,
        min_budget=MIN_BUDGET,
        eta=ETA,
        maximize=False,
        serial=True,
        seed=seed,
        id_style="bohb",
        source=_source(source, space, parsed, seed),
    )
    noise_rng = random.Random(seed * 7919 + 17)  # the same noise stream for every source
    incumbent, regrets = math.inf, []
    for n in range(trials):
        trial = f"t{n}"
        config = search.suggest(trial)
        if config is None:
            raise AssertionError("a serial schedule run one trial at a time never waits")
        params = dict(config[PARAMETERS_KEY])
        budget = params.pop("TRIAL_BUDGET")
        if func is None:  # svc: the error at the trial's budget; at the max budget, the truth
            true = seen = svc_error(params, budget)
        else:
            true = func(params)
            seen = true + noise * sd / budget * noise_rng.gauss(0, 1)
        result = {ResultKey.TYPE: FINAL, ResultKey.VALUE_JSON: repr(seen), "training_iteration": 1}
        search.on_trial_result(trial, result)
        search.on_trial_complete(trial, result)
        if budget == MAX_BUDGET:
            incumbent = min(incumbent, true)
        regrets.append(incumbent - best)
    return regrets


def _job(args: tuple[str, str, int, int, float]) -> tuple[str, str, int, list[float]]:
    objective, source, seed, trials, noise = args
    return objective, source, seed, one_search(objective, source, seed, trials, noise)


def _fmt(values: list[float]) -> str:
    if any(math.isinf(v) for v in values):
        finite = [v for v in values if not math.isinf(v)]
        if len(finite) < len(values) / 2:
            return "-"
    if len(values) < 2:
        return f"{values[0]:.3g}"
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return f"{med:.3g} [{q1:.3g}, {q3:.3g}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=6, help="Hyperband iterations")
    parser.add_argument("--objectives", default="branin,hartmann6")
    parser.add_argument("--sources", default="native,random,nni")
    parser.add_argument("--noise", type=float, default=1.0, help="scales the noise")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    per_iteration = _trials_per_iteration()
    trials = per_iteration * args.iterations
    objectives = args.objectives.split(",")
    sources = [s for s in args.sources.split(",") if s]
    if "nni" in sources:
        try:
            import ConfigSpace  # noqa: F401
            import nni  # noqa: F401
        except ImportError as exc:
            print(f"# nni side skipped: {exc.name} is not installed", file=sys.stderr)
            sources.remove("nni")
    jobs = [
        (o, s, seed, trials, args.noise)
        for o in objectives
        for s in sources
        for seed in range(args.seeds)
    ]
    start = time.monotonic()
    results: dict[tuple[str, str], list[list[float]]] = {}
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for objective, source, _, regrets in pool.map(_job, jobs):
            results.setdefault((objective, source), []).append(regrets)
    elapsed = time.monotonic() - start
    marks = [per_iteration * i for i in range(1, args.iterations + 1)]
    print(
        f"# BOHB max_budget={MAX_BUDGET} eta={ETA} min_budget={MIN_BUDGET}: "
        f"{per_iteration} trials per iteration; {args.seeds} seeds, {trials} trials, "
        f"noise x{args.noise}; {len(jobs)} searches in {elapsed:.0f} s"
    )
    header = "| objective | source | " + " | ".join(f"regret@{m}" for m in marks)
    print(header + " | ratio to random |")
    print("|" + "---|" * (len(marks) + 3))
    for objective in objectives:
        base = results.get((objective, "random"))
        base_median = statistics.median(r[-1] for r in base) if base else None
        for source in sources:
            runs = results[(objective, source)]
            cells = [_fmt([r[m - 1] for r in runs]) for m in marks]
            median = statistics.median(r[-1] for r in runs)
            ratio = f"{median / base_median:.2f}" if base_median else ""
            print(f"| {objective} | {source} | " + " | ".join(cells) + f" | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
