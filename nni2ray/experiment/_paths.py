"""Resolve config paths the way NNI does and show paths relative to the working directory."""

from __future__ import annotations

import os
from pathlib import Path


def resolve_path(raw: str, base_dir: Path) -> Path:
    """Expand ``~``, accept Windows separators, and join a relative path to ``base_dir``.

    NNI resolves relative paths against the folder that holds the config file, after
    expanding ``~``, then follows symlinks (``os.path.realpath``).
    """
    expanded = os.path.expanduser(raw)
    if not os.path.isabs(expanded):
        expanded = expanded.replace("\\", "/")
    return _real(base_dir / expanded)


def _real(path: Path | str) -> Path:
    try:
        return Path(os.path.realpath(path))
    except ValueError:  # an embedded NUL byte: no such file, keep it as written
        return Path(os.path.abspath(path))


def is_inside(path: Path | str, folder: Path | str) -> bool:
    """True when ``path`` (symlinks resolved) is ``folder`` or lies under it."""
    real, top = _real(path), _real(folder)
    return real == top or top in real.parents


def display_path(path: Path | str) -> str:
    """Relative to the current directory when the path is under it, else absolute."""
    absolute = _real(path)
    try:
        return absolute.relative_to(_real(Path.cwd())).as_posix() or "."
    except ValueError:
        return str(absolute)
