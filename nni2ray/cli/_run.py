"""``nni2ray run``: rerun an NNI experiment folder on Ray Tune, trial scripts unchanged."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nni2ray.cli._check import add_backend_option, add_python_option
from nni2ray.secrets import mask_text


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run an NNI experiment on Ray Tune",
        description="Run an NNI experiment folder on Ray Tune with its trial scripts unchanged. "
        "Flags override the config. A Python launcher that uses NNI's experiment API "
        "(nni.experiment.Experiment) runs as `nni2ray run [flags] launcher.py [its args]`: "
        "each experiment it starts runs on Ray Tune, one after the other, each in its own "
        "results folder.",
    )
    parser.add_argument(
        "path", type=Path, help="experiment folder, config file or Python launcher (.py)"
    )
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
    add_python_option(parser)
    add_backend_option(parser)
    parser.add_argument(
        "--launcher-timeout",
        type=_non_negative_float,
        default=60.0,
        metavar="S",
        help="a Python launcher still running S seconds after its last experiment ended "
        "(e.g. polling forever) is ended (default: 60)",
    )
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
    import time

    started = time.monotonic()  # the progress clock starts with the command
    from nni2ray.cli._check import python_path
    from nni2ray.experiment import load_experiment
    from nni2ray.pyapi import launcher_of

    max_duration = _max_duration(args)  # a bad flag is reported before anything is read
    python = python_path(args.python)
    launcher = launcher_of(args.path, args.config)
    if launcher is not None:
        args.path = launcher  # a folder whose experiment is started by its Python launcher
        return _run_launcher(args, python, max_duration)
    from nni2ray.startup import mark

    experiment = load_experiment(args.path, config_name=args.config)
    mark("experiment read and validated")
    plan = _plan(experiment, args, python, max_duration)
    mark("plan translated, pre-flight done")
    summary = _run(experiment, plan, args, args.output, python=python, started=started)
    if summary.signum is not None:  # SIGTERM/SIGHUP/SIGINT: 143/129/130
        from nni2ray.runtime import exit_code

        return exit_code(summary.signum)
    if summary.interrupted:
        return 130
    _explain_failures(summary)
    return 0


def _max_duration(args: argparse.Namespace) -> int | None:
    from nni2ray.experiment import parse_duration_text

    if args.max_duration is None:
        return None
    return parse_duration_text(args.max_duration, field="--max-duration")


def _plan(
    experiment: Any, args: argparse.Namespace, python: str | None, max_duration: int | None
) -> Any:
    """Translate with the command line's overrides; print the notes; honour --strict; stop
    before Ray starts when the pre-flight finds that every trial would fail."""
    from nni2ray.errors import Nni2RayError
    from nni2ray.notes import Severity
    from nni2ray.translate import translate

    plan = translate(
        experiment,
        max_trials=args.max_trials,
        concurrency=args.concurrency,
        max_duration=max_duration,
        scheduler=args.scheduler,
        gpus_per_trial=args.gpus_per_trial,
        seed=args.seed,
        algorithm_backend=args.algorithm_backend,
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
    return plan


def _run(
    experiment: Any,
    plan: Any,
    args: argparse.Namespace,
    output: Path | None,
    stop: Any = None,
    *,
    python: str | None = None,
    started: float | None = None,
) -> Any:
    import time

    from nni2ray.runtime import RunOptions, plan_line, run_experiment

    where = f"connecting to Ray at {args.address}" if args.address else "starting Ray"

    where = f"connecting to Ray at {args.address}" if args.address else "starting Ray"
    summary = run_experiment(
        experiment,
        plan,
        RunOptions(
            output=output,
            address=args.address,
            quiet=args.quiet,
            warm_start=args.warm_start,
            resume=args.resume,
            from_nni=args.from_nni,
            max_retries=args.max_retries,
            python=python,
            stop_event=stop,
            signals=getattr(args, "signals", None),
            started=time.monotonic() if started is None else started,
            announce=f"{plan_line(plan, args.scheduler)}; {where}",
        ),
    )
    from nni2ray.view import tensorboard_for

    try:
        _print_summary(summary, plan.mode)
        print(_tensorboard_line(summary.output, tensorboard_for))
    except OSError:
        if summary.signum is None:
            raise
        # Stopped by SIGHUP: the terminal is gone (EIO); the records are on disk.
    return summary


def _tensorboard_line(output: Path, tensorboard_for: Any) -> str:
    """The TensorBoard line; on a disk that filled up at the very end, what was not written
    (the run's records and exports are complete)."""
    from nni2ray.results import failed_path, free_bytes, is_disk_full, size_text

    try:
        return str(tensorboard_for(output))
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        path = failed_path(exc) or output / "tensorboard"
        return (
            f"TensorBoard: files not written ({path}: no space left on the device, "
            f"{size_text(free_bytes(path))} free)"
        )


def _run_launcher(args: argparse.Namespace, python: str | None, max_duration: int | None) -> int:
    """Run a Python launcher: each experiment it starts runs here, one after the other."""
    from nni2ray.errors import Nni2RayError
    from nni2ray.experiment import load_experiment_dict
    from nni2ray.pyapi import LauncherSession, launcher_error
    from nni2ray.results import default_output

    if args.resume or args.from_nni is not None:
        raise Nni2RayError(
            "--resume and --from-nni are not available for a Python launcher",
            file=str(args.path),
            hint="run the experiment from a config file to resume it",
        )
    session = LauncherSession(args.path, args.script_args, grace_s=args.launcher_timeout)
    used: set[Path] = set()
    count = 0
    interrupted = False
    try:
        for request in session.requests():
            count += 1
            try:
                experiment = load_experiment_dict(request.config, request.base_dir, args.path)
                plan = _plan(experiment, args, python, max_duration)
            except Nni2RayError:
                session.close()  # the script ends here, as NNI's start() would raise
                raise
            output = _unique_output(args.output or default_output(plan.name), used)
            if not args.quiet:
                print(f"nni2ray: experiment {count} of {args.path.name}: results in {output}")
            request.started(output)
            try:
                summary = _run(experiment, plan, args, output, request.stop_event, python=python)
            except BaseException:
                request.ended("ERROR")
                raise
            stopped = summary.interrupted
            interrupted = interrupted or (stopped and not request.stop_event.is_set())
            request.ended("STOPPED" if stopped else "DONE")
    finally:
        session.close()
    error = launcher_error(session)
    if error is not None and not interrupted:  # Ctrl-C reached the script too
        raise error
    if count == 0:
        raise Nni2RayError(
            "the launcher ended without starting an experiment",
            file=str(args.path),
            hint="a launcher builds nni.experiment.Experiment(...) and calls run() or start()",
        )
    return 130 if interrupted else 0


def _unique_output(path: Path, used: set[Path]) -> Path:
    """A folder of its own for each experiment of one launcher (``-2``, ``-3``, ...)."""
    base = path.expanduser().resolve()
    candidate, number = base, 1
    while candidate in used or candidate.exists():
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    used.add(candidate)
    return candidate


def _preflight(experiment: Any, plan: Any, python: str | None, *, remote: bool) -> None:
    """Stop before Ray starts and before anything is written when every trial would fail;
    on a cluster (--address) the paths are the workers', so only warn."""
    from nni2ray.cli._check import fatal_problems, trial_problems
    from nni2ray.errors import TrialLaunchError
    from nni2ray.runtime import check_custom_algorithms

    check_custom_algorithms(plan)  # before Ray starts; `check` runs the same check
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
    from nni2ray.view import summary_lines

    lines = summary_lines(summary.records, summary.best, mode, summary.elapsed_s, summary.output)
    print("\n" + "\n".join(lines))
    ignored = sum(len(r.ignored_finals) for r in summary.records)
    if ignored:
        print(f"{ignored} repeated final result(s) ignored, as NNI does (ignoredFinals)")
