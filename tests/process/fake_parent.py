"""A fake nni2ray parent: runs a trial script with the stand-in nni and records its messages."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHIM_DIR = Path(__file__).resolve().parents[2] / "nni2ray" / "trials" / "_shim"


def load_shim_module(name: str) -> Any:
    """Load a self-contained shim module (``_wire``, ``utils``) from its file.

    Loading by path keeps this tier independent of ``nni2ray.runtime``'s own imports
    (the runtime package pulls in Ray) and of whether nni2ray is installed.
    """
    path = SHIM_DIR / "nni" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_nni2ray_shim_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_wire = load_shim_module("_wire")


@dataclass
class TrialRun:
    """What one trial process did: exit code, metric messages in arrival order, output."""

    returncode: int
    messages: list[dict[str, Any]]
    stdout: str
    stderr: str
    raw_lines: list[bytes] = field(default_factory=list)

    def values(self, kind: str) -> list[Any]:
        return [m["value"] for m in self.messages if m["type"] == kind]


def trial_env(
    extra: dict[str, str] | None = None, pythonpath: list[str] | None = None
) -> dict[str, str]:
    """A clean environment for a trial: the shim first on PYTHONPATH, no NNI variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NNI", "PYTHON"))}
    env["PYTHONPATH"] = os.pathsep.join([str(SHIM_DIR), *(pythonpath or [])])
    env.update(extra or {})
    return env


def _read_lines(fd: int, lines: list[bytes]) -> None:
    with os.fdopen(fd, "rb") as pipe:
        lines.extend(pipe)


def run_trial(
    script: str,
    folder: Path,
    *,
    record: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    close_pipe_early: bool = False,
    timeout: float = 60,
) -> TrialRun:
    """Write ``script`` and the parameter record to ``folder``, run it as nni2ray would."""
    (folder / "trial.py").write_text(textwrap.dedent(script))
    parameter_file = folder / "parameter.json"
    parameter_file.write_text(json.dumps(record or make_record({"lr": 0.1})))
    read_fd, write_fd = os.pipe()
    extra = {
        _wire.PARAMETER_FILE_ENV: str(parameter_file),
        _wire.METRIC_FD_ENV: str(write_fd),
        "NNI_EXP_ID": "exp12345",
        "NNI_TRIAL_JOB_ID": "Abc12",
        "NNI_TRIAL_SEQ_ID": "3",
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "trial.py"],
        cwd=folder,
        env=trial_env(extra),
        pass_fds=(write_fd,),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    lines: list[bytes] = []
    if close_pipe_early:
        os.close(read_fd)
        reader = None
    else:
        reader = threading.Thread(target=_read_lines, args=(read_fd, lines))
        reader.start()
    stdout, stderr = process.communicate(timeout=timeout)
    if reader is not None:
        reader.join(timeout)
    messages = [_wire.decode_message(line) for line in lines]
    return TrialRun(process.returncode, messages, stdout.decode(), stderr.decode(), lines)


def make_record(parameters: Any, parameter_id: Any = 7) -> dict[str, Any]:
    return {
        "parameter_id": parameter_id,
        "parameter_source": "algorithm",
        "parameters": parameters,
        "parameter_index": 0,
    }


def run_plain(
    script: str, folder: Path, env: dict[str, str], python_args: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with the shim on PYTHONPATH but no nni2ray channel."""
    (folder / "trial.py").write_text(textwrap.dedent(script))
    command = [sys.executable, *(python_args or []), "trial.py"]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=60)
