"""The command line: argparse only; each subcommand lives in its own ``_<command>`` module.

Exit codes (also in the README):

====  =====================================================================================
0     success (``run``: the experiment completed; failed trials are results, not errors,
      unless every trial failed)
1     an nni2ray error (bad input, unsupported feature, ...); ``run``: every trial failed,
      or the pre-flight found a trial command that cannot start here; ``convert --check`` found
      files that would change; ``--strict`` with notes present
2     command-line usage error
130   ``run`` interrupted with Ctrl-C, after every trial was ended cleanly
====  =====================================================================================
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from nni2ray import __version__
from nni2ray.errors import Nni2RayError
from nni2ray.secrets import mask_text

__all__ = ["main", "print_error"]

# Each command module exposes ``add_parser(subparsers) -> None`` and sets ``handler``.
_COMMANDS = ("check", "run", "convert", "import")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nni2ray",
        description="Run and convert Microsoft NNI experiments on Ray Tune.",
    )
    parser.add_argument("--version", action="version", version=f"nni2ray {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks for nni2ray errors too"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMANDS:
        module = __import__(f"nni2ray.cli._{name}", fromlist=["add_parser"])
        module.add_parser(subparsers)
    return parser


def print_error(exc: Nni2RayError) -> None:
    for problem in exc.problems:
        print(f"nni2ray: error: {mask_text(str(problem))}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except Nni2RayError as exc:
        if args.debug:
            raise
        print_error(exc)
        return 1
