"""One launcher script as a child process and the experiments it asks for."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from nni2ray.errors import ExperimentNotFoundError, Nni2RayError
from nni2ray.trials import SHIM_DIR

#: How long a launcher may keep running once no experiment is running (a script that
#: polls forever or sleeps after its last experiment ended is ended after this).
DEFAULT_GRACE_S = 60.0

_CHANNEL_ENV = "NNI2RAY_LAUNCHER"


def is_launcher(path: Path | str) -> bool:
    """True for a Python file (``nni2ray run launcher.py``)."""
    target = Path(path)
    return target.suffix == ".py" and target.is_file()


def launcher_of(path: Path | str, config_name: str | None = None) -> Path | None:
    """The launcher to run for ``path``: the file itself, or the one Python launcher of a
    folder that holds no NNI config; None when ``path`` is a config or a config's folder."""
    target = Path(path)
    if is_launcher(target):
        return target
    if config_name is not None or not target.is_dir():
        return None
    from nni2ray.experiment import find_config, find_launchers

    try:
        find_config(target)
    except ExperimentNotFoundError:
        launchers = find_launchers(target)
        return launchers[0] if len(launchers) == 1 else None
    return None


@dataclass
class StartRequest:
    """An ``Experiment.start()``/``run()`` of the script: its config and where it ran."""

    experiment: str
    config: dict[str, Any]
    base_dir: Path
    detach: bool
    stop_event: threading.Event = field(default_factory=threading.Event)
    _session: LauncherSession | None = None

    def started(self, output: Path) -> None:
        """Tell the script the run has begun and where its records are."""
        self._reply({"op": "started", "output": str(output)})

    def ended(self, status: str) -> None:
        """Tell the script the run is over: ``DONE``, ``STOPPED`` or ``ERROR``."""
        self._reply({"op": "ended", "status": status})

    def refuse(self, message: str) -> None:
        self._reply({"op": "error", "message": message})

    def _reply(self, message: dict[str, Any]) -> None:
        if self._session is not None:
            self._session.send(dict(message, experiment=self.experiment))


class LauncherSession:
    """The launcher script running in a child process.

    ``requests()`` yields one :class:`StartRequest` per experiment the script starts, in
    order; the caller runs it (the script's ``stop()`` sets ``request.stop_event``) and
    answers ``started``/``ended``. The child's stdin is closed, and once no experiment is
    running it has ``grace_s`` seconds to start another or to finish before it is ended
    (no limit before its first experiment).
    """

    def __init__(
        self,
        script: Path,
        args: Sequence[str] = (),
        *,
        grace_s: float = DEFAULT_GRACE_S,
        check: bool = False,
    ) -> None:
        self.script = script.resolve()
        self.args = list(args)
        self.grace_s = grace_s
        self.check = check
        self.exit_code: int | None = None
        self.timed_out = False
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._current: StartRequest | None = None
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._to_child: IO[str] | None = None
        self.child_exited = threading.Event()

    # -- the child -------------------------------------------------------------------------

    def start(self) -> None:
        if not self.script.is_file():
            raise ExperimentNotFoundError("no such launcher script", file=str(self.script))
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        path = [str(SHIM_DIR), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
        env["PYTHONPATH"] = os.pathsep.join(path)
        env[_CHANNEL_ENV] = f"{to_child_r},{from_child_w}"
        # The script's prints interleave with nni2ray's progress lines even in a log file.
        env.setdefault("PYTHONUNBUFFERED", "1")
        command = [sys.executable, "-m", "nni.experiment._bootstrap", str(self.script), *self.args]
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            env=env,
            pass_fds=(to_child_r, from_child_w),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._to_child = os.fdopen(to_child_w, "w", encoding="utf-8")
        reader = os.fdopen(from_child_r, "r", encoding="utf-8")
        threading.Thread(target=self._read, args=(reader,), daemon=True).start()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            if self._to_child is None:
                return
            try:
                self._to_child.write(json.dumps(message) + "\n")
                self._to_child.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # the script has ended

    def _read(self, reader: IO[str]) -> None:
        for line in reader:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("op") == "stop":
                current = self._current
                if current is not None and current.experiment == message.get("experiment"):
                    current.stop_event.set()
                continue
            self._queue.put(message)
        self.child_exited.set()
        current = self._current
        if current is not None and not current.detach:
            # NNI stops a (non-detached) experiment when the launcher's Python exits.
            current.stop_event.set()
        self._queue.put(None)

    # -- the experiments it asks for ------------------------------------------------------

    def requests(self) -> Iterator[StartRequest]:
        """Each experiment the script starts; ends when the script ends (or is ended)."""
        if self._proc is None:
            self.start()
        served = 0
        while True:
            try:
                # Before its first experiment the script may prepare for as long as it
                # likes (download data, ...); the grace period starts when a run ends.
                message = self._queue.get(timeout=self.grace_s if served else None)
            except queue.Empty:
                self._end_child()
                return
            if message is None:
                self.exit_code = self._wait_child()
                return
            if message.get("op") != "start":
                continue
            request = StartRequest(
                experiment=str(message.get("experiment")),
                config=dict(message.get("config") or {}),
                base_dir=Path(str(message.get("base") or os.getcwd())),
                detach=bool(message.get("detach")),
                _session=self,
            )
            self._current = request
            if self.child_exited.is_set() and not request.detach:
                request.stop_event.set()
            try:
                yield request
            finally:
                self._current = None
                served += 1

    def stop_for_check(self) -> None:
        """``nni2ray check``: the script ends where the experiment would start."""
        self.send({"op": "check_done"})
        self.exit_code = self._wait_child(timeout=10.0)

    def _wait_child(self, timeout: float | None = None) -> int:
        assert self._proc is not None
        try:
            return self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            return self._proc.wait()

    def _end_child(self) -> None:
        self.timed_out = True
        print(
            f"nni2ray: the launcher {self.script.name} was still running {self.grace_s:g}s "
            "after its last experiment ended; ending it",
            file=sys.stderr,
            flush=True,
        )
        self._kill()
        self.exit_code = self._wait_child()

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()

    def close(self) -> None:
        """End the child if it still runs (after an error in the caller)."""
        self._kill()
        with self._lock:
            if self._to_child is not None:
                try:
                    self._to_child.close()
                except OSError:
                    pass
                self._to_child = None


def launcher_error(session: LauncherSession) -> Nni2RayError | None:
    """The error for a script that failed or never started an experiment, else None."""
    if session.exit_code not in (0, None) and not session.timed_out:
        return Nni2RayError(
            f"the launcher exited with code {session.exit_code} (its traceback is above)",
            file=str(session.script),
        )
    return None
