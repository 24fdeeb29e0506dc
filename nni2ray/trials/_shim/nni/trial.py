"""NNI's trial API: receive this trial's parameters and report its results."""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any

from . import _wire

__all__ = [
    "get_current_parameter",
    "get_experiment_id",
    "get_next_parameter",
    "get_next_parameters",
    "get_parameters",
    "get_sequence_id",
    "get_trial_id",
    "report_final_result",
    "report_intermediate_result",
]

_lock = threading.RLock()  # one report at a time: sequences and pipe writes stay in order
_channel: Any = None
_record: dict[str, Any] | None = None
_intermediate_seq = 0
_warned_second_call = False


def _open_channel() -> Any:
    global _channel
    if _channel is None:
        from . import _platform  # imported on first use: `import nni` stays cheap

        _channel = _platform.open_channel(os.environ)
    return _channel


def _mode() -> str:
    from . import _platform

    return _platform.mode(os.environ)


def get_next_parameter() -> Any:
    """Return this trial's hyperparameters (the ``parameters`` of its parameter record).

    Under nni2ray the record is read once; a second call returns the same parameters again
    with a one-time RuntimeWarning (NNI 3.0 would hand out another trial's parameters, 2.x
    returned None). Standalone, it warns and returns ``{}`` like NNI.
    """
    global _record
    with _lock:
        if _record is not None and _mode() != "standalone":
            _warn_second_call()
            return _record["parameters"]
        _record = _open_channel().receive_parameter()
        return _record["parameters"]


def _warn_second_call() -> None:
    global _warned_second_call
    if not _warned_second_call:
        _warned_second_call = True
        warnings.warn(
            "nni.get_next_parameter() was called more than once; each trial has one "
            "parameter set, so the same parameters are returned again",
            RuntimeWarning,
            stacklevel=3,
        )


def get_next_parameters() -> Any:
    """Alias of :func:`get_next_parameter`."""
    return get_next_parameter()


def get_parameters() -> Any:
    """Old (NNI 1.x) name of :func:`get_next_parameter`."""
    return get_next_parameter()


def get_current_parameter(tag: str | None = None) -> Any:
    """The parameters :func:`get_next_parameter` returned (or ``parameters[tag]``); else None.

    Raises:
        KeyError: when ``tag`` is not one of the parameters.
    """
    if _record is None:
        return None
    if tag is None:
        return _record["parameters"]
    return _record["parameters"][tag]


def report_intermediate_result(metric: Any) -> None:
    """Report one intermediate result (a number, or a dict whose ``default`` is a number).

    Raises:
        AssertionError: inside an experiment, when called before get_next_parameter().
        TypeError: when the metric has no JSON form.
    """
    global _intermediate_seq
    with _lock:
        _send(_wire.PERIODICAL, "report_intermediate_result", _intermediate_seq, metric)
        _intermediate_seq += 1


def report_final_result(metric: Any) -> None:
    """Report the trial's final result; every call is forwarded (the runner decides).

    Raises:
        AssertionError: inside an experiment, when called before get_next_parameter().
        TypeError: when the metric has no JSON form.
    """
    with _lock:
        _send(_wire.FINAL, "report_final_result", 0, metric)


def _send(kind: str, caller: str, sequence: int, metric: Any) -> None:
    if _record is None and _mode() != "standalone":
        # NNI asserts this; raised explicitly so that `python -O` keeps the check.
        raise AssertionError(f"nni.get_next_parameter() needs to be called before {caller}")
    parameter_id = _record.get("parameter_id") if _record is not None else None
    try:
        _open_channel().send_metric(kind, parameter_id, get_trial_id(), sequence, metric)
    except TypeError as error:
        raise TypeError(f"nni.{caller}: {error}") from None


def get_experiment_id() -> str:
    """The experiment id (env ``NNI_EXP_ID``), or ``"STANDALONE"``."""
    return os.environ.get("NNI_EXP_ID") or "STANDALONE"


def get_trial_id() -> str:
    """This trial's id (env ``NNI_TRIAL_JOB_ID``), or ``"STANDALONE"``."""
    return os.environ.get("NNI_TRIAL_JOB_ID") or "STANDALONE"


def get_sequence_id() -> int:
    """This trial's 0-based number (env ``NNI_TRIAL_SEQ_ID``); 0 standalone, else -1 if unset."""
    try:
        return int(os.environ["NNI_TRIAL_SEQ_ID"])
    except (KeyError, ValueError):
        return 0 if _mode() == "standalone" else -1
