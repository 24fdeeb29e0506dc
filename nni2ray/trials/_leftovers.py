"""Find and end trial processes that outlived their trial, driver or worker (Linux ``/proc``)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def end_leftover_trials(output: Path, trial_id: str | None = None, grace_s: float = 3.0) -> int:
    """End trial processes a dead driver or worker left running for this output folder.

    Trial processes are found by the ``NNI_SYS_DIR`` in their environment (every trial and
    everything it starts inherits it), so no pid file is needed and a recycled pid is never
    hit. Each process group found gets SIGTERM, then SIGKILL after ``grace_s``. Linux only
    (``/proc``); elsewhere nothing is found.

    Returns:
        The number of processes that were ended.
    """
    prefix = str(output.resolve() / "trials") + os.sep
    if trial_id is not None:
        prefix += trial_id + os.sep
    found = trial_processes(prefix)
    groups = {pgid for _, pgid in found} - {os.getpgrp()}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pgid in groups:
            try:
                os.killpg(pgid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and trial_processes(prefix):
            time.sleep(0.1)
        if not trial_processes(prefix):
            break
    return len(found)


def trial_processes(sys_dir_prefix: str) -> list[tuple[int, int]]:
    """``(pid, pgid)`` of live processes whose ``NNI_SYS_DIR`` starts with the prefix."""
    wanted = b"NNI_SYS_DIR=" + os.fsencode(sys_dir_prefix)
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(") ", 1)[1][0]
            pgid = os.getpgid(int(entry))
        except (OSError, IndexError):
            continue
        if state != "Z" and any((var + b"/").startswith(wanted) for var in environ.split(b"\0")):
            found.append((int(entry), pgid))
    return found
