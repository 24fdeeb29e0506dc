"""``nni2ray check``: load an NNI experiment, print what was understood and any warnings."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from nni2ray.secrets import mask_text

HELP = "read and validate an NNI experiment folder without running anything"


def add_parser(subparsers: Any) -> None:
    """Register ``check PATH [--config NAME] [--json]``."""
    parser = subparsers.add_parser(
        "check",
        help=HELP,
        description=HELP.capitalize()
        + ". A Python launcher (`nni2ray check launcher.py [its args]`) is run up to the "
        "point where it would start its first experiment, and the config it built is "
        "checked; the script's own side effects before that point do happen.",
    )
    parser.add_argument(
        "path", metavar="PATH", help="experiment folder, config file or Python launcher (.py)"
    )
    parser.add_argument(
        "--config", metavar="NAME", help="config file to use when the folder has several"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the understood experiment as JSON"
    )
    add_python_option(parser)
    add_backend_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the experiment; print the summary (or JSON) on stdout and notes on stderr."""
    from nni2ray.experiment import experiment_to_json, load_experiment, summarise
    from nni2ray.pyapi import launcher_of
    from nni2ray.translate import runs_as, translate

    python = python_path(args.python)
    launcher = launcher_of(args.path, args.config)
    if launcher is not None:
        args.path = launcher  # a folder whose experiment is started by its Python launcher
        experiment = _from_launcher(args)
    else:
        experiment = load_experiment(args.path, config_name=args.config)
    backend = args.algorithm_backend
    # Refuses, with run's own line, what run would refuse.
    plan = translate(experiment, algorithm_backend=backend)
    from nni2ray.runtime import check_custom_algorithms

    check_custom_algorithms(plan)  # as run's pre-flight: the custom classes import, tuners
    if args.json:
        print(json.dumps(experiment_to_json(experiment), indent=2))
    else:
        print("\n".join(summarise(experiment) + runs_as(plan, backend)))

    for note in experiment.notes:
        print(f"nni2ray: warning: {mask_text(str(note))}", file=sys.stderr)
    for problem in trial_problems(experiment, python):
        print(f"nni2ray: warning: {mask_text(str(problem))}", file=sys.stderr)
    return 0


#: The environment variable that sets ``--algorithm-backend``'s default.
BACKEND_ENV = "NNI2RAY_ALGORITHM_BACKEND"
_BACKENDS = ("auto", "nni", "native")


def _backend(value: str) -> str:
    if value not in _BACKENDS:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not one of auto, nni, native (also checked in ${BACKEND_ENV})"
        )
    return value


def add_backend_option(parser: Any) -> None:
    """``--algorithm-backend auto|nni|native`` (check and run; default $NNI2RAY_ALGORITHM_BACKEND
    or auto)."""
    import os

    parser.add_argument(
        "--algorithm-backend",
        type=_backend,
        metavar="{auto,nni,native}",
        default=os.environ.get(BACKEND_ENV) or "auto",
        help="auto (default, or $NNI2RAY_ALGORITHM_BACKEND): NNI's own tuner class where nni "
        "and the class's packages are installed, nni2ray's stand-in otherwise; nni: NNI's "
        "class or an error; native: nni2ray's stand-ins (Hyperband and BOHB keep nni2ray's "
        "bracket schedule in all three)",
    )


def add_python_option(parser: Any) -> None:
    """``--python PATH`` (check and run)."""
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="run python/python3/pythonX.Y in trial commands (and an interpreter path "
        "from another machine) with this interpreter",
    )


def python_path(value: str | None) -> str | None:
    """The ``--python`` interpreter as an absolute path.

    Raises:
        ConfigError: it does not exist or cannot be executed.
    """
    import os
    import shutil

    from nni2ray.errors import ConfigError

    if value is None:
        return None
    found = shutil.which(value)
    if found is None:
        raise ConfigError(
            f"{value} is not an executable on this machine",
            field="--python",
            hint="give the path of a Python interpreter, e.g. --python /usr/bin/python3",
        )
    return os.path.abspath(found)


def trial_problems(experiment: Any, python: str | None, plan: Any = None) -> list[Any]:
    """Every pre-flight finding of the experiment's trial command and plan (``check``)."""
    return [problem for problem, _ in _findings(experiment, python, plan)]


def fatal_problems(experiment: Any, python: str | None, plan: Any) -> list[Any]:
    """The pre-flight findings that make every trial fail (``run`` stops on them)."""
    return [problem for problem, fatal in _findings(experiment, python, plan) if fatal]


def _findings(experiment: Any, python: str | None, plan: Any = None) -> list[tuple[Any, bool]]:
    from nni2ray.errors import Nni2RayError, Problem
    from nni2ray.experiment import display_path
    from nni2ray.trials import preflight

    if plan is None:
        from nni2ray.translate import translate

        try:
            plan = translate(experiment)
        except Nni2RayError:
            plan = None
    searcher = plan.searcher if plan is not None else None
    findings = preflight(
        experiment.trial.command,
        experiment.trial.code_directory,
        python=python,
        searcher_kind=searcher.kind if searcher is not None else None,
        tuner_name=searcher.nni_name if searcher is not None else None,
    )
    config = display_path(experiment.config_file)
    return [
        (Problem(f.message, file=config, field=f.field, hint=f.hint), f.fatal) for f in findings
    ]


def _from_launcher(args: argparse.Namespace, command: str = "check") -> Any:
    """Run the launcher until its first ``start()``/``run()`` and load the config it built
    (``check`` and ``convert``)."""
    from pathlib import Path

    from nni2ray.errors import Nni2RayError
    from nni2ray.experiment import load_experiment_dict
    from nni2ray.pyapi import LauncherSession, launcher_error

    script = Path(args.path)
    session = LauncherSession(script, getattr(args, "script_args", []), grace_s=60.0)
    try:
        for request in session.requests():
            experiment = load_experiment_dict(request.config, request.base_dir, script)
            session.stop_for_check()
            print(
                f"nni2ray: {command} stopped {script.name} where it starts its first "
                f"experiment ({experiment.name or 'unnamed'})",
                file=sys.stderr,
            )
            return experiment
    finally:
        session.close()
    error = launcher_error(session)
    if error is not None:
        raise error
    raise Nni2RayError(
        "the launcher ended without starting an experiment",
        file=str(script),
        hint="a launcher builds nni.experiment.Experiment(...) and calls run() or start()",
    )
