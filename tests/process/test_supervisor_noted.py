"""The supervisor ends the processes the driver noted when the driver dies: Ray's agents,
whose environment and ancestry are gone by then, are found no other way."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from nni2ray.results import start_supervisor


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except OSError:
        return False
    return state != "Z"


def test_noted_processes_are_ended_when_the_driver_goes_away(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    noted = subprocess.Popen(["sleep", "60"], start_new_session=True)
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)
    supervisor = start_supervisor(output)
    try:
        supervisor.note_processes({noted.pid})
        # The driver dies: its end of the pipe closes without "done".
        os.close(supervisor._fd)
        supervisor._fd = -1
        supervisor.process.wait(timeout=30)
        deadline = time.monotonic() + 5
        while _alive(noted.pid) and time.monotonic() < deadline:
            noted.poll()
            time.sleep(0.05)
        assert noted.poll() is not None, "the noted process outlived the driver"
        assert other.poll() is None, "a process the driver did not note was ended"
    finally:
        for proc in (noted, other):
            proc.kill()
            proc.wait()


def test_a_released_supervisor_ends_nothing(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    noted = subprocess.Popen(["sleep", "60"], start_new_session=True)
    supervisor = start_supervisor(output)
    try:
        supervisor.note_processes({noted.pid})
        supervisor.release()  # the run ended normally
        assert supervisor.process.returncode == 0
        assert noted.poll() is None
    finally:
        noted.kill()
        noted.wait()
