"""Find the NNI config file in an experiment folder (or take the file given).

A folder is searched by content, not by name: any YAML file in it or in one of its direct
subfolders whose top-level keys are NNI config keys (v1 or v2) is a candidate. Python
files that build an experiment with ``nni.experiment`` are "launchers" (see
:func:`find_launchers`); they are reported when a folder has no YAML config.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from nni2ray.errors import ExperimentNotFoundError
from nni2ray.experiment._paths import display_path

#: Names that win over every other candidate in the folder itself, in order.
DEFAULT_NAMES = ("config.yml", "config.yaml")
#: Names that are candidates in the folder itself even when they cannot be parsed, so their
#: syntax error is reported instead of "no config".
PATTERNS = ("config*.yml", "config*.yaml")
YAML_SUFFIXES = (".yml", ".yaml")

#: Files larger than this are never NNI configs or launchers (they are a few KB).
MAX_BYTES = 256 * 1024

#: Top-level keys (lower case, underscores removed, as NNI matches them) that only an NNI
#: config has, v2 and v1.
_NNI_KEYS = frozenset(
    {
        "trialcommand",
        "trialcodedirectory",
        "trialconcurrency",
        "trialgpunumber",
        "searchspace",
        "searchspacefile",
        "searchspacepath",
        "trainingservice",
        "trainingserviceplatform",
        "maxtrialnumber",
        "maxtrialnum",
        "maxexperimentduration",
        "maxexecduration",
        "useannotation",
        "authorname",
        "experimentworkingdirectory",
    }
)
#: Keys that make a file an NNI config only with an algorithm or trial section under them.
_SECTION_KEYS = {
    "tuner": ("name", "builtintunername", "classname"),
    "advisor": ("name", "builtinadvisorname", "classname"),
    "assessor": ("name", "builtinassessorname", "classname"),
    "trial": ("command", "codedir"),
}

#: A Python file that builds an NNI experiment itself (imports ``nni.experiment``).
_LAUNCHER_PATTERN = re.compile(
    rb"from\s+nni\.experiment(?:\.[\w.]+)?\s+import|nni\.experiment\.Experiment\b"
)
#: Subfolders never searched.
_SKIPPED_FOLDERS = frozenset(
    {"__pycache__", "node_modules", "nni2ray-results", "venv", "env", "site-packages"}
)


def find_config(path: Path | str, config_name: str | None = None) -> Path:
    """Return the config file for ``path`` (a config file or an experiment folder).

    Args:
        path: a config file, or a folder holding one NNI config (``config.yml`` or
            ``config.yaml`` first; otherwise any YAML file with NNI config keys, in the
            folder itself or else in its direct subfolders).
        config_name: the file to pick when there are several (a name or a relative path,
            the ``.yml``/``.yaml`` suffix optional).

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
    found = config_candidates(target)
    if len(found) == 1:
        return found[0]
    if found:
        raise ExperimentNotFoundError(
            f"several NNI config files: {_listing(target, found)}",
            file=display_path(target),
            hint="choose one with --config NAME",
        )
    launchers = find_launchers(target)
    if launchers:
        name = _listing(target, launchers[:1])
        raise ExperimentNotFoundError(
            f"no YAML config here, but {name} starts an NNI experiment from Python "
            "(nni.experiment)",
            file=display_path(target),
            hint=f"run the launcher itself: nni2ray run {display_path(launchers[0])}",
        )
    raise ExperimentNotFoundError(
        "no NNI experiment in this folder or its direct subfolders (looked for YAML files "
        "with NNI config keys such as trialCommand or searchSpaceFile, and for Python "
        "launchers: *.py files with 'from nni.experiment import')",
        file=display_path(target),
        hint="give the config file itself",
    )


def config_candidates(folder: Path) -> list[Path]:
    """The NNI configs of ``folder``: its own if it has any, else its direct subfolders'."""
    own = [p for p in _files(folder, YAML_SUFFIXES) if _is_own_candidate(p)]
    if own:
        return own
    return [
        p for sub in _subfolders(folder) for p in _files(sub, YAML_SUFFIXES) if is_nni_config(p)
    ]


def find_launchers(folder: Path | str) -> list[Path]:
    """Python files in ``folder`` and its direct subfolders that start an NNI experiment.

    A launcher imports from ``nni.experiment`` (``from nni.experiment import Experiment``)
    or names ``nni.experiment.Experiment``; files are read up to :data:`MAX_BYTES`.
    """
    root = Path(folder)
    found = []
    for sub in (root, *_subfolders(root)):
        for path in _files(sub, (".py",)):
            head = _head(path)
            if head is not None and _LAUNCHER_PATTERN.search(head):
                found.append(path)
    return found


def is_nni_config(path: Path) -> bool:
    """Whether the YAML file at ``path`` is a mapping with NNI config keys.

    Only the node tree is built (no values, no alias expansion), so a hostile or huge
    file costs little; unreadable, non-YAML and non-mapping files are not configs.
    """
    head = _head(path)
    if head is None or len(head) >= MAX_BYTES:
        return False
    try:
        node = yaml.compose(head.decode("utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError):
        return False
    if not isinstance(node, yaml.MappingNode):
        return False
    keys = _keys(node)
    if keys & _NNI_KEYS:
        return True
    return any(
        isinstance(value, yaml.MappingNode) and _keys(value) & set(_SECTION_KEYS[key])
        for key, value in _items(node)
        if key in _SECTION_KEYS
    )


def _is_own_candidate(path: Path) -> bool:
    if is_nni_config(path):
        return True
    # A config*.yml that is not valid YAML is still meant as the config: load it to show
    # the syntax error. One that parses to a mapping of other keys belongs to another tool.
    if not any(path.match(pattern) for pattern in PATTERNS):
        return False
    head = _head(path)
    if head is None:
        return False
    try:
        node = yaml.compose(head.decode("utf-8", errors="replace"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return True
    return not isinstance(node, yaml.MappingNode)


def _items(node: yaml.MappingNode) -> list[tuple[str, yaml.Node]]:
    return [
        (str(key.value).replace("_", "").lower(), value)
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode)
    ]


def _keys(node: yaml.MappingNode) -> set[str]:
    return {key for key, _ in _items(node)}


def _head(path: Path) -> bytes | None:
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_BYTES)
    except OSError:
        return None


def _visible(folder: Path) -> list[Path]:
    """The folder's entries by name, hidden ones (``.name``) left out; none if unreadable."""
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError:
        return []
    return [p for p in entries if not p.name.startswith(".")]


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return [p for p in _visible(folder) if p.suffix.lower() in suffixes and p.is_file()]


def _subfolders(folder: Path) -> list[Path]:
    return [
        p
        for p in _visible(folder)
        if p.is_dir() and p.name not in _SKIPPED_FOLDERS and not (p / "pyvenv.cfg").exists()
    ]


def _listing(folder: Path, paths: list[Path]) -> str:
    return ", ".join(p.relative_to(folder).as_posix() for p in paths)


def _named(folder: Path, name: str) -> Path:
    for candidate in (name, f"{name}.yml", f"{name}.yaml"):
        if (folder / candidate).is_file():
            return folder / candidate
    available = config_candidates(folder)
    by_name = [p for p in available if name in (p.name, p.stem)]
    if len(by_name) == 1:
        return by_name[0]
    listed = _listing(folder, available) or "none"
    raise ExperimentNotFoundError(
        f"no config file named {name!r} in this folder (config files here: {listed})",
        file=display_path(folder),
        hint="pass one of the listed names to --config",
    )
