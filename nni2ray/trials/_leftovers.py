"""Find and end trial processes that outlived their trial, driver or worker (Linux ``/proc``).

A trial's processes are found three ways, so that none depends on what a process can
change about itself:

* its **session**: every trial starts as a session leader (cold or forked warm) and its
  session id is written to ``trials/<id>/session`` at start; children, double forks and
  forked (not exec'd) Python children stay in it;
* its **environment**: ``NNI_SYS_DIR`` under ``<output>/trials/``, inherited at every exec,
  also by a daemon that left the session with ``setsid``;
* its **ancestry**: any live descendant of a process found above (a ``setsid`` daemon
  that cleared its environment, while its parent lives).

A daemon that left the session, cleared its environment and whose parent exited is still
found by its ancestry on Linux: every trial's session leader is its reaper (``_reaper``), a
child subreaper, so such a daemon is re-parented to the reaper, not to init. The reaper ends
it when the trial ends; the searches here find it below the reaper when the reaper itself
is what is being ended (a dead worker or driver). Where a process cannot be a subreaper
(not Linux), such a daemon is not found.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

#: The file in a trial's folder that holds the session id of its process tree.
SESSION_FILE = "session"

#: The warm-start template's ``NNI_SYS_DIR``, next to the trials' folders: the run's leftover
#: search finds it, a single trial's does not.
TEMPLATE_DIR = ".template"


def record_session(trial_dir: Path, sid: int) -> None:
    """Write the trial's session id (its leader's pid) next to its logs."""
    with contextlib.suppress(OSError):
        (trial_dir / SESSION_FILE).write_text(f"{sid}\n")


def recorded_sessions(output: Path, trial_id: str | None = None) -> set[int]:
    """Session ids recorded under ``output/trials`` (one trial's, or all)."""
    pattern = f"{trial_id}/{SESSION_FILE}" if trial_id else f"*/{SESSION_FILE}"
    sessions = set()
    for path in (output / "trials").glob(pattern):
        with contextlib.suppress(OSError, ValueError):
            sessions.add(int(path.read_text().strip()))
    return sessions


def end_leftover_trials(output: Path, trial_id: str | None = None, grace_s: float = 3.0) -> int:
    """End trial processes a dead driver or worker left running for this output folder.

    Each process found (see the module text) gets SIGTERM, its group too, then SIGKILL
    after ``grace_s``. Linux only (``/proc``); elsewhere nothing is found.

    Returns:
        The number of processes that were ended.
    """
    prefix = str(output.resolve() / "trials") + os.sep
    if trial_id is not None:
        prefix += trial_id + os.sep
    sessions = recorded_sessions(output.resolve(), trial_id)
    return end_processes(prefix, sessions, grace_s)


def end_warm_templates(output: Path, grace_s: float = 1.0) -> int:
    """End the run's warm-start templates on this machine (and anything forked from them
    that still runs): at the end of a run, when no trial of it runs any more.

    Returns:
        The number of processes that were ended.
    """
    return end_processes(str(output.resolve() / "trials" / TEMPLATE_DIR) + os.sep, set(), grace_s)


def end_processes(sys_dir_prefix: str, sessions: set[int], grace_s: float) -> int:
    """End what :func:`trial_processes` finds; returns how many processes were found."""
    found = trial_processes(sys_dir_prefix, sessions)
    if not found:
        return 0
    mine = os.getpgrp()
    seen = {pid for pid, _ in found}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        # Stop the whole set first (no process can start a new one while it is stopped
        # being ended), then signal every pid and group found.
        for pid, pgid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
            if pgid != mine:
                with contextlib.suppress(OSError):
                    os.killpg(pgid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            found = trial_processes(sys_dir_prefix, sessions)
            if not found:
                break
            time.sleep(0.05)
        found = trial_processes(sys_dir_prefix, sessions)
        seen |= {pid for pid, _ in found}
        if not found:
            break
    return len(seen)


def _stat(pid: str) -> tuple[str, int, int, int] | None:
    """``(state, ppid, pgid, sid)`` of a process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1]), int(fields[2]), int(fields[3])


def trial_processes(sys_dir_prefix: str, sessions: set[int] | None = None) -> list[tuple[int, int]]:
    """``(pid, pgid)`` of live processes of the trials: in one of ``sessions``, with an
    ``NNI_SYS_DIR`` under the prefix, or descended from such a process."""
    wanted = b"NNI_SYS_DIR=" + os.fsencode(sys_dir_prefix)
    sessions = sessions or set()
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []
    me = os.getpid()
    table: dict[int, tuple[int, int]] = {}  # pid -> (ppid, pgid)
    matched: set[int] = set()
    for entry in entries:
        pid = int(entry)
        stat = _stat(entry)
        if pid == me or stat is None or stat[0] in "ZX":
            continue
        state, ppid, pgid, sid = stat
        table[pid] = (ppid, pgid)
        if sid in sessions:
            matched.add(pid)
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if any((var + b"/").startswith(wanted) for var in environ.split(b"\0")):
            matched.add(pid)
    matched |= _below({pid: ppid for pid, (ppid, _) in table.items()}, matched)
    return [(pid, table[pid][1]) for pid in sorted(matched)]


def descendants(roots: set[int]) -> set[int]:
    """Live descendants of the processes ``roots`` (the roots not included), from
    ``/proc``; empty where there is no ``/proc``."""
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return set()
    parents = {}
    for entry in entries:
        stat = _stat(entry)
        if stat is not None and stat[0] not in "ZX":
            parents[int(entry)] = stat[1]
    return _below(parents, roots)


def _below(parents: dict[int, int], roots: set[int]) -> set[int]:
    """The pids of ``parents`` (pid -> ppid) descended from one of ``roots``, roots left out."""
    found: set[int] = set()
    for pid in parents:
        chain: list[int] = []
        parent = pid
        while parent in parents and parent not in roots and parent not in found:
            chain.append(parent)
            parent = parents[parent]
            if len(chain) > 64:
                break
        if parent in roots or parent in found:
            found.update(chain)
    return found
