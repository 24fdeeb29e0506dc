"""The output-folder lock between real processes: a live owner refuses, a dead one is
taken over with its pid named."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nni2ray.errors import OutputError
from nni2ray.results import LOCK_FILE, lock_output

REPO = Path(__file__).resolve().parents[2]

HOLDER = """
import sys, time
from pathlib import Path
from nni2ray.results import lock_output
lock = lock_output(Path(sys.argv[1]))
print("locked", flush=True)
time.sleep(60)
"""


def _holder(folder: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_live_owner_refuses_and_a_dead_one_is_taken_over(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    try:
        with pytest.raises(OutputError) as refused:
            lock_output(tmp_path)
        line = str(refused.value)
        assert f"in use by another nni2ray run (pid {holder.pid} on {socket.gethostname()})" in (
            line
        )
        assert "\n" not in line
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    lock = lock_output(tmp_path)  # the kernel dropped the dead owner's flock
    assert lock.taken_over == f"pid {holder.pid} on {socket.gethostname()}"
    assert f'"pid": {os.getpid()}' in (tmp_path / LOCK_FILE).read_text()
    lock.release()
    assert not (tmp_path / LOCK_FILE).exists()
    again = lock_output(tmp_path)  # a released lock is no stale lock: no message
    assert again.taken_over is None
    again.release()
