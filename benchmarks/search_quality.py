"""Search-quality benchmark: nni2ray's stand-in for each NNI tuner against NNI's own class.

Drives searchers in-process on cheap objectives (no Ray trials, no processes): ask for a
configuration, evaluate it, report it, as the driver would, with 1 (sequential) or N trials
pending at a time (the oldest pending trial finishes first). Prints, per tuner and objective,
the median [quartiles] of the best-so-far regret after 15, 30 and 60 trials, and with
``--nni-python`` (a Python with ``nni`` 3.0 installed) the same for NNI's own tuner class and
the ratio of nni2ray's median regret at the last trial to NNI's.

    PYTHONPATH=$PWD python benchmarks/search_quality.py --seeds 20 --trials 60 \
        --nni-python /work/nni-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _objectives import OBJECTIVES, optimum  # noqa: E402

#: NNI tuner name -> classArgs given to both sides (besides optimize_mode and seed).
TUNERS: dict[str, dict[str, Any]] = {
    "TPE": {},
    "Anneal": {},
    "Evolution": {"population_size": 10},
    "GP": {},
    "Metis": {},
    "SMAC": {},
    "DNGO": {},
    "Random": {},
}
#: Targets of issue 13: the stand-in's median regret at the last trial is no worse than NNI's.
TARGETS = {"TPE", "Anneal", "Evolution", "GP"}
CHECKPOINTS = (15, 30, 60)


def native_curve(tuner: str, objective: str, seed: int, trials: int, pending: int) -> list[float]:
    """Best-so-far regret after each trial for nni2ray's stand-in."""
    import yaml

    from nni2ray.experiment import load_experiment
    from nni2ray.runtime.searchers import build_searcher
    from nni2ray.translate import nni_space, translate

    space, loss_fn, _ = OBJECTIVES[objective]
    best_possible = optimum(objective)
    with tempfile.TemporaryDirectory() as folder:
        config = {
            "searchSpace": space,
            "trialCommand": "python3 trial.py",
            "trialConcurrency": pending,
            "maxTrialNumber": trials,
            "tuner": {
                "name": tuner,
                "classArgs": {"optimize_mode": "minimize", "seed": seed, **TUNERS[tuner]},
            },
            "trainingService": {"platform": "local"},
        }
        Path(folder, "trial.py").write_text("import nni\n")
        Path(folder, "config.yml").write_text(yaml.safe_dump(config))
        experiment = load_experiment(folder)
        plan = translate(experiment)
        searcher = build_searcher(plan, experiment)
    searcher.set_search_properties(plan.metric, plan.mode, {})
    return _drive(searcher, space, loss_fn, best_possible, trials, pending, nni_space.decode)


def _drive(
    searcher: Any, space: Any, loss_fn: Any, best: float, trials: int, pending: int, decode: Any
) -> list[float]:
    curve: list[float] = []
    running: list[tuple[str, dict[str, Any]]] = []
    incumbent = float("inf")
    started = 0
    while len(curve) < trials:
        while started < trials and len(running) < pending:
            config = searcher.suggest(f"t{started}")
            if not isinstance(config, dict):
                break
            running.append((f"t{started}", decode(space, config)))
            started += 1
        if not running:
            break
        trial_id, params = running.pop(0)
        loss = loss_fn(params)
        searcher.on_trial_complete(trial_id, {"default": loss, "nni_type": "FINAL"})
        incumbent = min(incumbent, loss)
        curve.append(incumbent - best)
    return curve + [curve[-1]] * (trials - len(curve))


def _native_job(job: tuple[str, str, int, int, int]) -> tuple[tuple[str, str, int, int], Any]:
    tuner, objective, seed, trials, pending = job
    try:
        return (tuner, objective, seed, pending), native_curve(*job)
    except Exception as exc:  # shown in the table as an error, the rest goes on
        return (tuner, objective, seed, pending), f"{type(exc).__name__}: {exc}"


def _nni_curves(python: str, jobs: list[tuple[str, str, int, int, int]], workers: int) -> Any:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"jobs": jobs, "tuners": TUNERS, "workers": workers}, handle)
    out = handle.name + ".out"
    proc = subprocess.run(
        [python, str(HERE / "_nni_side.py"), handle.name, out], capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"search_quality: the --nni-python side failed:\n{proc.stderr[-3000:]}")
    return {tuple(key): value for key, value in json.loads(Path(out).read_text())}


def _summary(curves: list[Any], at: int) -> str:
    values = [c[at - 1] for c in curves if isinstance(c, list) and len(c) >= at]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3g}"
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return f"{med:.3g} [{q1:.3g}, {q3:.3g}]"


def _median(curves: list[Any], at: int) -> float | None:
    values = [c[at - 1] for c in curves if isinstance(c, list) and len(c) >= at]
    return statistics.median(values) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--pending", default="1,4", help="trials pending at a time, e.g. 1,4")
    parser.add_argument("--tuners", default=",".join(TUNERS))
    parser.add_argument("--objectives", default=",".join(OBJECTIVES))
    parser.add_argument("--nni-python", help="a Python with nni 3.0: also run NNI's own tuners")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="write every curve to this file")
    args = parser.parse_args(argv)
    tuners, objectives = args.tuners.split(","), args.objectives.split(",")
    pendings = [int(p) for p in args.pending.split(",")]
    for objective in objectives:
        optimum(objective)  # builds the SVC table once, before the workers start
    jobs = [
        (t, o, s, args.trials, p)
        for t in tuners
        for o in objectives
        for s in range(args.seeds)
        for p in pendings
    ]
    started = time.monotonic()
    with ProcessPoolExecutor(args.workers) as pool:
        native = dict(pool.map(_native_job, jobs))
    nni = _nni_curves(args.nni_python, jobs, args.workers) if args.nni_python else {}
    elapsed = time.monotonic() - started
    marks = [m for m in CHECKPOINTS if m <= args.trials] or [args.trials]
    head = ["tuner", "objective", "pending", "side"] + [f"regret@{m}" for m in marks]
    print("| " + " | ".join(head + ["ratio", "target"]) + " |")
    print("|" + "---|" * (len(head) + 2))
    for tuner in tuners:
        for objective in objectives:
            for pending in pendings:
                keys = [(tuner, objective, s, pending) for s in range(args.seeds)]
                sides = [("nni2ray", [native[k] for k in keys])]
                if nni:
                    sides.append(("NNI 3.0", [nni.get(k) for k in keys]))
                for side, curves in sides:
                    errors = [c for c in curves if isinstance(c, str)]
                    cells = [_summary(curves, m) for m in marks]
                    ratio = target = ""
                    if side == "nni2ray" and nni:
                        ours = _median(curves, args.trials)
                        theirs = _median([nni.get(k) for k in keys], args.trials)
                        if ours is not None and theirs is not None:
                            ratio = (
                                f"{ours / theirs:.2f}"
                                if theirs > 0
                                else ("1.00" if ours == 0 else "inf")
                            )
                            if tuner in TARGETS:
                                better = tuner == "TPE" and pending > 1
                                ok = ours < theirs if better else ours <= theirs
                                target = "PASS" if ok else "MISS"
                    if errors:
                        cells[-1] += f" ({len(errors)} errors: {errors[0][:60]})"
                    row = [tuner, objective, str(pending), side, *cells, ratio, target]
                    print("| " + " | ".join(row) + " |")
    print(f"\n{len(jobs)} searches per side, {elapsed:.0f} s")
    if args.json:
        dump = {"nni2ray": [[list(k), v] for k, v in native.items()]}
        dump["nni"] = [[list(k), v] for k, v in nni.items()]
        Path(args.json).write_text(json.dumps(dump))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
