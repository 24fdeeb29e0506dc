"""``nni2ray view``: a run's web page (like ``nnictl view``), or one offline HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "view",
        help="look at a run in the browser (or write it as one HTML file)",
        description="Serve a web page for a run folder (finished, still running, or an "
        "`nni2ray import`): overview with the best result over time, the trial table, "
        "intermediate curves, hyperparameters against the metric, durations, and each trial's "
        "parameters, metrics and logs. The page reads the folder on every refresh, so a "
        "running run updates. Needs plotly: pip install 'nni2ray[view]'.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the run's folder")
    parser.add_argument(
        "--port", type=int, default=8080, metavar="N", help="port (default 8080; 0: any free one)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only)",
    )
    parser.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="write the page with its data as one self-contained file that opens offline, "
        "instead of serving it",
    )
    parser.set_defaults(handler=_cmd_view)


def _cmd_view(args: argparse.Namespace) -> int:
    from nni2ray.view import load_run, serve, write_report

    if args.html is not None:
        info = load_run(args.run_dir)
        path = write_report(info, args.html)
        print(f"Wrote {path} ({len(info.records)} trials)")
        return 0
    serve(args.run_dir, args.host, args.port)
    return 0
