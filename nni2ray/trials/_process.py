"""One trial command as an OS process: start it, read its metric channel, end its whole tree."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nni2ray.trials._leftovers import end_processes, record_session
from nni2ray.trials._shim.nni import _wire
from nni2ray.trials._warm import Template, WarmChild, WarmCommand

REAPER_SCRIPT = Path(__file__).resolve().parent / "_reaper.py"

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
    (``killpg``), not only the shell. On Linux the session is led by the trial's reaper
    (``_reaper``, a child subreaper), and ``pid`` is the reaper's: whatever the trial's
    processes do to detach, they stay below it, and it ends them when the trial ends.
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
                    [*_reaper_argv(), "/bin/bash", "-c", spec.command],
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
        self._trial_dir = spec.log_dir
        # The trial leads its own session: on Linux its reaper (``_reaper``) does.
        record_session(spec.log_dir, self.pid)
        self.started_at = time.time()
        self._messages: deque[dict[str, Any]] = deque()
        self.protocol_errors: list[str] = []
        self._arrived = threading.Condition()
        self._channel_open = True
        self._exited = False  # set once the process is known to have exited
        # A thread drains the pipe as fast as the trial writes, whatever Tune's pace: the
        # trial never blocks on a full pipe, and its last messages are in memory when it
        # exits or is ended (maxTrialDuration).
        self._reader = threading.Thread(
            target=self._read_channel, args=(read_fd,), name=f"nni2ray-metrics-{self.pid}"
        )
        self._reader.daemon = True
        self._reader.start()

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def next_message(self, timeout: float) -> dict[str, Any] | None:
        """Wait up to ``timeout`` seconds for the next metric message; None if none came.

        Returns early (None) once the process has exited and the channel is drained.
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._arrived:
            while not self._messages:
                remaining = deadline - time.monotonic()
                if not self._channel_open:
                    break
                if remaining <= 0:
                    return None
                # Wake up at least every 0.2 s to notice an exit whose children keep the
                # pipe open.
                self._arrived.wait(min(remaining, 0.2))
                if not self._messages and self._popen.poll() is not None:
                    self._exited = True  # the reader drains what is left, then stops
            if self._messages:
                return self._messages.popleft()
        self._wait_exit(deadline - time.monotonic())
        return None

    def take_all(self) -> list[dict[str, Any]]:
        """Every message already received, in order (without waiting)."""
        with self._arrived:
            taken = list(self._messages)
            self._messages.clear()
        return taken

    def _wait_exit(self, timeout: float) -> None:
        # The channel is closed but the process may still run: wait for it, not for data.
        if timeout > 0:
            try:
                self._popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass

    def finished(self) -> bool:
        """True once the process has exited and every message has been taken."""
        if self._popen.poll() is None:
            return False
        self._exited = True
        with self._arrived:
            return not self._channel_open and not self._messages

    def _read_channel(self, fd: int) -> None:
        """The reader thread: split the byte stream into lines in linear time, decode each,
        and refuse (as a protocol error) a line longer than the message limit without
        keeping it."""
        parts: list[bytes] = []  # the unfinished line, in pieces (no copy per read)
        size = 0
        skipping = False  # inside an oversized line: drop bytes up to its newline
        try:
            while True:
                ready, _, _ = select.select([fd], [], [], 0.2)
                if not ready:
                    if self._exited:  # exited and nothing more in the pipe right now
                        return
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return
                start = 0
                while (end := chunk.find(b"\n", start)) >= 0:
                    piece = chunk[start:end]
                    start = end + 1
                    if skipping:
                        skipping = False
                        continue
                    line = b"".join([*parts, piece]) if parts else piece
                    parts, size = [], 0
                    if line.strip():
                        self._decode(line)
                rest = chunk[start:]
                if rest and not skipping:
                    parts.append(rest)
                    size += len(rest)
                    if size > _wire.MAX_MESSAGE_BYTES:
                        self._error(
                            f"metric message larger than {_wire.MAX_MESSAGE_BYTES} bytes ignored"
                        )
                        parts, size, skipping = [], 0, True
        except OSError as exc:  # pragma: no cover - the fd is ours until this thread ends
            self._error(f"metric channel failed: {exc}")
        finally:
            os.close(fd)
            with self._arrived:
                self._channel_open = False
                self._arrived.notify_all()

    def _decode(self, line: bytes) -> None:
        try:
            message = _wire.decode_message(line)
        except ValueError as exc:  # a broken line must not end the trial's bookkeeping
            self._error(str(exc))
            return
        with self._arrived:
            self._messages.append(message)
            self._arrived.notify_all()

    def _error(self, text: str) -> None:
        with self._arrived:
            self.protocol_errors.append(text)

    def _close_channel(self) -> None:
        self._exited = True
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5)

    def kill_tree(self, grace: float = KILL_GRACE_S) -> None:
        """End the trial's whole process group: SIGTERM, then SIGKILL after ``grace``."""
        pgid = self._popen.pid  # the session leader's pid is the group id
        # Everything the trial started, also outside its group: setsid daemons (by their
        # NNI_SYS_DIR), double forks and forked children (by the session), descendants.
        end_processes(str(self._trial_dir) + os.sep, {pgid}, grace)
        # The pid alone only while it is not reaped (a reaped pid may be another process's).
        if _signal_group(pgid, signal.SIGTERM) or (
            self._popen.poll() is None and _signal_pid(pgid, signal.SIGTERM)
        ):
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _group_alive(pgid):
                self._popen.poll()
                time.sleep(0.02)
            if not _signal_group(pgid, signal.SIGKILL) and self._popen.poll() is None:
                _signal_pid(pgid, signal.SIGKILL)
        try:
            self._popen.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - the kernel reaps SIGKILLed children
            pass
        self._close_channel()


def _reaper_argv() -> list[str]:
    """The per-trial reaper that starts a cold trial's command and ends what the trial
    leaves behind (see ``_reaper``); on Linux only, where a process can be a subreaper."""
    if not sys.platform.startswith("linux"):
        return []
    return [sys.executable, "-I", "-S", str(REAPER_SCRIPT)]


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
