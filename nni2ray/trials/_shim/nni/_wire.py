"""The only definition of the trial <-> nni2ray message format (standard library only).

The trial side (the stand-in ``nni`` package) and the parent side (the Ray trainable) both
import this module, so the format is defined once.

Parameters reach the trial as a file holding NNI's ParameterRecord JSON
(``{"parameter_id": ..., "parameter_source": "algorithm", "parameters": {...},
"parameter_index": 0}``), named by ``NNI2RAY_PARAMETER_FILE``: ``parameter.cfg`` in the
trial's folder, as NNI names it.

Metrics travel back over a pipe whose write end is the file descriptor named by
``NNI2RAY_METRIC_FD``: one JSON object per line,
``{"type": "PERIODICAL" | "FINAL", "sequence": n, "value": <metric>, "parameter_id": ...,
"trial_job_id": "..."}``. ``value`` is the metric itself (a number or a JSON object), with
NaN and infinities written as JSON5-style ``NaN`` / ``Infinity`` tokens as Python's json does.
"""

from __future__ import annotations

import json
import os
from typing import Any

PARAMETER_FILE_ENV = "NNI2RAY_PARAMETER_FILE"
#: The parameter record's file name in a trial's folder (NNI's ``NNI_SYS_DIR``).
PARAMETER_FILE = "parameter.cfg"
METRIC_FD_ENV = "NNI2RAY_METRIC_FD"

PERIODICAL = "PERIODICAL"
FINAL = "FINAL"
MESSAGE_TYPES = (PERIODICAL, FINAL)

#: The key of a dict metric that holds its tuned number.
DEFAULT_KEY = "default"

#: A single message larger than this is refused (NNI's own limit is about 1 MB).
MAX_MESSAGE_BYTES = 1_000_000

#: A metric nested deeper than this (lists and dicts) is refused as a protocol error: the
#: parent must not recurse without bound on what a trial sends.
MAX_DEPTH = 64


def parameter_record(parameter_id: Any, parameters: Any) -> dict[str, Any]:
    """NNI's ParameterRecord for a trial: what ``nni.get_next_parameter`` reads."""
    return {
        "parameter_id": parameter_id,
        "parameter_source": "algorithm",
        "parameters": parameters,
        "parameter_index": 0,
    }


def write_parameter_file(
    trial_dir: str | os.PathLike[str], parameter_id: Any, parameters: Any
) -> str:
    """Write the trial's ``parameter.cfg`` into ``trial_dir`` and return its path."""
    path = os.path.join(trial_dir, PARAMETER_FILE)
    with open(path, "w", encoding="utf-8") as file:
        file.write(json.dumps(parameter_record(parameter_id, parameters), allow_nan=True))
    return path


def read_parameter_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a parameter record (a ``parameter.cfg``).

    Raises:
        OSError, UnicodeDecodeError, ValueError: the file cannot be read as JSON.
        RuntimeError: the JSON is not a parameter record (no ``parameters`` key).
    """
    with open(path, encoding="utf-8") as file:
        record = json.load(file)
    if not isinstance(record, dict) or "parameters" not in record:
        raise RuntimeError(f"{path}: not an NNI parameter record (no 'parameters' key)")
    return record


def to_json_value(value: Any) -> Any:
    """Return ``value`` as plain JSON data, turning numpy-like scalars into Python numbers.

    Raises:
        TypeError: for values that have no JSON form (arbitrary objects, tensors with
            more than one element, ...).
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(item) for item in value]
    item = getattr(value, "item", None)  # numpy scalars, 0-d arrays, one-element tensors
    if callable(item):
        try:
            return to_json_value(item())
        except (TypeError, ValueError):
            pass
    if hasattr(value, "__float__"):
        return float(value)
    if hasattr(value, "__index__"):
        return int(value)
    raise TypeError(
        f"metric of type {type(value).__name__} cannot be sent to nni2ray; "
        "report a number or a dict of numbers"
    )


def encode_metric(
    kind: str, sequence: int, value: Any, parameter_id: Any, trial_job_id: str
) -> bytes:
    """Encode one metric message as a single JSON line."""
    if kind not in MESSAGE_TYPES:
        raise ValueError(f"unknown metric type {kind!r}")
    message = {
        "type": kind,
        "sequence": sequence,
        "value": to_json_value(value),
        "parameter_id": parameter_id,
        "trial_job_id": trial_job_id,
    }
    data = (json.dumps(message, allow_nan=True) + "\n").encode("utf-8")
    if len(data) > MAX_MESSAGE_BYTES:
        raise ValueError(f"metric message of {len(data)} bytes is larger than 1 MB")
    return data


def decode_message(line: bytes | str) -> dict[str, Any]:
    """Decode one line written by :func:`encode_metric`.

    Raises:
        ValueError: when the line is not a well-formed metric message.
    """
    if len(line) > MAX_MESSAGE_BYTES:
        raise ValueError(f"metric message of {len(line)} bytes is larger than 1 MB")
    text = line.decode("utf-8") if isinstance(line, bytes) else line
    try:
        message = json.loads(text)
    except RecursionError:
        raise ValueError(f"metric message nested more than {MAX_DEPTH} levels deep") from None
    if _depth_exceeds(message, MAX_DEPTH + 1):  # the message object itself is one level
        raise ValueError(f"metric message nested more than {MAX_DEPTH} levels deep")
    if not isinstance(message, dict) or message.get("type") not in MESSAGE_TYPES:
        raise ValueError(f"not an nni2ray metric message: {text[:200]!r}")
    if not isinstance(message.get("sequence"), int):
        raise ValueError(f"metric message without an integer sequence: {text[:200]!r}")
    return message


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True if ``value`` nests lists/dicts more than ``limit`` levels (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in item if isinstance(child, (list, dict)))
    return False


def scalar_of(value: Any) -> float | None:
    """The tuned number of a metric: the value itself if it is a number, else a dict's
    ``default`` if that is a number; None for anything else.

    A ``bool`` is not a number here (``True`` is no score, although Python counts it as an
    int). NaN and infinities are kept; an integer beyond float range (``10**400``) has no
    tuned number (None): it is recorded as reported, but ranks nowhere.
    """
    if isinstance(value, dict):
        value = value.get(DEFAULT_KEY)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None
