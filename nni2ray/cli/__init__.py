"""The command line: argparse only; each subcommand lives in its own ``_<command>`` module.

Exit codes (also in the README):

====  =====================================================================================
0     success (``run``: the experiment completed; failed trials are results, not errors)
1     an nni2ray error (bad input, unsupported feature, ...); ``convert --check`` found
      files that would change; ``--strict`` with notes present
2     command-line usage error
130   interrupted with Ctrl-C (SIGINT); ``run`` ended every trial and wrote its records
143   the same for SIGTERM (``kill``, ``timeout``, Slurm, systemd)
129   the same for SIGHUP (the terminal was closed)
141   the reader of the output went away (``nni2ray check --json | head``)
====  =====================================================================================
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from nni2ray import __version__
from nni2ray.errors import Nni2RayError

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
    # `--debug` is accepted after the command too (`nni2ray run X --debug`); SUPPRESS keeps
    # a subcommand that was not given it from overriding the top-level flag.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks for nni2ray errors too",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    original = subparsers.add_parser

    def add_parser(*args: Any, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs.setdefault("parents", []).append(common)
        return original(*args, **kwargs)

    subparsers.add_parser = add_parser  # type: ignore[method-assign]
    for name in _COMMANDS:
        module = __import__(f"nni2ray.cli._{name}", fromlist=["add_parser"])
        module.add_parser(subparsers)
    return parser


def print_error(exc: Nni2RayError) -> None:
    for problem in exc.problems:
        print(f"nni2ray: error: {problem}", file=sys.stderr)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from nni2ray.runtime._signals import RunInterrupted, SignalGuard, exit_code

    guard = SignalGuard()
    installed = guard.install()  # from the first instruction: no traceback on Ctrl-C
    try:
        parser = _build_parser()
        args = parser.parse_args(argv)
        args.signals = guard
        handler: Callable[[argparse.Namespace], int] = args.handler
        try:
            code = handler(args)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
            return code
        except Nni2RayError as exc:
            if args.debug:
                raise
            print_error(exc)
            return 1
    except RunInterrupted as exc:
        return exit_code(exc.signum)
    except BrokenPipeError:
        # The reader went away (`nni2ray check --json | head`): no traceback, and no second
        # error when Python flushes stdout at exit.
        _silence_stdout()
        return 128 + 13  # as if ended by SIGPIPE
    finally:
        if installed:
            guard.restore()
