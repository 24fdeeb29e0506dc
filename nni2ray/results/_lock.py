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


def lock_output(output: Path) -> FolderLock:
    """Take the output folder for this process.

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
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
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
    text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode() + b"\n", 0)
    return FolderLock(path, fd, taken_over)


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
