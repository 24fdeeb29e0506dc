"""A small process that outlives the driver and ends the run's trials if the driver dies.

The driver starts it in its own session (so a Ctrl-C to the terminal or the end of the
driver's process group does not reach it) with the read end of a pipe whose write end only
the driver holds. A driver that finishes writes ``done`` and closes the pipe: the
supervisor exits. A driver that dies (SIGKILL, a crash, an abort) closes the pipe without
``done``: the supervisor takes the folder's lock (so no new run starts in the folder while
it cleans), ends every trial process of the run for a few seconds (a Ray worker may still
start one while Ray goes down), and every process of the local Ray the driver started (they
carry the run's token in their environment, :data:`RUN_TOKEN_ENV`: Ray's agents were seen
alive long after a SIGKILLed driver), releases the lock and exits.

Run as ``python -m nni2ray.results._supervisor OUTPUT FD [TOKEN]``; standard library and
nni2ray's ``trials``/``results`` layers only (no Ray).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

#: How long the supervisor keeps ending trial processes after the driver died.
CLEAN_FOR_S = 5.0
#: Seconds the supervisor goes on cleaning while it still finds processes of the run.
CLEAN_AT_MOST_S = 15.0  # under the lock's SUPERVISOR_WAIT_S: a --resume waits for it

DONE = b"done\n"

#: Set by the driver in the environment of the local Ray it starts (and so of every Ray
#: process and trial): what the supervisor ends after the driver died.
RUN_TOKEN_ENV = "NNI2RAY_RUN_TOKEN"


class Supervisor:
    """The driver's handle: :meth:`release` when the run ended normally."""

    def __init__(self, process: subprocess.Popen[bytes], write_fd: int, token: str) -> None:
        self.process = process
        self._fd = write_fd
        self.token = token  # for RUN_TOKEN_ENV

    def note_processes(self, pids: set[int]) -> None:
        """Tell the supervisor about processes to end if the driver dies (Ray's agents:
        Ray ends the raylet with the driver, which orphans them with their environment
        overwritten by their title, so neither the token nor ancestry finds them then)."""
        if self._fd < 0 or not pids:
            return
        known = [f"{pid}:{start}" for pid in sorted(pids) if (start := _start_time(pid))]
        with contextlib.suppress(OSError):
            os.write(self._fd, ("pids " + " ".join(known) + "\n").encode())

    def release(self) -> None:
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):
            os.write(self._fd, DONE)
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = -1
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def start_supervisor(output: Path) -> Supervisor:
    """Start the supervisor for the run in ``output`` (see the module text)."""
    read_fd, write_fd = os.pipe()  # both non-inheritable: no Ray process holds the write end
    token = secrets.token_hex(8)
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])  # the folder holding nni2ray/
    env["PYTHONPATH"] = os.pathsep.join([package_root, *filter(None, [env.get("PYTHONPATH")])])
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "nni2ray.results._supervisor", str(output), str(read_fd)]
            + [token],
            pass_fds=(read_fd,),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        os.close(read_fd)
    return Supervisor(process, write_fd, token)


def end_token_processes(token: str) -> int:
    """SIGKILL every live process with ``RUN_TOKEN_ENV=token`` in its environment, and
    their descendants: Ray's agents overwrite their environment with their process title
    (``ray::DashboardAgent``), so they are found as the raylet's children, before it dies."""
    from nni2ray.trials import descendants

    wanted = f"{RUN_TOKEN_ENV}={token}".encode()
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in environ:
            found.add(int(entry))
    ended = 0
    for pid in found | (descendants(found) - {me}):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            ended += 1
    return ended


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (tells a reused pid apart)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _wait_for_driver(fd: int, noted: dict[int, str]) -> bool:
    """Block until the driver closes the pipe; True if it said ``done``. Processes the
    driver noted (``pids PID:START ...`` lines) are added to ``noted``."""
    data = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except InterruptedError:  # pragma: no cover - PEP 475 retries
            continue
        except OSError:
            return False
        if not chunk:
            return data.endswith(DONE)
        data += chunk
        *lines, data = data.split(b"\n")
        for line in lines:
            if line.startswith(b"pids "):
                for item in line.split()[1:]:
                    pid, _, start = item.decode().partition(":")
                    noted[int(pid)] = start
            elif line == DONE.strip():
                data = DONE


def end_noted_processes(noted: dict[int, str]) -> int:
    """SIGKILL the noted processes that still run (the same process: same start time)."""
    ended = 0
    for pid, start in noted.items():
        if _start_time(pid) == start:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                ended += 1
    return ended


def main(argv: list[str]) -> int:
    output, fd = Path(argv[0]), int(argv[1])
    token = argv[2] if len(argv) > 2 else None
    for sig in (signal.SIGINT, signal.SIGHUP):  # a closed terminal must not stop the clean-up
        signal.signal(sig, signal.SIG_IGN)
    noted: dict[int, str] = {}
    if _wait_for_driver(fd, noted):
        return 0
    end_noted_processes(noted)  # first: nothing else finds them
    from nni2ray.errors import OutputError
    from nni2ray.results._lock import lock_output
    from nni2ray.trials import end_leftover_trials

    try:
        lock = lock_output(output, role="supervisor")
    except OutputError:  # another run owns the folder now: its trials are not ours to end
        return 0
    try:
        start = time.monotonic()
        while True:
            found = end_leftover_trials(output, grace_s=1.0)
            if token:
                found += end_token_processes(token)  # the local Ray the driver started
            found += end_noted_processes(noted)
            waited = time.monotonic() - start
            # At least CLEAN_FOR_S; longer while processes still turn up (a loaded machine
            # may start one of Ray's agents late), up to CLEAN_AT_MOST_S.
            if waited >= CLEAN_AT_MOST_S or (waited >= CLEAN_FOR_S and not found):
                break
            time.sleep(0.25)
    finally:
        lock.release()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
