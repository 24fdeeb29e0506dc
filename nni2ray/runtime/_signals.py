"""One answer to SIGINT, SIGTERM and SIGHUP, from the first instruction to the last.

The first signal asks the run to stop: before anything is on disk it ends the command at
once (:class:`RunInterrupted`); once the run owns an output folder it is only recorded, and
the driver stops at the next phase boundary (or Tune stops every trial), writes
``experiment.json`` with status STOPPED and the exports, and the command exits 128 + the
signal number (130, 143, 129). A second signal aborts at once: the abort callbacks end what
they can (trial process trees, the local Ray), one line is printed, and the process exits
with ``os._exit`` (no traceback, no Python clean-up).

No Ray import here: the command line installs the guard before it parses anything.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

#: The signals a run answers: Ctrl-C, ``kill``/``timeout``/Slurm/systemd, a closed terminal.
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def exit_code(signum: int) -> int:
    """The shell's convention for "ended by signal N": 128 + N."""
    return 128 + signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:  # pragma: no cover - only the SIGNALS are handled
        return f"signal {signum}"


class RunInterrupted(BaseException):
    """A signal arrived while nothing needed writing (BaseException: no ``except Exception``
    in between may swallow it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


class SignalGuard:
    """Handlers for :data:`SIGNALS`; ``raising`` says what the first signal does.

    ``raising=True`` (parsing, nothing on disk yet): raise :class:`RunInterrupted`.
    ``raising=False`` (the run owns a folder): record ``signum`` and call the stop
    callbacks; the driver looks at ``signum`` at each phase boundary.
    """

    def __init__(self, *, stream: Any = None) -> None:
        self.signum: int | None = None
        self.raising = True
        self._stream = stream
        self._previous: dict[int, Any] = {}
        self._on_stop: list[Callable[[], None]] = []
        self._on_abort: list[Callable[[], object]] = []

    @property
    def installed(self) -> bool:
        return bool(self._previous)

    def install(self) -> bool:
        """Install the handlers (main thread only); False where they cannot be."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for sig in SIGNALS:
            previous = signal.signal(sig, self._handle)
            self._previous.setdefault(sig, previous)
        return True

    def reinstall(self) -> None:
        """Take the signals back after a library replaced a handler (``ray.init`` sets its
        own SIGTERM handler, which exits without ending anything)."""
        if self._previous and threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def on_stop(self, callback: Callable[[], None]) -> None:
        self._on_stop.append(callback)
        if self.signum is not None:
            callback()

    def on_abort(self, callback: Callable[[], object]) -> None:
        self._on_abort.append(callback)

    def clear_callbacks(self) -> None:
        self._on_stop.clear()
        self._on_abort.clear()

    def _say(self, line: str) -> None:
        # After SIGHUP the terminal may be gone: a failed print must not end the handler.
        with contextlib.suppress(OSError, ValueError):
            print(line, file=self._stream or sys.stderr, flush=True)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal_name(signum)
        if self.signum is not None:
            self._say(f"nni2ray: {name} again: aborting now")
            for callback in self._on_abort:
                with contextlib.suppress(BaseException):
                    callback()
            os._exit(exit_code(signum))
        self.signum = signum
        if self.raising:
            self._say(f"nni2ray: {name} received: stopped")
            raise RunInterrupted(signum)
        self._say(
            f"nni2ray: {name} received: stopping, ending every running trial "
            f"({name} again to abort)"
        )
        for callback in self._on_stop:
            callback()
