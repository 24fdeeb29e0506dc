"""The run folder itself: its default name, creating it, proving it writable, the newest one."""

from __future__ import annotations

import contextlib
import random
import re
import string
import time
from enum import StrEnum
from pathlib import Path

from nni2ray.errors import DiskFullError, OutputError
from nni2ray.results._disk import RESERVE_BYTES, free_bytes, size_text

#: Where runs and imports go unless ``--output`` says otherwise (relative to the cwd).
RESULTS_DIR = Path("nni2ray-results")


class RunStatus(StrEnum):
    """The ``status`` of a run folder, in its ``experiment.json``."""

    STARTING = "STARTING"  # the folder exists, Ray is starting
    RUNNING = "RUNNING"
    DONE = "DONE"
    STOPPED = "STOPPED"  # a signal (Ctrl-C, SIGTERM, SIGHUP) stopped it; see stopReason
    INTERRUPTED = "INTERRUPTED"  # Ctrl-C (runs written before signals were told apart)
    ERROR = "ERROR"  # a user's tuner or assessor raised
    IMPORTED = "IMPORTED"  # written by ``nni2ray import``


def default_output(name: str) -> Path:
    """``./nni2ray-results/<name>-<time>``: where a run or import writes unless told."""
    return RESULTS_DIR / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def prepare_output(path: Path, *, resumable: bool = True) -> Path:
    """Create the output folder (or accept an empty one) and prove it is writable.

    ``resumable``: the command has ``--resume`` to suggest for a non-empty folder.
    """
    path = path.expanduser().resolve()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise OutputError(
            "output folder already exists and is not empty",
            file=path,
            hint="choose a new --output folder"
            + (", or add --resume to continue the run in it" if resumable else ""),
        )
    return probe_output(path)


#: Free space a run needs to start: its reserve (see ``SpaceReserve``) and a little more.
MIN_FREE_TO_START = RESERVE_BYTES + (64 << 10)


def probe_output(path: Path) -> Path:
    """Create ``path/trials`` and prove the folder takes a write (full disk, read-only).

    On failure nothing it created is left (a folder left behind would be refused by a
    plain rerun as not empty, and by ``--resume`` as not a run folder).
    """
    free = free_bytes(path)
    if free is not None and free < MIN_FREE_TO_START:
        raise DiskFullError(
            f"not enough free space to start a run ({size_text(free)} free, "
            f"{size_text(MIN_FREE_TO_START)} needed)",
            file=path,
            hint="free some space, then run the same command again",
        )
    created = [p for p in (path, path / "trials") if not p.exists()]
    try:
        (path / "trials").mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        try:
            probe.write_bytes(b"x" * 65536)
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise OutputError(
            f"cannot write the output folder ({exc.strerror or exc})",
            file=path,
            hint="choose a writable --output folder with free space",
        ) from exc
    return path


def inside_output(output: Path, path: Path) -> Path:
    """``path`` when it lies inside ``output`` with symlinks resolved; every folder and file
    nni2ray creates or moves under a run folder goes through this.

    Raises:
        OutputError: ``path`` leads outside (a symlinked ``abandoned/`` or trial folder, an
            id such as ``../../x`` read from a crafted record).
    """
    top, real = output.resolve(), path.resolve()
    if real != top and top not in real.parents:
        raise OutputError(
            f"{path} leads outside the output folder (to {real}); nothing was written there",
            file=output,
            hint="remove the symlink or the crafted record; nni2ray writes only inside it",
        )
    return path


def new_experiment_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(random.SystemRandom().choice(alphabet) for _ in range(8))


def latest_output(name: str, base: Path = RESULTS_DIR) -> Path:
    """The newest ``<base>/<name>-<time>`` folder that holds an ``experiment.json``.

    Raises:
        OutputError: there is none.
    """
    candidates = [
        p
        for p in base.glob(f"{glob_escape(name)}-*")
        if p.is_dir() and (p / "experiment.json").is_file()
    ]
    if not candidates:
        raise OutputError(
            f"no earlier run of {name!r} to resume",
            file=base.resolve() / f"{name}-*",
            hint="pass the run's folder with --output DIR",
        )
    return max(candidates, key=lambda p: (p.stat().st_mtime, p.name)).resolve()


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)
