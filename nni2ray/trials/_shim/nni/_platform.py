"""The three ways a trial talks to its runner: nni2ray's pipe, NNI's legacy files, or nobody."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Mapping
from typing import Any

from . import _wire

NNI2RAY = "nni2ray"
LEGACY = "legacy"
STANDALONE = "standalone"

_STANDALONE_WARNING = (
    "Running trial code without runtime. Please check the tutorial if you are new to NNI: "
    "https://nni.readthedocs.io/en/stable/tutorials/hpo_quickstart_pytorch/main.html"
)
_logger = logging.getLogger("nni")


class MetricChannelClosedError(BrokenPipeError):
    """nni2ray stopped listening (its end of the metric pipe is closed)."""


def mode(env: Mapping[str, str]) -> str:
    """Which runner this trial has, judged from the environment only (no I/O)."""
    if env.get(_wire.METRIC_FD_ENV):
        return NNI2RAY
    if env.get("NNI_PLATFORM") in (None, "", "unittest"):
        return STANDALONE
    return LEGACY


def open_channel(env: Mapping[str, str]) -> Any:
    """Connect to the runner named by ``env``; called on the first API call, never on import."""
    kind = mode(env)
    if kind == NNI2RAY:
        return PipeChannel(env)
    if kind == LEGACY:
        return LegacyFileChannel(env)
    return StandaloneChannel()


class PipeChannel:
    """nni2ray: parameters from a file, metrics as JSON lines on an inherited pipe."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._fd = _metric_fd(env[_wire.METRIC_FD_ENV])
        self._parameter_file = env.get(_wire.PARAMETER_FILE_ENV, "")
        self._closed = False

    def receive_parameter(self) -> dict[str, Any]:
        if not self._parameter_file:
            raise RuntimeError(
                f"nni2ray started this trial without {_wire.PARAMETER_FILE_ENV}; "
                "the trial cannot receive its parameters"
            )
        return _wire.read_parameter_file(self._parameter_file)

    def send_metric(
        self, kind: str, parameter_id: Any, trial_id: str, seq: int, value: Any
    ) -> None:
        data = _wire.encode_metric(kind, seq, value, parameter_id, trial_id)
        if self._closed:
            return  # already reported once; the parent is gone, so drop quietly
        try:
            _write_all(self._fd, data)
        except BrokenPipeError:
            self._closed = True
            raise MetricChannelClosedError(
                "nni2ray is no longer listening for this trial's results (the metric pipe is "
                "closed: the trial was stopped or nni2ray exited); further results are dropped"
            ) from None


def _metric_fd(text: str) -> int:
    try:
        fd = int(text)
        os.fstat(fd)
    except (ValueError, OSError):
        raise RuntimeError(
            f"{_wire.METRIC_FD_ENV}={text!r} is not an open file descriptor; "
            "run this trial through nni2ray, or unset the variable to run it standalone"
        ) from None
    os.set_inheritable(fd, False)  # programs the trial starts must not hold the pipe open
    return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class StandaloneChannel:
    """No runner: empty parameters and metrics logged to the ``nni`` logger, as NNI does."""

    def receive_parameter(self) -> dict[str, Any]:
        warnings.warn(_STANDALONE_WARNING, RuntimeWarning, stacklevel=3)
        return {"parameter_id": None, "parameter_source": "standalone", "parameters": {}}

    def send_metric(
        self, kind: str, parameter_id: Any, trial_id: str, seq: int, value: Any
    ) -> None:
        _ensure_stdout_logging()
        if kind == _wire.FINAL:
            _logger.info("Final result: %s", value)
        else:
            _logger.info("Intermediate result: %s  (Index %s)", value, seq)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current stdout, and steps aside once the user configures logging."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)
        fmt = "[%(asctime)s] %(levelname)s (%(name)s/%(threadName)s) %(message)s"
        self.setFormatter(logging.Formatter(fmt, "%Y-%m-%d %H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        if logging.getLogger().handlers:
            return  # the root logger now prints it; printing here too would double it
        self.stream = sys.stdout
        super().emit(record)


def _ensure_stdout_logging() -> None:
    if any(isinstance(handler, _StdoutHandler) for handler in _logger.handlers):
        return
    _logger.addHandler(_StdoutHandler())
    if _logger.level == logging.NOTSET:
        _logger.setLevel(logging.INFO)


class LegacyFileChannel:
    """NNI 1.x/2.x file protocol: ``parameter.cfg`` in, ``.nni/metrics`` records out."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._sys_dir = env.get("NNI_SYS_DIR") or "."
        os.makedirs(os.path.join(self._sys_dir, ".nni"), exist_ok=True)

    def receive_parameter(self) -> dict[str, Any]:
        path = os.path.join(self._sys_dir, _wire.PARAMETER_FILE)
        if not os.path.isfile(path):
            trial_id = self._env.get("NNI_TRIAL_JOB_ID")
            request = {"trial_job_id": trial_id, "type": "REQUEST_PARAMETER", "sequence": 0}
            self._send(json.dumps({**request, "parameter_index": 0}))
        while not (os.path.isfile(path) and os.path.getsize(path) > 0):
            time.sleep(3)  # NNI's own polling period
        return _wire.read_parameter_file(path)

    def send_metric(
        self, kind: str, parameter_id: Any, trial_id: str, seq: int, value: Any
    ) -> None:
        dumped = json.dumps(_wire.to_json_value(value), allow_nan=True)
        message = {"parameter_id": parameter_id, "trial_job_id": trial_id, "type": kind}
        self._send(json.dumps({**message, "sequence": seq, "value": dumped}, allow_nan=True))

    def _send(self, text: str) -> None:
        reuse = self._env.get("REUSE_MODE") in ("true", "True")
        if self._env.get("NNI_PLATFORM") != "local" or reuse:
            print(f"NNISDK_MEb'{text}'", flush=True)  # NNI's remote-platform stdout protocol
            return
        data = (text + "\n").encode("utf-8")
        if len(data) >= _wire.MAX_MESSAGE_BYTES:
            raise ValueError(f"metric message of {len(data)} bytes is larger than 1 MB")
        path = os.path.join(self._sys_dir, ".nni", "metrics")
        with open(path, "ab") as file:
            file.write(b"ME%06d" % len(data) + data)
        os.utime(path)  # NNI touches the file so the manager's watcher notices
