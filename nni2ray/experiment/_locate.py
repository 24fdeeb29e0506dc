"""Find the NNI config file in an experiment folder (or take the file given)."""

from __future__ import annotations

from pathlib import Path

from nni2ray.errors import ExperimentNotFoundError
from nni2ray.experiment._paths import display_path

#: Names tried first, in order, in a folder.
DEFAULT_NAMES = ("config.yml", "config.yaml")
PATTERNS = ("config*.yml", "config*.yaml")


def find_config(path: Path | str, config_name: str | None = None) -> Path:
    """Return the config file for ``path`` (a config file or an experiment folder).

    Args:
        path: a config file, or a folder holding ``config.yml``/``config.yaml`` or exactly
            one ``config*.yml``/``config*.yaml``.
        config_name: the file to pick inside the folder when there are several.

    Raises:
        ExperimentNotFoundError: nothing there, no config, or several configs and no choice.
    """
    target = Path(path).expanduser()
    if target.is_file():
        return target
    if not target.is_dir():
        raise ExperimentNotFoundError(
            "no such file or folder",
            file=display_path(target),
            hint="give an NNI experiment folder or its config file",
        )
    if config_name is not None:
        return _named(target, config_name)
    for name in DEFAULT_NAMES:
        if (target / name).is_file():
            return target / name
    found = _candidates(target)
    if len(found) == 1:
        return found[0]
    if not found:
        tried = ", ".join((*DEFAULT_NAMES, *PATTERNS))
        raise ExperimentNotFoundError(
            f"no NNI config file in this folder (tried {tried})",
            file=display_path(target),
            hint="give the config file itself, or add a config.yml",
        )
    raise ExperimentNotFoundError(
        f"several NNI config files: {', '.join(p.name for p in found)}",
        file=display_path(target),
        hint="choose one with --config NAME",
    )


def _candidates(folder: Path) -> list[Path]:
    found = {p for pattern in PATTERNS for p in folder.glob(pattern) if p.is_file()}
    return sorted(found, key=lambda p: p.name)


def _named(folder: Path, name: str) -> Path:
    for candidate in (name, f"{name}.yml", f"{name}.yaml"):
        if (folder / candidate).is_file():
            return folder / candidate
    available = ", ".join(p.name for p in _candidates(folder)) or "none"
    raise ExperimentNotFoundError(
        f"no config file named {name!r} in this folder (config files here: {available})",
        file=display_path(folder),
        hint="pass one of the listed names to --config",
    )
