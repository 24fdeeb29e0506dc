"""``nni2ray convert``: rewrite an NNI experiment's trial code into a Ray Tune project."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

from nni2ray.secrets import mask_text


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="rewrite the trial code into native Ray Tune code plus a launcher",
        description="Copy the trial code directory to OUT with NNI calls rewritten, and write "
        "OUT/tune_experiment.py and OUT/MIGRATION.md.",
    )
    parser.add_argument(
        "path",
        type=Path,
        help="NNI experiment folder, config file, or Python launcher (its own arguments "
        "after `--`)",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT")
    parser.add_argument("--config", default=None, metavar="NAME", help="config file to use")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file would change"
    )
    parser.add_argument("--diff", action="store_true", help="print a diff of the trial code")
    parser.add_argument(
        "--force", action="store_true", help="replace OUT if it exists (a folder nni2ray wrote)"
    )
    parser.add_argument(
        "--allow-outside",
        action="store_true",
        help="copy a code directory (or read a search space file) outside the experiment folder",
    )
    parser.set_defaults(handler=_cmd_convert)


def _cmd_convert(args: argparse.Namespace) -> int:
    from nni2ray.convert import Converted, Failed, Skipped, Unchanged, plan_tree, write_tree
    from nni2ray.pyapi import launcher_of

    launcher = launcher_of(args.path, args.config)
    experiment = None
    if launcher is not None:
        from nni2ray.cli._check import _from_launcher

        # A folder whose experiment is started by its Python launcher: run the script (with
        # the stand-in nni.experiment) until it starts its first experiment, and convert the
        # config it built there.
        args.path = launcher
        experiment = _from_launcher(args, "convert")
    conversion = plan_tree(
        args.path, args.config, allow_outside=args.allow_outside, experiment=experiment
    )
    if args.diff:
        for result in conversion.changed:
            before = (conversion.code_dir / result.filename).read_text(encoding="utf-8")
            diff = difflib.unified_diff(
                before.splitlines(keepends=True),
                result.code.splitlines(keepends=True),
                f"a/{result.filename}",
                f"b/{result.filename}",
            )
            sys.stdout.writelines(diff)
    notes = [note for result in conversion.results for note in result.notes]
    for note in notes:
        print(f"nni2ray: warning: {mask_text(str(note))}", file=sys.stderr)
    if conversion.refusal and not conversion.reasons:
        print(
            f"nni2ray: warning: no launcher written: {mask_text(conversion.refusal)}",
            file=sys.stderr,
        )
    if not args.check:
        write_tree(conversion, args.output, force=args.force)
    counts = {
        kind.__name__.lower(): sum(isinstance(r, kind) for r in conversion.results)
        for kind in (Converted, Unchanged, Skipped, Failed)
    }
    summary = ", ".join(f"{name} {count}" for name, count in counts.items())
    print(f"{summary}, warnings {len(notes)}", file=sys.stderr)
    # After writing: the project is there to inspect, but it does not run as it is.
    for reason in conversion.reasons:
        print(f"nni2ray: error: {mask_text(str(reason))}", file=sys.stderr)
    if conversion.reasons:
        return 1
    return 1 if args.check and conversion.changed else 0
