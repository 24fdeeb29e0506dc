"""One trial command as an OS process: start it, read its metric channel, end its whole tree."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nni2ray.trials._shim.nni import _wire
from nni2ray.trials._warm import Template, WarmChild, WarmCommand

#: Seconds between SIGTERM and SIGKILL when a trial's process group is ended.
KILL_GRACE_S = 3.0


@dataclass(frozen=True)
class LaunchSpec:
    """What to start: ``bash -c command`` in ``cwd`` with ``env``; logs go to ``log_dir``."""

    command: str
    cwd: Path
    env: dict[str, str]
    log_dir: Path


class TrialProcess:
    """A trial command in its own session, its stdout/stderr in files, metrics on a pipe.

    The trial runs in a new session so that ending it can reach every process it started
    (``killpg``), not only the shell.
    """

    def __init__(self, spec: LaunchSpec, warm: tuple[Template, WarmCommand] | None = None) -> None:
        read_fd, write_fd = os.pipe()
        env = dict(spec.env)
        env[_wire.METRIC_FD_ENV] = str(write_fd)
        spec.log_dir.mkdir(parents=True, exist_ok=True)
        stdout = open(spec.log_dir / "trial.stdout", "ab")  # noqa: SIM115 - closed below
        stderr = open(spec.log_dir / "trial.stderr", "ab")  # noqa: SIM115
        try:
            self._popen: subprocess.Popen[bytes] | WarmChild
            if warm is not None:
                template, command = warm
                env.update(command.env)
                fds = (stdout.fileno(), stderr.fileno(), write_fd)
                self._popen = WarmChild(template, template.launch(command, spec.cwd, env, fds))
            else:
                self._popen = subprocess.Popen(
                    ["/bin/bash", "-c", spec.command],
                    cwd=spec.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    pass_fds=(write_fd,),
                    start_new_session=True,
                )
        finally:
            os.close(write_fd)
            stdout.close()
            stderr.close()
        self.warm = warm is not None
        self.pid = self._popen.pid
        self.started_at = time.time()
        self._read_fd: int | None = read_fd
        self._buffer = b""
        self._messages: deque[dict[str, Any]] = deque()
        self.protocol_errors: list[str] = []

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def next_message(self, timeout: float) -> dict[str, Any] | None:
        """Wait up to ``timeout`` seconds for the next metric message; None if none came.

        Returns early (None) once the process has exited and the channel is drained.
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        while not self._messages:
            remaining = deadline - time.monotonic()
            if self._read_fd is None:
                self._wait_exit(remaining)
                return None
            if remaining <= 0:
                return None
            # Wake up at least every 0.2 s to notice an exit whose children keep the pipe open.
            ready, _, _ = select.select([self._read_fd], [], [], min(remaining, 0.2))
            if ready:
                self._read_available()
            elif self._popen.poll() is not None:
                self._drain_after_exit()
        return self._messages.popleft()

    def _wait_exit(self, timeout: float) -> None:
        # The channel is closed but the process may still run: wait for it, not for data.
        if timeout > 0:
            try:
                self._popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass

    def finished(self) -> bool:
        """True once the process has exited and every message has been taken."""
        return self._popen.poll() is not None and self._read_fd is None and not self._messages

    def _read_available(self) -> None:
        assert self._read_fd is not None
        chunk = os.read(self._read_fd, 1 << 16)
        if not chunk:
            self._close_channel()
            return
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if line.strip():
                self._decode(line)

    def _decode(self, line: bytes) -> None:
        try:
            self._messages.append(_wire.decode_message(line))
        except ValueError as exc:  # a broken line must not end the trial's bookkeeping
            self.protocol_errors.append(str(exc))

    def _drain_after_exit(self) -> None:
        # The shell has exited: take what is already in the pipe without blocking, then
        # stop listening even if an orphaned child still holds the write end.
        while self._read_fd is not None:
            ready, _, _ = select.select([self._read_fd], [], [], 0)
            if not ready:
                break
            self._read_available()
        self._close_channel()

    def _close_channel(self) -> None:
        if self._read_fd is not None:
            os.close(self._read_fd)
            self._read_fd = None

    def kill_tree(self, grace: float = KILL_GRACE_S) -> None:
        """End the trial's whole process group: SIGTERM, then SIGKILL after ``grace``."""
        pgid = self._popen.pid  # the session leader's pid is the group id
        if _signal_group(pgid, signal.SIGTERM) or _signal_pid(pgid, signal.SIGTERM):
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _group_alive(pgid):
                self._popen.poll()
                time.sleep(0.02)
            if not _signal_group(pgid, signal.SIGKILL):
                _signal_pid(pgid, signal.SIGKILL)
        try:
            self._popen.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - the kernel reaps SIGKILLed children
            pass
        self._close_channel()


def _signal_group(pgid: int, sig: signal.Signals) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal_pid(pid: int, sig: signal.Signals) -> bool:
    # A forked trial may not have made its own session yet: signal the process itself.
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover
        return True
    return True
