"""One run per output folder: a lock file with the owner's pid and host.

The lock is an ``flock`` on ``<output>/.nni2ray.lock``, held for the whole run by the
driver. The kernel drops it when the driver dies (even by SIGKILL), so a lock nobody holds
is stale by definition: the next run takes it over and says so. The file's text (pid, host,
time) only names the owner in messages. On a file system without ``flock`` support the
lock is best effort: the pid check below still refuses a live run on the same host.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nni2ray.errors import OutputError

#: The lock file's name inside an output folder.
LOCK_FILE = ".nni2ray.lock"


@dataclass
class FolderLock:
    """A held lock; :meth:`release` (or the process's end) gives it up.

    Attributes:
        taken_over: the owner of a stale lock this one replaced ("pid N on HOST"), if any.
    """

    path: Path
    fd: int
    taken_over: str | None = None

    def release(self) -> None:
        if self.fd < 0:
            return
        with contextlib.suppress(OSError):
            if _owner(self.path).get("pid") == os.getpid():
                self.path.unlink()
        with contextlib.suppress(OSError):
            os.close(self.fd)  # closing drops the flock
        self.fd = -1


#: How long a run waits for a dead run's supervisor that still ends that run's trials.
SUPERVISOR_WAIT_S = 20.0


def lock_output(output: Path, *, role: str = "run") -> FolderLock:
    """Take the output folder for this process.

    ``role`` is written into the lock: a run waits (up to :data:`SUPERVISOR_WAIT_S`) for a
    lock held by the supervisor of a dead run, which ends that run's trials and lets go.

    Raises:
        OutputError: another live run holds the folder (its pid and host are named).
    """
    path = output / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise OutputError(
            f"cannot create the lock file ({exc.strerror or exc})",
            file=path,
            hint="choose a writable --output folder",
        ) from None
    try:
        _flock(fd, path)
    except BlockingIOError:
        os.close(fd)
        raise _in_use(output, _owner(path)) from None
    except OSError:  # no flock on this file system: fall back on the pid check
        if _alive_here(_owner(path)):
            os.close(fd)
            raise _in_use(output, _owner(path)) from None
    owner = _owner(path)
    taken_over = None
    if owner.get("pid") not in (None, os.getpid()):
        taken_over = _describe(owner)
    owner_text = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
    text = json.dumps(dict(owner_text, role=role))
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode() + b"\n", 0)
    return FolderLock(path, fd, taken_over)


def _flock(fd: int, path: Path) -> None:
    """Take the flock; wait while a dead run's supervisor holds it (a few seconds)."""
    deadline = time.monotonic() + SUPERVISOR_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            owner = _owner(path)
            # A supervisor, or one taking over from a dead owner (file not rewritten yet).
            cleaning = owner.get("role") == "supervisor" or (
                owner.get("host") == socket.gethostname() and not _alive_here(owner)
            )
            if not cleaning or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def _owner(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(owner: dict[str, Any]) -> str:
    return f"pid {owner.get('pid', '?')} on {owner.get('host', '?')}"


def _alive_here(owner: dict[str, Any]) -> bool:
    pid = owner.get("pid")
    if owner.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _in_use(output: Path, owner: dict[str, Any]) -> OutputError:
    return OutputError(
        f"output folder is in use by another nni2ray run ({_describe(owner)})",
        file=output,
        hint="wait for that run to end or stop it (Ctrl-C, kill), or choose another --output",
    )
