"""A template process for warm trial starts: it imports a trial's heavy modules once, then
forks one fresh process per trial (standard library only; run as a script, not imported).

Run as ``_template.py LISTENING_FD IDLE_S MODULE...``: it forks once (the starter waits only
for the first process), imports the modules, then serves every client that connects to the
listening Unix socket, in one thread, until no client has been connected for IDLE_S
seconds. One template serves every trial actor of a run on a node (see ``_warm.Template``).

On connect the template sends ``{"ready": true, "pid": n}``. Then, per client, one trial at a
time:
request  ``{"argv": [...], "script": path | null, "module": name | null, "cwd": dir,
           "env": {...}, "unbuffered": bool}`` + 3 fds (stdout, stderr, metric pipe), one line;
replies  ``{"pid": n}`` when the trial process has started, ``{"exit": code}`` when it ended
         (a negative code is the signal that ended it, as ``subprocess`` reports it).
"""

from __future__ import annotations

import array
import gc
import importlib
import importlib.util
import io
import json
import os
import select
import signal
import socket
import sys
import time
from typing import Any

METRIC_FD_ENV = "NNI2RAY_METRIC_FD"


def _load_reaper() -> Any:
    """``_reaper.py`` next to this file, loaded by path (this file runs as a script, with
    no package on ``sys.path``), or None if it cannot be loaded."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_reaper.py")
    spec = importlib.util.spec_from_file_location("_nni2ray_reaper", path)
    if spec is None or spec.loader is None:  # pragma: no cover
        return None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception:  # noqa: BLE001 - trials then run without a reaper
        return None
    return module


_REAPER = _load_reaper()


def _receive(sock: socket.socket) -> tuple[dict[str, Any], list[int]] | None:
    fds = array.array("i")
    data, ancdata, _, _ = sock.recvmsg(1 << 20, socket.CMSG_LEN(3 * fds.itemsize))
    if not data:
        return None
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    return json.loads(data.decode()), list(fds)


def _reply(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall((json.dumps(message) + "\n").encode())


def _reseed() -> None:
    # Forked trials must not share the template's random state: Python's `random`
    # reseeds itself after fork; numpy and torch do not.
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.seed()


def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    import traceback

    traceback.print_exception(exc)
    return 1


def _run_trial(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked trial process: run the script, never return."""
    stdout_fd, stderr_fd, metric_fd = fds
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)
    os.close(stdout_fd)
    os.close(stderr_fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ[METRIC_FD_ENV] = str(metric_fd)
    os.chdir(request["cwd"])
    if request.get("unbuffered"):
        if isinstance(sys.stdout, io.TextIOWrapper):
            sys.stdout.reconfigure(write_through=True)
    _reseed()
    code = 0
    try:
        import runpy

        sys.argv = list(request["argv"])
        if request.get("module"):
            sys.path.insert(0, request["cwd"])
            runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(request["script"])))
            runpy.run_path(request["script"], run_name="__main__")
    except BaseException as exc:  # noqa: BLE001 - a trial's exit, whatever it is
        code = _exit_code(exc)
    _shutdown(code)


def _shutdown(code: int) -> None:
    try:
        import threading

        threading._shutdown()  # type: ignore[attr-defined]  # wait for non-daemon threads
        import atexit

        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)


def _status_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


class _Server:
    """One thread serves every client: a poll loop over the listening socket, the clients
    and a SIGCHLD wake-up pipe (never fork from a multi-threaded process)."""

    def __init__(self, listener: socket.socket, idle_s: float) -> None:
        self.listener = listener
        self.idle_s = idle_s
        self.clients: dict[int, socket.socket] = {}
        self.children: dict[int, int] = {}  # trial pid -> the fd of the client that asked
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.set_wakeup_fd(self.wake_w)
        self.last_left = time.monotonic()  # when the last client left (or the start)

    def run(self) -> None:
        """Serve until no client has been connected for ``idle_s`` seconds."""
        while True:
            timeout = None
            if not self.clients:
                timeout = self.last_left + self.idle_s - time.monotonic()
                if timeout <= 0:
                    return
            watched = [self.listener.fileno(), self.wake_r, *self.clients]
            readable, _, _ = select.select(watched, [], [], timeout)
            for fd in readable:
                if fd == self.listener.fileno():
                    self._accept()
                elif fd == self.wake_r:
                    self._reap()
                elif fd in self.clients:
                    self._serve(self.clients[fd])

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except OSError:
            return
        sock.setblocking(True)
        try:
            _reply(sock, {"ready": True, "pid": os.getpid()})
        except OSError:
            sock.close()
            return
        self.clients[sock.fileno()] = sock

    def _drop(self, sock: socket.socket) -> None:
        fd = sock.fileno()
        self.clients.pop(fd, None)
        for pid, owner in self.children.items():
            if owner == fd:
                self.children[pid] = -1  # its trial runs on; nobody waits for its exit
        sock.close()
        if not self.clients:
            self.last_left = time.monotonic()

    def _serve(self, sock: socket.socket) -> None:
        try:
            received = _receive(sock)
        except (OSError, ValueError):  # a broken client must not end the shared template
            received = None
        if received is None:
            self._drop(sock)
            return
        request, fds = received
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._become_trial(request, fds)
        for fd in fds:
            os.close(fd)
        self.children[pid] = sock.fileno()
        try:
            _reply(sock, {"pid": pid})
        except OSError:
            self._drop(sock)

    def _become_trial(self, request: dict[str, Any], fds: list[int]) -> None:
        """In the forked child: lead the trial's session as its reaper (see ``_reaper``),
        and fork the trial itself below it."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(self.wake_r)
        os.close(self.wake_w)
        self.listener.close()
        for client in self.clients.values():
            client.close()
        os.setsid()
        if _REAPER is None:  # pragma: no cover - the reaper sits next to this file
            _run_trial(request, fds)
        try:
            _REAPER.set_child_subreaper()
            reaper = _REAPER.Reaper()
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
        except BaseException:  # noqa: BLE001 - no reaper: the trial runs in this process
            _run_trial(request, fds)
        if pid == 0:
            reaper.restore()
            _run_trial(request, fds)
        # The reaper: the trial's output and metric pipe are the trial's alone (its reader
        # sees the end when the trial's processes closed it); few pages touched, none
        # collected, so the fork stays shared with the template.
        gc.disable()
        for fd in fds:
            os.close(fd)
        reaper.wait(pid)

    def _reap(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except OSError:
            pass
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            owner = self.children.pop(pid, -1)
            client = self.clients.get(owner)
            if client is not None:
                try:
                    _reply(client, {"exit": _status_code(status)})
                except OSError:
                    self._drop(client)


def main() -> None:
    # Not this file's folder on sys.path: trials must see the sys.path a fresh
    # `python script.py` would have (the script's own folder is added per trial).
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)
    listener = socket.socket(fileno=int(sys.argv[1]))
    idle_s = float(sys.argv[2])
    # The starter waits for this process only: the template itself goes on in a child
    # that no Ray worker owns (a worker that exits ends its own children).
    if os.fork() != 0:
        os._exit(0)
    if _REAPER is not None:
        _REAPER.prepare()  # ctypes once here, not in every forked reaper
    for name in sys.argv[3:]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that fails to import is left to the trial
            pass
    _Server(listener, idle_s).run()


if __name__ == "__main__":
    main()
