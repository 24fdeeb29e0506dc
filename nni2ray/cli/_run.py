"""``nni2ray run``: rerun an NNI experiment folder on Ray Tune, trial scripts unchanged."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run an NNI experiment on Ray Tune",
        description="Run an NNI experiment folder on Ray Tune with its trial scripts unchanged. "
        "Flags override the config.",
    )
    parser.add_argument("path", type=Path, help="experiment folder or config file")
    parser.add_argument("--config", metavar="NAME", help="config file to use in the folder")
    parser.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="results folder (default: ./nni2ray-results/<name>-<time>; with --resume, the "
        "newest such folder)",
    )
    parser.add_argument("--max-trials", type=_positive_int, metavar="N")
    parser.add_argument("--concurrency", type=_positive_int, metavar="N")
    parser.add_argument("--max-duration", metavar="D", help="e.g. 30m, 2h, 45s, 3600")
    parser.add_argument("--scheduler", choices=("asha", "median", "hyperband", "none"))
    parser.add_argument("--gpus-per-trial", type=_non_negative_float, metavar="F")
    parser.add_argument(
        "--address",
        metavar="RAY_ADDRESS",
        help="run on an existing Ray cluster (e.g. auto or host:6379)",
    )
    parser.add_argument("--seed", type=_integer, metavar="N", help="seed the searcher")
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--resume",
        action="store_true",
        help="continue a stopped run in --output (default: the newest run of this experiment "
        "under ./nni2ray-results/): finished trials are kept, interrupted ones run again",
    )
    start.add_argument(
        "--from-nni",
        type=Path,
        metavar="NNI_EXPERIMENT_DIR",
        help="start from the trials an NNI experiment already finished (its db/nni.sqlite)",
    )
    parser.add_argument(
        "--max-retries",
        type=_non_negative_int,
        default=1,
        metavar="N",
        help="start a trial again up to N times when its Ray worker dies (default: 1)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--no-warm-start",
        dest="warm_start",
        action="store_false",
        help="start every trial as a fresh process (no template fork)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse to run when anything is approximated or ignored",
    )
    parser.set_defaults(handler=_cmd_run)


def _number(text: str, kind: type[int] | type[float], what: str) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what} (got {text!r})") from None
    if value != value or value in (float("inf"), float("-inf")):  # NaN, inf
        raise argparse.ArgumentTypeError(f"must be {what} (got {text!r})")
    return value


def _integer(text: str) -> int:
    return int(_number(text, int, "an integer"))


def _positive_int(text: str) -> int:
    value = int(_number(text, int, "a positive integer"))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text})")
    return value


def _non_negative_int(text: str) -> int:
    value = int(_number(text, int, "an integer, 0 or more"))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {text})")
    return value


def _non_negative_float(text: str) -> float:
    value = float(_number(text, float, "a number, 0 or more"))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {text})")
    return value


def _cmd_run(args: argparse.Namespace) -> int:
    from nni2ray.errors import ConfigError, Nni2RayError
    from nni2ray.experiment import load_experiment
    from nni2ray.experiment._durations import parse_duration
    from nni2ray.notes import Severity
    from nni2ray.translate import translate

    experiment = load_experiment(args.path, config_name=args.config)
    max_duration = None
    if args.max_duration is not None:
        try:
            max_duration = parse_duration(args.max_duration)
        except ConfigError as exc:
            raise ConfigError(
                str(exc.message),
                field="--max-duration",
                hint="write e.g. 30m, 2h, 45s or a number of seconds",
            ) from exc
    plan = translate(
        experiment,
        max_trials=args.max_trials,
        concurrency=args.concurrency,
        max_duration=max_duration,
        scheduler=args.scheduler,
        gpus_per_trial=args.gpus_per_trial,
        seed=args.seed,
    )
    for note in plan.notes:
        if note.severity is not Severity.EXACT:
            print(f"nni2ray: warning: {note}", file=sys.stderr)
    lossy = [n for n in plan.notes if n.severity in (Severity.APPROXIMATED, Severity.IGNORED)]
    if args.strict and lossy:
        raise Nni2RayError(
            f"--strict: {len(lossy)} setting(s) are not mapped exactly (see the warnings above)",
            hint="run without --strict to accept them",
        )
    from nni2ray.runtime import RunOptions, run_experiment

    summary = run_experiment(
        experiment,
        plan,
        RunOptions(
            output=args.output,
            address=args.address,
            quiet=args.quiet,
            warm_start=args.warm_start,
            resume=args.resume,
            from_nni=args.from_nni,
            max_retries=args.max_retries,
            signals=getattr(args, "signals", None),
        ),
    )
    try:
        _print_summary(summary, plan.mode)
    except OSError:
        if summary.signum is None:
            raise
        # Stopped by SIGHUP: the terminal is gone (EIO); the records are on disk.
    if summary.signum is not None:
        from nni2ray.runtime import exit_code

        return exit_code(summary.signum)
    return 130 if summary.interrupted else 0


def _print_summary(summary: Any, mode: str) -> None:
    import json

    records = summary.records
    counts: dict[str, int] = {}
    for record in records:
        counts[record.status] = counts.get(record.status, 0) + 1
    status = ", ".join(f"{n} {s.lower().replace('_', '-')}" for s, n in sorted(counts.items()))
    print(f"\n{len(records)} trials in {summary.elapsed_s:.1f}s ({status or 'none'})")
    ignored = sum(len(r.ignored_finals) for r in records)
    if ignored:
        print(f"{ignored} repeated final result(s) ignored, as NNI does (ignoredFinals)")
    if summary.best:
        print(f"Best trials ({'highest' if mode == 'max' else 'lowest'} final metric first):")
        width = max(len(r.trial_id) for r in summary.best[:5])
        for record in summary.best[:5]:
            params = json.dumps(record.parameters, sort_keys=True)
            print(f"  {record.trial_id:<{width}}  {record.final_scalar:<12.6g} {params}")
        best = summary.best[0]
        print(f"Best parameters: {json.dumps(best.parameters, sort_keys=True)}")
    else:
        print("No trial reported a final result.")
    print(f"Results: {summary.output}")
