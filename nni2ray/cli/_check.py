"""``nni2ray check``: load an NNI experiment, print what was understood and any warnings."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the experiment; print the summary (or JSON) on stdout and notes on stderr."""
    from nni2ray.experiment import experiment_to_json, load_experiment, summarise
    from nni2ray.pyapi import is_launcher
    from nni2ray.translate import translate

    if is_launcher(args.path):
        experiment = _from_launcher(args)
    else:
        experiment = load_experiment(args.path, config_name=args.config)
    translate(experiment)  # refuses, with run's own line, what run would refuse
    if args.json:
        print(json.dumps(experiment_to_json(experiment), indent=2))
    else:
        print("\n".join(summarise(experiment)))
    for note in experiment.notes:
        print(f"nni2ray: warning: {note}", file=sys.stderr)
    return 0


def _from_launcher(args: argparse.Namespace) -> Any:
    """Run the launcher until its first ``start()``/``run()`` and load the config it built."""
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
                f"nni2ray: check stopped {script.name} where it starts its first experiment",
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
