"""The launcher's side of the pipe to ``nni2ray run``/``check`` (JSON lines, stdlib only).

nni2ray starts the launcher script with ``NNI2RAY_LAUNCHER=<read fd>,<write fd>``. The script's
``Experiment.start()`` sends the config it built; nni2ray answers ``started`` (with the run
folder), ``check_done`` (``nni2ray check``: the script ends here) or ``error``, and later
``ended`` with the final status.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

ENV = "NNI2RAY_LAUNCHER"


class Channel:
    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._reader = os.fdopen(read_fd, "r", encoding="utf-8")
        self._writer = os.fdopen(write_fd, "w", encoding="utf-8")
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._inbox: list[dict[str, Any]] = []
        self.closed = False
        thread = threading.Thread(target=self._read, name="nni2ray-launcher", daemon=True)
        thread.start()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._writer.write(json.dumps(message) + "\n")
            self._writer.flush()

    def _read(self) -> None:
        for line in self._reader:
            message = json.loads(line)
            if message.get("op") == "check_done":
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(0)  # `nni2ray check`: the script stops where the run would start
            with self._cond:
                self._inbox.append(message)
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_for(
        self, experiment: str, ops: tuple[str, ...], timeout: float | None = None
    ) -> dict[str, Any] | None:
        """The first message for ``experiment`` whose op is in ``ops`` (kept in the inbox)."""
        with self._cond:
            while True:
                for message in self._inbox:
                    if message.get("experiment") == experiment and message.get("op") in ops:
                        return dict(message)
                if self.closed:
                    return None
                if not self._cond.wait(timeout):
                    return None

    def latest(self, experiment: str, op: str) -> dict[str, Any] | None:
        with self._cond:
            for message in reversed(self._inbox):
                if message.get("experiment") == experiment and message.get("op") == op:
                    return dict(message)
        return None


_channel: Channel | None = None


def channel() -> Channel:
    global _channel
    if _channel is None:
        value = os.environ.get(ENV)
        if not value:
            raise RuntimeError(
                "this is nni2ray's stand-in nni.experiment: run the script with "
                "`nni2ray run <script.py>` (or install the real nni)"
            )
        read_fd, write_fd = (int(part) for part in value.split(","))
        _channel = Channel(read_fd, write_fd)
    return _channel
