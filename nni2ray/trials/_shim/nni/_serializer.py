"""JSON stand-ins for NNI's ``trace``, ``dump`` and ``load`` (no json-tricks, no pickle)."""

from __future__ import annotations

import json
from typing import IO, Any

from . import _wire


def trace(cls_or_func: Any = None, *, kw_only: bool = True, inheritable: bool = False) -> Any:
    """Return the class or function unchanged; usable as ``@trace`` and ``@trace(...)``."""
    if cls_or_func is None:
        return _identity
    return cls_or_func


def _identity(obj: Any) -> Any:
    return obj


def dump(obj: Any, fp: IO[str] | None = None, **json_kwargs: Any) -> str | None:
    """Serialise ``obj`` as JSON (NaN allowed; numpy-like scalars become numbers).

    Returns:
        The JSON text, or None when it was written to ``fp``.
    """
    json_kwargs.setdefault("allow_nan", True)
    for key in ("use_trace", "pickle_size_limit"):  # NNI options without a meaning here
        json_kwargs.pop(key, None)
    text = json.dumps(obj, default=_to_json, **json_kwargs)
    if fp is None:
        return text
    fp.write(text)
    return None


def _to_json(value: Any) -> Any:
    return _wire.to_json_value(value)


def load(string: str | None = None, *, fp: IO[str] | None = None, **json_kwargs: Any) -> Any:
    """Parse JSON written by :func:`dump` from ``string`` or from ``fp``."""
    json_kwargs.pop("ignore_comments", None)
    if string is not None:
        return json.loads(string, **json_kwargs)
    if fp is None:
        raise ValueError("nni.load needs a string or fp")
    return json.load(fp, **json_kwargs)


__all__ = ["dump", "load", "trace"]
