"""``nni2ray check``: load an NNI experiment, print what was understood and any warnings."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "read and validate an NNI experiment folder without running anything"


def add_parser(subparsers: Any) -> None:
    """Register ``check PATH [--config NAME] [--json]``."""
    parser = subparsers.add_parser("check", help=HELP, description=HELP.capitalize() + ".")
    parser.add_argument("path", metavar="PATH", help="experiment folder or config file")
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
    from nni2ray.translate import runs_as, translate

    experiment = load_experiment(args.path, config_name=args.config)
    plan = translate(experiment)  # refuses, with run's own line, what run would refuse
    if args.json:
        print(json.dumps(experiment_to_json(experiment), indent=2))
    else:
        print("\n".join(summarise(experiment) + runs_as(plan)))
    for note in experiment.notes:
        print(f"nni2ray: warning: {note}", file=sys.stderr)
    return 0
