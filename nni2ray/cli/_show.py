"""``nni2ray show``: a run's end-of-run summary again, with its failed trials."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "show",
        help="print a run's summary again, with its failed trials",
        description="Print the summary a run ended with (trials by state, the best trials and "
        "their parameters), then each failed trial with the last line of its stderr and the "
        "file's path. Works on a running run and on an `nni2ray import` too.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the run's folder")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(handler=_cmd_show)


def _cmd_show(args: argparse.Namespace) -> int:
    from nni2ray.view import load_run, show_json, show_lines

    info = load_run(args.run_dir)
    if args.json:
        print(json.dumps(show_json(info), indent=2, default=str))
    else:
        print("\n".join(show_lines(info)))
    return 0
