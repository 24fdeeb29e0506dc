"""Load ``nni.*`` modules the stand-in lacks from the real nni, or explain why they are missing."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder
from typing import Any

_NOT_SEARCHED: list[str] = ["<not searched>"]
_real_nni_dirs: list[str] = _NOT_SEARCHED


class RealNniFinder:
    """Consulted last on ``sys.meta_path``, only for modules the stand-in does not have.

    The real nni's directories are looked up on the first miss and appended to the
    stand-in package's ``__path__``; the real ``nni/__init__.py`` is never executed.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: Any = None
    ) -> ModuleSpec | None:
        parent_name = fullname.rpartition(".")[0]
        parent = sys.modules.get(parent_name)
        if not fullname.startswith("nni.") or not _is_stand_in(parent):
            return None
        roots = _find_real_nni()
        if not roots:
            raise ModuleNotFoundError(_missing_message(fullname), name=fullname)
        subdirs = parent_name.split(".")[1:]
        search = [os.path.join(root, *subdirs) for root in roots]
        _extend_path(parent, search)
        return PathFinder.find_spec(fullname, search)

    def invalidate_caches(self) -> None:
        global _real_nni_dirs
        _real_nni_dirs = _NOT_SEARCHED


def install() -> None:
    """Append the finder to ``sys.meta_path`` once (no file system access)."""
    if not any(isinstance(finder, RealNniFinder) for finder in sys.meta_path):
        sys.meta_path.append(RealNniFinder())


def _stand_in_dir() -> str:
    return os.path.dirname(os.path.abspath(__file__))


def _is_stand_in(module: Any) -> bool:
    path = getattr(module, "__path__", None)
    if not path:
        return False
    first, own = os.path.abspath(str(list(path)[0])), _stand_in_dir()
    return first == own or first.startswith(own + os.sep)


def _find_real_nni() -> list[str]:
    global _real_nni_dirs
    if _real_nni_dirs is _NOT_SEARCHED:
        shim_root = os.path.dirname(_stand_in_dir())
        entries = [p for p in sys.path if os.path.abspath(p or os.curdir) != shim_root]
        spec = PathFinder.find_spec("nni", entries)
        locations = spec.submodule_search_locations if spec is not None else None
        _real_nni_dirs = list(locations or [])
    return _real_nni_dirs


def _extend_path(package: Any, directories: list[str]) -> None:
    for directory in directories:
        if directory not in package.__path__:
            package.__path__.append(directory)


def _missing_message(fullname: str) -> str:
    return (
        f"nni2ray's stand-in nni package does not provide {fullname!r}; install the real nni "
        "in the trial's Python (pip install nni) and nni2ray will load the modules it lacks "
        "from there"
    )
