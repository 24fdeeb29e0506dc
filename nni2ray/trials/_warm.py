"""Warm trial starts: decide whether a trial command can be forked from a template process
that has already imported the trial's heavy modules, and talk to that template."""

from __future__ import annotations

import ast
import errno
import hashlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nni2ray.trials._leftovers import TEMPLATE_DIR
from nni2ray.trials.command import python_call, split_command

TEMPLATE_SCRIPT = Path(__file__).resolve().parent / "_template.py"


@dataclass(frozen=True)
class WarmCommand:
    """A ``[VAR=value ...] python [-u] script.py args`` (or ``-m module``) trial command."""

    argv: tuple[str, ...]
    script: str | None
    module: str | None
    env: tuple[tuple[str, str], ...] = ()
    unbuffered: bool = False


def parse_command(command: str, path: str, cwd: Path) -> WarmCommand | None:
    """The warm-startable form of ``command``, or None when it must start cold.

    Only a plain Python invocation by the interpreter that runs nni2ray qualifies: shell
    syntax (pipes, ``&&``, redirections), other programs and other interpreters start cold.
    """
    if any(ch in command for ch in ";&|<>`$()\n"):
        return None
    try:
        env, words = split_command(command)
    except ValueError:
        return None
    call = python_call(words)
    if call is None or not _same_python(call.program, path):
        return None
    pairs = tuple(env.items())
    if call.module is not None:
        return WarmCommand((call.module, *call.args), None, call.module, pairs, call.unbuffered)
    if call.script is None or not (cwd / call.script).is_file():
        return None
    argv = (call.script, *call.args)
    return WarmCommand(argv, str(cwd / call.script), None, pairs, call.unbuffered)


def _same_python(program: str, path: str) -> bool:
    found = shutil.which(program, path=path)
    if found is None:
        return False
    ours = Path(sys.executable)
    return Path(found).parent.resolve() == ours.parent.resolve() and os.path.realpath(
        found
    ) == os.path.realpath(ours)


def heavy_modules(command: WarmCommand, cwd: Path) -> tuple[str, ...]:
    """Third-party modules the trial script imports (the ones worth importing once)."""
    if command.script is None:
        return ()
    try:
        tree = ast.parse(Path(command.script).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return ()
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    script_dir = Path(command.script).parent
    keep = []
    for name in dict.fromkeys(names + _lazy_imports(names)):
        root = name.split(".")[0]
        local = any((d / f"{root}.py").exists() or (d / root).is_dir() for d in (cwd, script_dir))
        if root not in sys.stdlib_module_names and root != "nni" and not local:
            keep.append(name)
    return tuple(keep)


#: Modules that popular libraries import lazily on first use, at a cost every forked trial
#: would pay again (torch loads torch._dynamo, ~800 modules, when an optimizer is created).
_LAZY_IMPORTS = {"torch": ("torch.optim", "torch._dynamo")}


def _lazy_imports(names: list[str]) -> list[str]:
    roots = {name.split(".")[0] for name in names}
    return [lazy for root in roots for lazy in _LAZY_IMPORTS.get(root, ())]


#: Seconds a shared template waits, once its last client left, before it exits (the run's
#: end also ends it at once, see ``end_warm_templates``).
IDLE_S = 30.0

#: Environment variables whose value can change what importing a module does: a template
#: is shared only by trials that agree on them (every other variable is the trial's own,
#: set in the forked process).
_IMPORT_ENV_PREFIXES = ("PYTHON", "LD_", "CUDA_", "CONDA_", "VIRTUAL_ENV", "OMP_", "MKL_")


def template_address(modules: tuple[str, ...], env: dict[str, str], cwd: Path) -> bytes:
    """The Linux abstract-namespace socket name of the template for this run's trials with
    these modules (no file; every node has its own namespace)."""
    fingerprint = {
        "python": sys.executable,
        "cwd": str(cwd),
        "modules": list(modules),
        "env": sorted(
            (key, value)
            for key, value in env.items()
            if key == "PATH" or key.startswith(_IMPORT_ENV_PREFIXES)
        ),
        # The run: its experiment and output folder (NNI_SYS_DIR is under it).
        "experiment": env.get("NNI_EXP_ID", ""),
        "sys_dir": env.get("NNI_SYS_DIR", ""),
        "uid": os.getuid(),
        # The Ray node: two nodes on one machine (Ray's own multi-node tests, a test
        # cluster) must not share a template.
        "raylet": env.get("RAY_RAYLET_PID", ""),
    }
    digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()
    return b"\0nni2ray-warm-" + digest[:40].encode()


class Template:
    """A connection to the template process (see ``_template.py``) that every trial actor
    of a run on this node shares: the first actor that finds none listening starts it."""

    def __init__(
        self,
        modules: tuple[str, ...],
        env: dict[str, str],
        cwd: Path,
        log: Path,
        timeout: float = 120.0,
        idle_s: float = IDLE_S,
    ) -> None:
        self.modules = modules
        env = dict(env)
        if "NNI_SYS_DIR" in env:
            # Not the first trial's folder: a search for that trial's leftovers must not
            # find the template (and, below it, every other warm trial); a search for the
            # run's leftovers still does (``trials/.template`` is under ``trials/``).
            env["NNI_SYS_DIR"] = str(Path(env["NNI_SYS_DIR"]).parent / TEMPLATE_DIR)
        self.address = template_address(modules, env, cwd)
        #: The template's pid, known once it is ready.
        self.pid: int | None = None
        self.started = False  # True when this connection started the template
        self._buffer = b""
        self._timeout = timeout
        self._ready = False
        self._dead = False
        self._sock = self._connect(env, cwd, log, idle_s)

    def _connect(self, env: dict[str, str], cwd: Path, log: Path, idle_s: float) -> socket.socket:
        if not sys.platform.startswith("linux"):
            raise OSError("warm start needs Linux (abstract Unix sockets)")
        deadline = time.monotonic() + 10.0
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.address)
                return sock
            except (ConnectionRefusedError, FileNotFoundError):
                sock.close()
            if self.started or time.monotonic() > deadline:
                raise OSError("the warm-start template did not start")
            # Race-safe: of the actors that find none, the one whose bind succeeds starts it;
            # the others connect once it listens.
            self.started = self._start(env, cwd, log, idle_s)
            if not self.started:
                time.sleep(0.05)

    def _start(self, env: dict[str, str], cwd: Path, log: Path, idle_s: float) -> bool:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                listener.bind(self.address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return False
                raise
            listener.listen(128)
            fd = listener.fileno()
            with open(log, "ab") as err:
                starter = subprocess.Popen(
                    [sys.executable, str(TEMPLATE_SCRIPT), str(fd), str(idle_s), *self.modules],
                    pass_fds=(fd,),
                    env=env,
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    start_new_session=True,
                )
            starter.wait()  # it forks the template and exits at once
            return True
        finally:
            listener.close()

    def ready(self, timeout: float | None = 0) -> bool:
        """True once the template has imported its modules and can fork trials.

        Raises:
            OSError: the template process has exited.
        """
        if not self._ready:
            reply = self._read(timeout)
            if reply is not None and not reply.get("ready"):
                raise OSError(f"unexpected message from the warm-start template: {reply}")
            if reply is not None:
                self.pid = int(reply["pid"])
            self._ready = reply is not None
        return self._ready

    def alive(self) -> bool:
        """False once the template has closed the connection (it exited)."""
        if self._dead:
            return False
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
            if readable and not self._sock.recv(1, socket.MSG_PEEK):
                self._dead = True
        except OSError:
            self._dead = True
        return not self._dead

    def launch(
        self, command: WarmCommand, cwd: Path, env: dict[str, str], fds: tuple[int, int, int]
    ) -> int:
        """Fork one trial process; returns its pid (it leads its own session)."""
        if not self.ready(self._timeout):
            raise OSError("the warm-start template did not start")
        request = {
            "argv": command.argv,
            "script": command.script,
            "module": command.module,
            "cwd": str(cwd),
            "env": env,
            "unbuffered": command.unbuffered,
        }
        payload = json.dumps(request).encode()
        self._sock.sendmsg(
            [payload],
            [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(__import__("array").array("i", fds)))],
        )
        reply = self._read(30.0)
        if not reply or "pid" not in reply:
            raise OSError("the warm-start template did not start the trial")
        return int(reply["pid"])

    def wait_exit(self, timeout: float | None) -> int | None:
        """The exit code of the current trial once it has ended, else None."""
        reply = self._read(timeout)
        return None if reply is None else int(reply["exit"])

    def _read(self, timeout: float | None) -> dict[str, Any] | None:
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([self._sock], [], [], timeout)
            if not ready:
                return None
            chunk = self._sock.recv(4096)
            if not chunk:
                self._dead = True
                raise OSError("the warm-start template exited")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return dict(json.loads(line))

    def close(self) -> None:
        """Leave the template: it serves the run's other actors and exits when the last
        one has left (after ``idle_s``) or when the run ends."""
        self._sock.close()


class WarmChild:
    """The ``subprocess.Popen`` subset TrialProcess uses, for a trial forked by a template."""

    def __init__(self, template: Template, pid: int) -> None:
        self._template, self.pid = template, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._template.wait_exit(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self._template.wait_exit(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired("warm trial", timeout or 0)
        return self.returncode
