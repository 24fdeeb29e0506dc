"""``nni2ray run``: rerun an NNI experiment folder on Ray Tune, trial scripts unchanged."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nni2ray.cli._check import add_python_option
from nni2ray.secrets import mask_text


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
    add_python_option(parser)
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
    from nni2ray.cli._check import python_path
    from nni2ray.errors import Nni2RayError
    from nni2ray.experiment import load_experiment, parse_duration_text
    from nni2ray.notes import Severity
    from nni2ray.translate import translate

    python = python_path(args.python)
    max_duration = None
    if args.max_duration is not None:
        max_duration = parse_duration_text(args.max_duration, field="--max-duration")
    experiment = load_experiment(args.path, config_name=args.config)
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
            print(f"nni2ray: warning: {mask_text(str(note))}", file=sys.stderr)
    lossy = [n for n in plan.notes if n.severity in (Severity.APPROXIMATED, Severity.IGNORED)]
    if args.strict and lossy:
        raise Nni2RayError(
            f"--strict: {len(lossy)} setting(s) are not mapped exactly (see the warnings above)",
            hint="run without --strict to accept them",
        )
    _preflight(experiment, plan, python, remote=args.address is not None)
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
            python=python,
        ),
    )
    _print_summary(summary, plan.mode)
    if summary.interrupted:
        return 130
    _explain_failures(summary)
    return 0


def _preflight(experiment: Any, plan: Any, python: str | None, *, remote: bool) -> None:
    """Stop before Ray starts and before anything is written when every trial would fail;
    on a cluster (--address) the paths are the workers', so only warn."""
    from nni2ray.cli._check import fatal_problems, trial_problems
    from nni2ray.errors import TrialLaunchError

    fatal = [] if remote else fatal_problems(experiment, python, plan)
    for problem in trial_problems(experiment, python, plan):
        if problem not in fatal:
            print(f"nni2ray: warning: {problem}", file=sys.stderr)
    if fatal:
        raise TrialLaunchError(problems=fatal)


def _explain_failures(summary: Any) -> None:
    """Name the most common failure with the end of one trial's stderr; a run in which
    every trial failed is an error (exit 1)."""
    from nni2ray.errors import TrialLaunchError
    from nni2ray.experiment import display_path
    from nni2ray.results import failure_report

    report = failure_report(summary.records, summary.output)
    if report is None:
        return
    stderr = display_path(report.stderr)
    share = f"{report.count} of {report.failed} failed trial(s)"
    print(f"Most common failure ({share}): {report.cause}")
    if report.tail:
        print(f"  last lines of {stderr}:")
        for line in report.tail:
            print(f"    {line}")
    if report.every_trial:
        raise TrialLaunchError(f"every trial failed: {report.cause}", hint=f"see {stderr}")


def _print_summary(summary: Any, mode: str) -> None:
    import json

    from nni2ray.results import status_counts

    records = summary.records
    print(f"\n{len(records)} trials in {summary.elapsed_s:.1f}s ({status_counts(records)})")
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
