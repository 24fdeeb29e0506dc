"""``nni2ray list``: the runs and imports under ./nni2ray-results (or a folder)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list the runs and imports in a results folder",
        description="List the runs and imports under ./nni2ray-results (or DIR): id, "
        "experiment name, status, trials by state, best final metric, start time, folder.",
    )
    parser.add_argument(
        "dir", type=Path, nargs="?", default=None, help="folder of runs (default ./nni2ray-results)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=_cmd_list)


def _cmd_list(args: argparse.Namespace) -> int:
    from nni2ray.results import RESULTS_DIR
    from nni2ray.view import find_runs, list_entry, list_lines, load_run

    runs = [load_run(path) for path in find_runs(args.dir or RESULTS_DIR)]
    runs.sort(key=lambda info: (info.start_time or 0.0, str(info.folder)))  # oldest first
    if args.json:
        print(json.dumps([list_entry(info) for info in runs], indent=2, default=str))
    elif runs:
        print("\n".join(list_lines(runs)))
    else:
        print(f"No runs in {(args.dir or RESULTS_DIR).resolve()}")
    return 0
