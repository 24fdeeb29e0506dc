"""The per-trial reaper: the process that waits for one trial and ends what it leaves behind
(standard library only; imported by the package, run as a script for cold trials, and
loaded by the warm-start template, which forks one per trial).

On Linux the reaper marks itself a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``):
every process below it whose parent exits is re-parented to the reaper instead of init,
however it got there (a double fork, ``setsid``, an environment cleared with ``env -i``).
So the whole tree a trial started stays below the reaper, where the leftover search finds
it by ancestry (the reaper leads the trial's recorded session), and when the trial's own
process ends, the reaper ends every process still below it (SIGTERM, SIGKILL after
:data:`GRACE_S`), reaps them, and exits with the trial's status (an exit code, or the same
signal). A signal to the reaper (SIGTERM, SIGINT, SIGHUP: the trial being ended) is passed
on to the trial and to everything below; the reaper stays until they are gone.

Elsewhere (no ``prctl``) the reaper only waits for the trial and passes its status on:
nni2ray's other searches (session, ``NNI_SYS_DIR``, ancestry) are what remains there.

Run as ``python -I -S _reaper.py PROGRAM ARG...`` (a cold trial: the program is started
with ``posix_spawn`` and the signals Python ignores restored to their defaults).
"""

from __future__ import annotations

import os
import signal
import sys
import time

# Only what starts fast: a cold trial starts one reaper (typing, contextlib and collections
# would add their import time to every trial).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn

#: Seconds the processes a trial left get between SIGTERM and SIGKILL once it has ended.
GRACE_S = 1.0

_PR_SET_CHILD_SUBREAPER = 36
#: Signals that mean "end this trial": passed on to the trial and everything below.
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
#: Python starts with these ignored; a trial program must start with the defaults.
_RESTORED = (signal.SIGPIPE, signal.SIGXFSZ, *ENDING_SIGNALS)

METRIC_FD_ENV = "NNI2RAY_METRIC_FD"

_prctl: Callable[..., int] | None = None


def prepare() -> bool:
    """Load ``prctl`` from the C library (once: a template does it before it forks the
    reapers); False where there is none."""
    global _prctl
    if _prctl is None and sys.platform.startswith("linux"):
        try:
            import ctypes

            _prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            return False
    return _prctl is not None


def set_child_subreaper() -> bool:
    """Make this process a child subreaper (Linux); False where that is not possible."""
    return prepare() and _prctl is not None and _prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def children(pid: int) -> set[int]:
    """The live direct children of ``pid`` (its threads' ``/proc`` children lists, or a
    scan of ``/proc`` where the kernel has no such list); empty where there is no ``/proc``."""
    found: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        for task in tasks:
            with open(f"/proc/{pid}/task/{task}/children") as listing:
                found.update(int(child) for child in listing.read().split())
        return found
    except FileNotFoundError:
        pass
    except OSError:
        return found
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return found
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if int(stat.read().rsplit(") ", 1)[1].split()[1]) == pid:
                    found.add(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


def below(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, their children, ...)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def reap(keep: int | None = None) -> int | None:
    """Reap every exited child without waiting; returns ``keep``'s wait status if it was
    among them (the reaper's own trial), else None."""
    status = None
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if pid == 0:
            return status
        if pid == keep:
            status = code


def end_below(grace_s: float = GRACE_S) -> None:
    """End and reap every process below this one: SIGTERM, SIGKILL after ``grace_s``.
    Processes re-parented to this one while it works (their parent was ended) are ended too."""
    me = os.getpid()
    deadline = time.monotonic() + grace_s
    signalled: set[int] = set()
    while True:
        reap()
        left = below(me)
        if not left:
            return
        late = time.monotonic() >= deadline
        for pid in left:
            if late or pid not in signalled:
                try:
                    os.kill(pid, signal.SIGKILL if late else signal.SIGTERM)
                    if not late:
                        os.kill(pid, signal.SIGCONT)  # a stopped process must see SIGTERM
                except OSError:
                    pass
        signalled |= left
        time.sleep(0.02)


def exit_like(status: int) -> NoReturn:
    """Exit as a process that ended with wait status ``status`` did: its code, or killed by
    its signal (without a core file)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        except (ImportError, OSError, ValueError):
            pass
        try:
            signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
            os.kill(os.getpid(), sig)
        except (OSError, ValueError):
            pass
        os._exit(128 + sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


class Reaper:
    """The reaper's signal handling around one trial process (see the module text)."""

    def __init__(self) -> None:
        self.child = 0
        self.saved = {sig: signal.getsignal(sig) for sig in ENDING_SIGNALS}
        for sig in ENDING_SIGNALS:
            signal.signal(sig, self._pass_on)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])

    def restore(self) -> None:
        """In the forked trial: the signal handlers the process had before."""
        for sig, handler in self.saved.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

    def _pass_on(self, signum: int, frame: object) -> None:
        # The trial is being ended: pass the signal on to it and to everything below.
        targets = below(os.getpid())
        if self.child:
            targets.add(self.child)
        for pid in targets:
            try:
                os.kill(pid, signum)
            except OSError:
                pass

    def wait(self, child: int, grace_s: float = GRACE_S) -> NoReturn:
        """Wait for ``child`` (reaping the adopted processes that exit meanwhile), end what
        is left below, and exit with the child's status."""
        self.child = child
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:  # pragma: no cover - the child is ours until reaped
                status = 1 << 8
                break
            if pid == child:
                break
        self.child = 0  # reaped: its pid may be another process's from now on
        end_below(grace_s)
        exit_like(status)


def run_program(argv: list[str]) -> NoReturn:
    """A cold trial: start ``argv`` below this process and reap for it."""
    set_child_subreaper()
    reaper = Reaper()
    try:
        child = os.posix_spawnp(argv[0], argv, os.environ, setsigdef=_RESTORED)
    except OSError as exc:
        print(f"nni2ray: cannot start {argv[0]}: {exc}", file=sys.stderr)
        os._exit(127)
    # The metric pipe is the trial's: its reader must see the end when the trial's
    # processes have closed it, not when the reaper exits.
    try:
        os.close(int(os.environ.get(METRIC_FD_ENV, "")))
    except (OSError, ValueError):
        pass
    reaper.wait(child)


if __name__ == "__main__":
    run_program(sys.argv[1:])
