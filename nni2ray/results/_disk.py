"""A full disk under the run folder: told apart from other write failures, and said in one
line that names the path, the free space and how to go on (``--resume``)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path

from nni2ray.errors import DiskFullError

#: "No space left on device" and "Disk quota exceeded": both mean "free some space".
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

#: A trial that fails while less than this is free on the run folder's disk is taken to
#: have failed for want of space (its own prints and files fail first): the run stops as
#: for a full disk and the trial runs again on ``--resume`` instead of counting as failed.
LOW_SPACE_BYTES = 1 << 20

#: The end reason of a trial the full disk stopped (a resume runs it again).
DISK_FULL_REASON = "disk full"


def is_disk_full(exc: BaseException | None) -> bool:
    """True for an ENOSPC/EDQUOT error, also when it is the cause of another (Tune wraps
    a callback's error in a TuneError that holds only the traceback's text)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            return True
        if "[Errno 28] No space left on device" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def failed_path(exc: BaseException | None) -> Path | None:
    """The file the full disk refused, where the error names it."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.filename:
            return Path(str(exc.filename))
        exc = exc.__cause__ or exc.__context__
    return None


def free_bytes(path: Path) -> int | None:
    """Bytes free to this user on the file system that holds ``path`` (or its nearest
    existing parent); None when that cannot be read."""
    for candidate in (path, *path.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None


def low_on_space(path: Path) -> bool:
    free = free_bytes(path)
    return free is not None and free < LOW_SPACE_BYTES


def size_text(size: int | None) -> str:
    if size is None:
        return "free space unknown"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def disk_full_error(
    path: Path, output: Path, experiment: Path | str | None = None, *, free: int | None = None
) -> DiskFullError:
    """The one line a run stopped by a full disk ends with (``free``: bytes free when the
    disk was found full; read now if not given)."""
    if free is None:
        free = free_bytes(path)
    again = f"nni2ray run {experiment} " if experiment is not None else "nni2ray run EXPERIMENT "
    return DiskFullError(
        f"no space left on the device ({size_text(free)} free); the run stopped: "
        "every trial ended, the records written so far kept",
        file=path,
        hint=f"free some space, then continue it with `{again}--resume --output {output}`",
    )


#: Space a run keeps in its folder (``.nni2ray.reserve``) and gives back when the disk
#: fills up, so that ``experiment.json`` and the exports can still be written then.
RESERVE_FILE = ".nni2ray.reserve"
RESERVE_BYTES = 1 << 20


class SpaceReserve:
    """A file that holds :data:`RESERVE_BYTES` of the run folder's disk until released."""

    def __init__(self, output: Path, size: int = RESERVE_BYTES) -> None:
        self.path = output / RESERVE_FILE
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            try:
                os.posix_fallocate(fd, 0, size)
            except OSError as exc:
                if exc.errno in DISK_FULL_ERRNOS:
                    raise
                os.write(fd, bytes(size))  # a file system without fallocate
        except OSError:
            os.close(fd)
            self.release()
            raise
        os.close(fd)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
