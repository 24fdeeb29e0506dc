"""Search-quality benchmark: nni2ray's stand-in for each NNI tuner against NNI's own class.

Drives searchers in-process on cheap objectives (no Ray trials, no processes): ask for a
configuration, evaluate it, report it, as the driver would, with 1 (sequential) or N trials
pending at a time (the oldest pending trial finishes first). Prints, per tuner and objective,
the median [quartiles] of the best-so-far regret after 15, 30 and 60 trials, and with
``--nni-python`` (a Python with ``nni`` 3.0 installed) the same for NNI's own tuner class and
the ratio of nni2ray's median regret at the last trial to NNI's.

One search at a time, no worker pool (the machine is shared). Searches are run seed by seed
(every tuner, objective and pending count for seed 0, then seed 1, ...), so a run cut short by
``--budget`` still covers every cell, with fewer seeds (the table says how many). ``--cache``
keeps every finished search: a second run with the same file only runs what is missing, and
``--budget 0`` prints the table from the file.

    PYTHONPATH=$PWD python benchmarks/search_quality.py --seeds 20 --trials 60 \
        --nni-python /work/nni-venv/bin/python --cache sq.jsonl --json quality.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
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
    "Random": {},
    "GridSearch": {},
    "SMAC": {},
    "GP": {},
    "Metis": {},
    "DNGO": {},
}
#: classArgs given to NNI's class only, to keep its cost within the benchmark's time (named
#: in the printed table): NNI's GPTuner restarts L-BFGS-B from 250 points per proposal
#: (~30 s per proposal on the shared 2-core machine); 20 restarts keep the same model.
NNI_ONLY_ARGS: dict[str, dict[str, Any]] = {
    "GP": {"selection_num_starting_points": 20},
}
#: NNI constructs these without classArgs (no optimize_mode, no seed).
NO_CLASS_ARGS = {"GridSearch"}
#: NNI names not in this benchmark, and why (shown under the table).
ELSEWHERE: dict[str, str] = {
    "Batch": "runs the user's own list of configurations in order (no search to measure); "
    "exact in both backends",
    "Hyperband": "benchmarked by its own script (budgets, not plain suggest/report)",
    "BOHB": "benchmarked by its own script (budgets, not plain suggest/report)",
    "PBT": "benchmarked by its own script (generations and checkpoints)",
}
#: Targets of issue 13: the stand-in's median regret at the last trial is no worse than NNI's.
TARGETS = {"TPE", "Anneal", "Evolution", "GP"}
CHECKPOINTS = (15, 30, 60)

Key = tuple[str, str, int, int]  # tuner, objective, seed, pending


def _class_args(tuner: str, seed: int) -> dict[str, Any]:
    if tuner in NO_CLASS_ARGS:
        return {}
    return {"optimize_mode": "minimize", "seed": seed, **TUNERS[tuner]}


def native_searcher(tuner: str, objective: str, seed: int, trials: int, pending: int) -> Any:
    """nni2ray's stand-in, built as ``nni2ray run --algorithm-backend native`` builds it,
    and the signature of its call (what it runs, with which arguments)."""
    import yaml

    from nni2ray.experiment import load_experiment
    from nni2ray.runtime.searchers import build_searcher
    from nni2ray.translate import translate

    space = OBJECTIVES[objective][0]
    with tempfile.TemporaryDirectory() as folder:
        tuner_section: dict[str, Any] = {"name": tuner}
        if tuner not in NO_CLASS_ARGS:
            tuner_section["classArgs"] = _class_args(tuner, seed)
        config = {
            "searchSpace": space,
            "trialCommand": "python3 trial.py",
            "trialConcurrency": pending,
            "maxTrialNumber": trials,
            "tuner": tuner_section,
            "trainingService": {"platform": "local"},
        }
        Path(folder, "trial.py").write_text("import nni\n")
        Path(folder, "config.yml").write_text(yaml.safe_dump(config))
        experiment = load_experiment(folder)
        plan = translate(experiment, algorithm_backend="native")
        call = plan.searcher
        signature = json.dumps([str(call.kind), call.kwargs], sort_keys=True, default=str)
        searcher = build_searcher(plan, experiment)
    searcher.set_search_properties(plan.metric, plan.mode, {})
    return searcher, signature


def _drive(searcher: Any, objective: str, trials: int, pending: int, timeout: float) -> list[float]:
    from nni2ray.translate import nni_space

    space, loss_fn, _ = OBJECTIVES[objective]
    best = optimum(objective)
    curve: list[float] = []
    running: list[tuple[str, dict[str, Any]]] = []
    incumbent = float("inf")
    started = 0
    clock = time.monotonic()
    while len(curve) < trials:
        while started < trials and len(running) < pending:
            config = searcher.suggest(f"t{started}")
            if not isinstance(config, dict):
                break
            running.append((f"t{started}", nni_space.decode(space, config)))
            started += 1
        if not running:
            break
        trial_id, params = running.pop(0)
        loss = loss_fn(params)
        searcher.on_trial_complete(trial_id, {"default": loss, "nni_type": "FINAL"})
        incumbent = min(incumbent, loss)
        curve.append(incumbent - best)
        if time.monotonic() - clock > timeout and len(curve) < trials:
            return curve  # cut short: the table uses it where it reaches a checkpoint
    return curve + [curve[-1]] * (trials - len(curve))


class NativeSide:
    """nni2ray's stand-ins; tuners whose stand-in is the same call (GP, Metis and DNGO
    share Optuna's GPSampler, SMAC shares TPE's) run once per seed and share the curve."""

    def __init__(self, trials: int, timeout: float) -> None:
        self.trials, self.timeout = trials, timeout
        self.by_signature: dict[tuple[str, str, int, int], Any] = {}

    def run(self, key: Key) -> tuple[Any, str]:
        tuner, objective, seed, pending = key
        try:
            searcher, signature = native_searcher(tuner, objective, seed, self.trials, pending)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}", ""
        shared = (signature, objective, seed, pending)
        if shared not in self.by_signature:
            try:
                self.by_signature[shared] = _drive(
                    searcher, objective, self.trials, pending, self.timeout
                )
            except Exception as exc:  # shown in the table as an error, the rest goes on
                self.by_signature[shared] = f"{type(exc).__name__}: {exc}"
        return self.by_signature[shared], signature


class NniSide:
    """NNI 3.0's own classes in ``--nni-python``, one search per request (_nni_side.py)."""

    def __init__(self, python: str, trials: int, timeout: float, log: Path) -> None:
        self.trials, self.timeout = trials, timeout
        self.proc = subprocess.Popen(
            [python, str(HERE / "_nni_side.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("a"),
            text=True,
        )

    def run(self, key: Key) -> Any:
        tuner, objective, seed, pending = key
        request = {
            "job": [tuner, objective, seed, self.trials, pending],
            "args": {**TUNERS[tuner], **NNI_ONLY_ARGS.get(tuner, {})},
            "timeout": self.timeout,
        }
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            sys.exit("search_quality: the --nni-python side ended (see its log)")
        answer = json.loads(line)
        return answer["curve"] if "curve" in answer else answer["error"]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def _values(curves: list[Any], at: int) -> list[float]:
    return [c[at - 1] for c in curves if isinstance(c, list) and len(c) >= at]


def _summary(curves: list[Any], at: int) -> str:
    values = _values(curves, at)
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3g}"
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return f"{med:.3g} [{q1:.3g}, {q3:.3g}]"


def _median(curves: list[Any], at: int) -> float | None:
    values = _values(curves, at)
    return statistics.median(values) if values else None


def _ratio(ours: float, theirs: float) -> str:
    if theirs > 0:
        return f"{ours / theirs:.2f}"
    return "1.00" if ours == 0 else "inf"


def table(
    results: dict[str, dict[Key, Any]],
    tuners: list[str],
    objectives: list[str],
    pendings: list[int],
    seeds: int,
    trials: int,
    with_nni: bool,
) -> list[str]:
    native, nni = results["nni2ray"], results["nni"]
    marks = [m for m in CHECKPOINTS if m <= trials] or [trials]
    head = ["tuner", "objective", "pending", "side", "n"] + [f"regret@{m}" for m in marks]
    lines = ["| " + " | ".join(head + ["ratio", "target"]) + " |"]
    lines.append("|" + "---|" * (len(head) + 2))
    for tuner in tuners:
        for objective in objectives:
            for pending in pendings:
                keys = [(tuner, objective, s, pending) for s in range(seeds)]
                ours = [native[k] for k in keys if k in native]
                sides = [("nni2ray", ours)]
                if with_nni:
                    sides.append(("NNI 3.0", [nni[k] for k in keys if k in nni]))
                for side, curves in sides:
                    if not curves:
                        continue
                    errors = [c for c in curves if isinstance(c, str)]
                    done = len([c for c in curves if isinstance(c, list) and len(c) == trials])
                    cut = [len(c) for c in curves if isinstance(c, list) and len(c) < trials]
                    cells = [_summary(curves, m) for m in marks]
                    ratio = target = ""
                    if side == "nni2ray" and with_nni:
                        mine = _median(ours, trials)
                        theirs = _median(sides[1][1], trials) if len(sides) > 1 else None
                        if mine is not None and theirs is not None:
                            ratio = _ratio(mine, theirs)
                            if tuner in TARGETS:
                                better = tuner == "TPE" and pending > 1
                                ok = mine < theirs if better else mine <= theirs
                                target = "PASS" if ok else "MISS"
                    if errors and errors[0].startswith("NNI's class not runnable"):
                        cells = [errors[0][:120]] + [""] * (len(cells) - 1)
                    elif errors:
                        cells[-1] += f" ({len(errors)} errors: {errors[0][:70]})"
                    if cut:
                        cells[-1] += f" ({len(cut)} cut by --search-timeout after {cut} trials)"
                    row = [tuner, objective, str(pending), side, str(done), *cells, ratio, target]
                    lines.append("| " + " | ".join(row) + " |")
    return lines


def _load_cache(path: Path | None) -> dict[str, dict[Key, Any]]:
    results: dict[str, dict[Key, Any]] = {"nni2ray": {}, "nni": {}, "signature": {}}
    if path is not None and path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                results[entry["side"]][tuple(entry["key"])] = entry["value"]  # type: ignore[index]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--pending", default="1,4", help="trials pending at a time, e.g. 1,4")
    parser.add_argument("--tuners", default=",".join(TUNERS))
    parser.add_argument("--objectives", default=",".join(OBJECTIVES))
    parser.add_argument("--nni-python", help="a Python with nni 3.0: also run NNI's own tuners")
    parser.add_argument("--cache", type=Path, help="JSON-lines file of finished searches")
    parser.add_argument(
        "--budget", type=float, default=float("inf"), help="start no search after N seconds"
    )
    parser.add_argument(
        "--search-timeout", type=float, default=900.0, help="end one search after N seconds"
    )
    parser.add_argument("--json", type=Path, help="write every curve and the table here")
    args = parser.parse_args(argv)
    tuners, objectives = args.tuners.split(","), args.objectives.split(",")
    pendings = [int(p) for p in args.pending.split(",")]
    unknown = [t for t in tuners if t not in TUNERS]
    if unknown:
        parser.error(f"unknown tuner {unknown[0]!r}; choose from {', '.join(TUNERS)}")
    for objective in objectives:
        optimum(objective)  # builds the SVC table once
    results = _load_cache(args.cache)
    keys: list[Key] = [
        (t, o, s, p)
        for s in range(args.seeds)
        for t in tuners
        for o in objectives
        for p in pendings
    ]
    started = time.monotonic()
    native = NativeSide(args.trials, args.search_timeout)
    nni_side = None
    log = Path(tempfile.gettempdir(), "search_quality_nni.log")
    ran = 0
    for key in keys:
        if time.monotonic() - started > args.budget:
            break
        todo = []
        if key not in results["nni2ray"]:
            todo.append("nni2ray")
        if args.nni_python and key not in results["nni"]:
            todo.append("nni")
        for side in todo:
            if side == "nni2ray":
                value, signature = native.run(key)
                results["signature"][key] = signature
            else:
                if nni_side is None:
                    nni_side = NniSide(args.nni_python, args.trials, args.search_timeout, log)
                value, signature = nni_side.run(key), ""
            results[side][key] = value
            ran += 1
            if args.cache is not None:
                entry = {"side": side, "key": list(key), "value": value}
                with args.cache.open("a") as handle:
                    handle.write(json.dumps(entry) + "\n")
                if side == "nni2ray":
                    entry = {"side": "signature", "key": list(key), "value": signature}
                    with args.cache.open("a") as handle:
                        handle.write(json.dumps(entry) + "\n")
    if nni_side is not None:
        nni_side.close()
    elapsed = time.monotonic() - started
    lines = table(
        results, tuners, objectives, pendings, args.seeds, args.trials, bool(args.nni_python)
    )
    notes = [
        "",
        f"{args.seeds} seeds x {args.trials} trials per cell (n: searches that finished); "
        f"{ran} searches run now in {elapsed:.0f} s, one at a time",
        "ratio: nni2ray's median regret at the last trial / NNI's; target (issue 13): the "
        "stand-in no worse than NNI's (TPE with pending trials: strictly better)",
        "stand-ins shared: GP, Metis, DNGO = Optuna GPSampler; SMAC = Optuna TPESampler "
        "(same call as TPE: same curves)",
    ]
    for tuner, extra in NNI_ONLY_ARGS.items():
        if tuner in tuners:
            notes.append(f"NNI's {tuner} ran with classArgs {extra} (time; see the script)")
    for name, why in ELSEWHERE.items():
        notes.append(f"{name}: not here: {why}")
    print("\n".join(lines + notes))
    if args.json:
        dump = {
            "command": sys.argv,
            "seeds": args.seeds,
            "trials": args.trials,
            "table": lines + notes,
            "nni2ray": [[list(k), v] for k, v in results["nni2ray"].items()],
            "nni": [[list(k), v] for k, v in results["nni"].items()],
        }
        args.json.write_text(json.dumps(dump))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
