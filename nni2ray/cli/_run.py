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
    parser.add_argument("--seed", type=int, metavar="N", help="seed the searcher")
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


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text})")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {text})")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {text})")
    return value


def _cmd_run(args: argparse.Namespace) -> int:
    import time

    started = time.monotonic()
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
    from nni2ray.runtime import RunOptions, plan_line, run_experiment

    where = f"connecting to Ray at {args.address}" if args.address else "starting Ray"
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
            started=started,
            announce=f"{plan_line(plan, args.scheduler)}; {where}",
        ),
    )
    _print_summary(summary, plan.mode)
    from nni2ray.view import tensorboard_for

    print(tensorboard_for(summary.output))
    return 130 if summary.interrupted else 0


def _print_summary(summary: Any, mode: str) -> None:
    from nni2ray.view import summary_lines

    lines = summary_lines(summary.records, summary.best, mode, summary.elapsed_s, summary.output)
    print("\n" + "\n".join(lines))
