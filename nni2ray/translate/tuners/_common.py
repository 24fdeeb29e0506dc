"""What every tuner builder shares: the mapping it returns, its notes, its classArgs checks."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nni2ray.errors import UnsupportedError
from nni2ray.experiment import AlgorithmSpec, Experiment, display_path
from nni2ray.notes import Note, Severity
from nni2ray.translate.plan import SchedulerCall, SearcherCall


@dataclass(frozen=True)
class TunerMapping:
    """What one NNI tuner becomes.

    ``scheduler`` is set only for advisors (Hyperband, BOHB), which replace the assessor, and
    for PBT without an assessor (no early stopping, as in NNI);
    ``extra_parameters`` are added to every trial's parameters (``TRIAL_BUDGET``);
    ``checkpoint_dirs`` gives every trial NNI's PBT ``load/save_checkpoint_dir``.
    """

    searcher: SearcherCall
    notes: tuple[Note, ...] = ()
    scheduler: SchedulerCall | None = None
    extra_parameters: tuple[tuple[str, Any], ...] = ()
    checkpoint_dirs: bool = False


#: A registry entry: the tuner's spec and its experiment -> what it becomes.
TunerBuilder = Callable[[AlgorithmSpec, Experiment], TunerMapping]


def tuner_note(spec: AlgorithmSpec, exp: Experiment, severity: Severity, text: str) -> Note:
    """A note located at the tuner's ``name`` in the config file."""
    return Note(severity, text, file=display_path(exp.config_file), field=f"{spec.role}.name")


def seed_arg(spec: AlgorithmSpec) -> int | None:
    """``classArgs.seed`` when it is an integer (NNI ignores anything else)."""
    seed = spec.class_args.get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def int_arg(spec: AlgorithmSpec, exp: Experiment, key: str, default: int, low: int) -> int:
    """An integer classArg of at least ``low``, ``default`` when absent.

    Raises:
        UnsupportedError: the value is not such an integer.
    """
    value = spec.class_args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise UnsupportedError(
            f"{key} must be an integer >= {low} (got {value!r})",
            file=display_path(exp.config_file),
            field=f"{spec.role}.classArgs.{key}",
            hint=f"write {key}: {default}",
        )
    return value


def installed(package: str) -> bool:
    """True when ``package`` can be imported (found without importing it).

    The stand-in ``nni`` that loading a custom tuner leaves in ``sys.modules`` does not
    count: for it, the real package is looked for on ``sys.path``.
    """
    try:
        module = sys.modules.get(package)
        if module is not None and getattr(module, "__name__", package) != package:
            return importlib.machinery.PathFinder.find_spec(package) is not None
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def approximated_instead(
    notes: tuple[Note, ...], exact_messages: tuple[str, ...], text: str
) -> tuple[Note, ...]:
    """``notes`` with the notes saying ``exact_messages`` replaced by one APPROXIMATED note
    saying ``text``, at the same file and field (a converted project runs less than
    ``nni2ray run`` does)."""
    exact = [n for n in notes if n.message in exact_messages]
    where = exact[0] if exact else None
    note = Note(
        Severity.APPROXIMATED,
        text,
        file=where.file if where else None,
        field=where.field if where else None,
    )
    return tuple(n for n in notes if n not in exact) + (note,)
