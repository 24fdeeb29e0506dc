"""Start-up trace: ``NNI2RAY_TRACE_STARTUP=1 nni2ray run ...`` prints, on stderr, when each
step from the command's start to the first trial happened.

Each line reads ``nni2ray: startup <seconds> [<wall clock>] <step>``: the seconds since the
kernel started this process (the interpreter's own start-up included), the wall-clock time
to line steps of several processes up. With a file path instead of ``1``, every process
that sees the variable (the driver, and the Ray workers of a local run) appends its lines to
that file instead, as ``<unix time> <pid> <step>``; ``benchmarks/startup_breakdown.py``
reads it. Standard library only; nothing happens unless the variable is set.
"""

from __future__ import annotations

import os
import sys
import threading
import time

__all__ = ["ENV", "mark", "process_started", "tracing"]

#: ``1`` prints the start-up trace on stderr; a file path appends it to that file.
ENV = "NNI2RAY_TRACE_STARTUP"

_seen: set[str] = set()
_started: list[float] = []
_lock = threading.Lock()  # the driver marks from two threads: lines stay in time order


def tracing() -> bool:
    return os.environ.get(ENV, "") not in ("", "0")


def process_started() -> float:
    """Wall-clock time at which this process started (Linux: from /proc; elsewhere: now)."""
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        age = uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")  # stat field 22: start
        return time.time() - age
    except (OSError, ValueError, IndexError):
        return time.time()


def mark(step: str, *, at: float | None = None) -> None:
    """Trace ``step`` (the first time this process reaches it), at ``at`` or now."""
    target = os.environ.get(ENV, "")
    if target in ("", "0") or step in _seen:
        return
    with _lock:
        _mark(step, target, at)


def _mark(step: str, target: str, at: float | None) -> None:
    if step in _seen:
        return
    _seen.add(step)
    now = time.time() if at is None else at
    if target != "1":
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(f"{now:.6f} {os.getpid()} {step}\n")
        return
    if not _started:
        _started.append(process_started())
    stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
    line = f"nni2ray: startup {now - _started[0]:7.3f}s [{stamp}] {step}"
    print(line, file=sys.stderr, flush=True)
