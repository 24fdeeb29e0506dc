"""A small real file system for full-disk tests: a tmpfs mounted where this process may
mount (root, as in CI); otherwise in a private mount namespace of a user namespace
(``unshare -rm``), entered with ``nsenter`` for each command and read through
``/proc/PID/root``. Where neither is allowed the test is skipped, saying why."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The file system's size.
SIZE = 16 << 20


class SmallDisk:
    """A tmpfs of SIZE bytes at ``mount``; ``wrap`` runs a command where it is mounted and
    ``seen`` is the path this process reads it through."""

    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.holder: subprocess.Popen[str] | None = None
        mount.mkdir()
        mount_here = ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount)]
        if os.environ.get("NNI2RAY_TEST_DISK_VIA") == "unshare":  # to test the other way
            mount_here = ["false"]
        done = subprocess.run(mount_here, capture_output=True, text=True)
        if done.returncode == 0:
            return
        if not (shutil.which("unshare") and shutil.which("nsenter")):
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}) and no unshare")
        self.holder = subprocess.Popen(
            ["unshare", "-rm", "sh", "-c"]
            + [f"mount -t tmpfs -o size={SIZE} tmpfs '{mount}' && echo ok && exec sleep 3600"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.holder.stdout is not None
        if self.holder.stdout.readline().strip() != "ok":
            reason = self.holder.communicate(timeout=10)[1].strip()
            pytest.skip(f"cannot mount a tmpfs, not even in a user namespace ({reason})")

    def wrap(self, command: list[str], cwd: Path) -> list[str]:
        if self.holder is None:
            return command
        pid = str(self.holder.pid)
        enter = ["nsenter", "-t", pid, "-U", "-m", "--preserve-credentials", f"--wd={cwd}"]
        return [*enter, "--", *command]

    def seen(self, path: Path) -> Path:
        if self.holder is None:
            return path
        return Path(f"/proc/{self.holder.pid}/root") / path.relative_to("/")

    def close(self) -> None:
        if self.holder is None:
            subprocess.run(["umount", "-l", str(self.mount)], check=False)
        else:
            self.holder.kill()
            self.holder.wait()


@contextlib.contextmanager
def small_disk_at(mount: Path) -> Iterator[SmallDisk]:
    disk = SmallDisk(mount)
    try:
        yield disk
    finally:
        disk.close()
