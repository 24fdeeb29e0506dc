"""A template process for warm trial starts: it imports a trial's heavy modules once, then
forks one fresh process per trial (standard library only; run as a script, not imported).

Protocol on the Unix socket passed as argv[1] (one trial at a time):
request  ``{"argv": [...], "script": path | null, "module": name | null, "cwd": dir,
           "env": {...}, "unbuffered": bool}`` + 3 fds (stdout, stderr, metric pipe), one line;
replies  ``{"pid": n}`` when the trial process has started, ``{"exit": code}`` when it ended
         (a negative code is the signal that ended it, as ``subprocess`` reports it).
"""

from __future__ import annotations

import array
import importlib
import io
import json
import os
import socket
import sys
from typing import Any

METRIC_FD_ENV = "NNI2RAY_METRIC_FD"


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


def _run_trial(request: dict[str, Any], fds: list[int], sock: socket.socket) -> None:
    """In the forked child: become the trial process, run the script, never return."""
    sock.close()
    os.setsid()
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


def serve(sock: socket.socket) -> None:
    while True:
        received = _receive(sock)
        if received is None:
            return
        request, fds = received
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _run_trial(request, fds, sock)
        for fd in fds:
            os.close(fd)
        _reply(sock, {"pid": pid})
        _, status = os.waitpid(pid, 0)
        _reply(sock, {"exit": _status_code(status)})


def main() -> None:
    # Not this file's folder on sys.path: trials must see the sys.path a fresh
    # `python script.py` would have (the script's own folder is added per trial).
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)
    sock = socket.socket(fileno=int(sys.argv[1]))
    for name in sys.argv[2:]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that fails to import is left to the trial
            pass
    _reply(sock, {"ready": True})
    serve(sock)


if __name__ == "__main__":
    main()
