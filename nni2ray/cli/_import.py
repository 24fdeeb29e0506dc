"""``nni2ray import``: turn an NNI experiment folder into nni2ray's records and exports."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="read an NNI experiment folder's history (no NNI needed)",
        description="Read an NNI experiment folder (its db/nni.sqlite) and write every trial, "
        "whatever its status, with its parameters, intermediate and final metrics, as "
        "export.json, export.csv and trials/<id>/trial.json. NNI need not be installed.",
    )
    parser.add_argument(
        "path", type=Path, help="NNI experiment folder (e.g. ~/nni-experiments/<id>) or nni.sqlite"
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="results folder (default: ./nni2ray-results/nni-<id>-<time>)",
    )
    parser.set_defaults(handler=_cmd_import)


def _cmd_import(args: argparse.Namespace) -> int:
    from nni2ray.results import load_history, prepare_output, status_counts, write_import

    history = load_history(args.path)  # everything is read and checked before any write
    output = prepare_output(
        args.output or default_import_output(history.experiment_id), resumable=False
    )
    records = write_import(history, output)
    print(f"Imported {len(records)} trials ({status_counts(records)}) from {history.database}")
    if history.reassigned:
        print(
            f"{len(history.reassigned)} trial(s) ran with other parameters than NNI recorded "
            "for them (NNI 3.0 local); their metrics are paired with the parameters they used"
        )
    if history.dropped_finals:
        print(f"{history.dropped_finals} repeated final result(s) ignored, as NNI does")
    print(f"Results: {output}")
    from nni2ray.view import tensorboard_for

    print(tensorboard_for(output))
    return 0


def default_import_output(experiment_id: str) -> Path:
    from nni2ray.results import default_output

    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", experiment_id).strip("._")[:64] or "experiment"
    return default_output(f"nni-{safe}")
