"""The command line: argparse only; each subcommand lives in its own ``_<command>`` module.

Exit codes (also in the README):

====  =====================================================================================
0     success (``run``: the experiment completed; failed trials are results, not errors,
      unless every trial failed)
1     an nni2ray error (bad input, unsupported feature, ...); ``run``: every trial failed,
      or the pre-flight found a trial command that cannot start here; ``convert --check`` found
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
from pathlib import Path
from typing import Any

from nni2ray import __version__
from nni2ray.errors import Nni2RayError, OutputError
from nni2ray.secrets import mask_text

__all__ = ["main", "print_error", "split_launcher_args"]

# Each command module exposes ``add_parser(subparsers) -> None`` and sets ``handler``.
_COMMANDS = ("check", "run", "convert", "import", "list", "show", "view")


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
        print(f"nni2ray: error: {mask_text(str(problem))}", file=sys.stderr)


#: Options of ``run``/``check`` that take a value (their value is never the launcher).
_VALUE_OPTIONS = {
    "--config",
    "--output",
    "--from-nni",
    "--max-trials",
    "--concurrency",
    "--max-duration",
    "--scheduler",
    "--gpus-per-trial",
    "--address",
    "--seed",
    "--max-retries",
    "--launcher-timeout",
    "--algorithm-backend",
}


def split_launcher_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """``run``/``check`` of a Python launcher: what follows the script is the script's own
    arguments (``nni2ray run launcher.py --epochs 3``), as with ``python launcher.py``.
    ``convert`` takes its own options after the script (``-o OUT``), so there the script's
    arguments follow ``--`` (``nni2ray convert launcher.py -o OUT -- --epochs 3``)."""
    if argv and argv[0] == "convert" and "--" in argv:
        index = argv.index("--")
        return argv[:index], argv[index + 1 :]
    if not argv or argv[0] not in ("run", "check"):
        return argv, []
    for index in range(1, len(argv)):
        token = argv[index]
        if argv[index - 1] in _VALUE_OPTIONS or token.startswith("-"):
            continue
        if token.endswith(".py"):
            return argv[: index + 1], argv[index + 1 :]
        return argv, []  # a folder or config file
    return argv, []


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from nni2ray.runtime import RunInterrupted, SignalGuard, exit_code
    from nni2ray.startup import mark

    mark("command line started (nni2ray imported)")

    guard = SignalGuard()
    installed = guard.install()  # from the first instruction: no traceback on Ctrl-C
    try:
        parser = _build_parser()
        argv = list(sys.argv[1:] if argv is None else argv)
        argv, script_args = split_launcher_args(argv)
        args = parser.parse_args(argv)
        args.script_args = script_args
        args.signals = guard
        handler: Callable[[argparse.Namespace], int] = args.handler
        try:
            code = handler(args)
            try:
                sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
            except OSError as exc:
                if isinstance(exc, BrokenPipeError) or guard.signum is None:
                    raise
                _silence_stdout()  # the terminal went away (SIGHUP): the run is recorded
            return code
        except Nni2RayError as exc:
            if args.debug:
                raise
            print_error(exc)
            return 1
        except OSError as exc:
            # A full disk in any command (`run` says more itself): one line, no traceback.
            from nni2ray.results import failed_path, free_bytes, is_disk_full, size_text

            if args.debug or isinstance(exc, BrokenPipeError) or not is_disk_full(exc):
                raise
            path = failed_path(exc) or getattr(args, "output", None)  # the command's output
            free = f" ({size_text(free_bytes(Path(path)))} free)" if path is not None else ""
            print_error(
                OutputError(
                    f"no space left on the device{free}",
                    file=path,
                    hint="free some space, then run the command again",
                )
            )
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
