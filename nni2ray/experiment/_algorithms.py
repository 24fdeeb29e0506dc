"""NNI's built-in tuner, assessor and advisor registry, and the ``tuner``/``assessor`` builders."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from nni2ray.experiment._findings import Context, Key, show
from nni2ray.experiment._paths import display_path, resolve_path
from nni2ray.experiment.model import AlgorithmRole, AlgorithmSpec, OptimizeMode
from nni2ray.notes import Severity

Kind = Literal["tuner", "assessor", "advisor"]


@dataclass(frozen=True)
class Builtin:
    """One entry of NNI's ``builtin_algorithms.yml``."""

    name: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    default_optimize_mode: OptimizeMode | None = "maximize"


#: NNI 3.0's built-in algorithms (a config's name matches a name or alias, ignoring case),
#: each with the optimize_mode its classArgs default to.
BUILTINS: tuple[Builtin, ...] = (
    Builtin("TPE", "tuner", default_optimize_mode="minimize"),
    Builtin("TPE_legacy", "tuner", default_optimize_mode="minimize"),
    Builtin("Random", "tuner", default_optimize_mode=None),
    Builtin("Anneal", "tuner", default_optimize_mode="minimize"),
    Builtin("Evolution", "tuner"),
    Builtin("GridSearch", "tuner", default_optimize_mode=None),
    Builtin("Batch", "tuner", ("BatchTuner",), default_optimize_mode=None),
    Builtin("SMAC", "tuner"),
    Builtin("Metis", "tuner", ("MetisTuner",)),
    Builtin("GP", "tuner", ("GPTuner",)),
    Builtin("PBT", "tuner", ("PBTTuner",)),
    Builtin("DNGO", "tuner", ("DNGOTuner",)),
    Builtin("PPO", "tuner", ("PPOTuner",), default_optimize_mode=None),
    Builtin("NetworkMorphism", "tuner"),
    Builtin("RegularizedEvolutionTuner", "tuner"),
    Builtin("Hyperband", "advisor"),
    Builtin("BOHB", "advisor"),
    Builtin("Medianstop", "assessor"),
    Builtin("Curvefitting", "assessor", default_optimize_mode=None),
)

_BY_NAME = {n.lower(): b for b in BUILTINS for n in (b.name, *b.aliases)}
OPTIMIZE_MODES = ("maximize", "minimize")


def lookup(name: str) -> Builtin | None:
    """The registry entry for ``name`` (case-insensitive, aliases allowed), or None."""
    return _BY_NAME.get(name.lower())


def supported_names(section: str) -> str:
    """The canonical names that fit a ``tuner`` (tuners and advisors) or ``assessor`` section."""
    kinds = ("assessor",) if section == "assessor" else ("tuner", "advisor")
    return ", ".join(sorted((b.name for b in BUILTINS if b.kind in kinds), key=str.lower))


def build_algorithm(config: dict[str, Any], section: str, ctx: Context) -> AlgorithmSpec | None:
    """Build the spec of ``tuner``, ``assessor`` or ``advisor``; None if it has problems."""
    raw = config[section]
    key: Key = (section,)
    if any(bad[:1] == key for bad in ctx.bad):
        return None
    class_args = raw.get("classArgs") or {}
    include = bool(raw.get("includeIntermediateResults", False))
    if "name" in raw and "className" in raw:
        hint = "keep name for a built-in, or className and codeDirectory for a custom one"
        ctx.error((section, "className"), "cannot be set together with name", hint)
        return None
    if "name" in raw:
        spec = _builtin(raw["name"], section, class_args, include, ctx)
    elif "className" in raw:
        spec = _custom(raw, section, class_args, include, ctx)
    else:
        hint = "e.g. name: TPE, or className and codeDirectory for a custom one"
        ctx.error((section, "name"), "is required", hint)
        return None
    return spec


def _builtin(
    name: str, section: str, class_args: dict[str, Any], include: bool, ctx: Context
) -> AlgorithmSpec | None:
    path: Key = (section, "name")
    entry = lookup(name)
    wanted = "assessor" if section == "assessor" else "tuner"
    if entry is None:
        registered = _registered(name, section, class_args, include, ctx)
        if registered is not None:
            return registered
    if entry is None or (entry.kind == "assessor") != (wanted == "assessor"):
        supported = supported_names(section)
        what = "an NNI built-in assessor" if wanted == "assessor" else "an NNI built-in tuner"
        hint = f"supported: {supported}"
        if entry is None:
            hint += (
                "; a name registered with `nnictl algo register` is read from NNI's "
                "registered_algorithms.yml ($NNI_CONFIG_DIR, the environment's nni/ folder or "
                "~/.config/nni): not there; or write className and codeDirectory instead"
            )
        ctx.error(path, f"{name!r} is not {what}", hint, kind="unsupported")
        return None
    mode = _optimize_mode(class_args, section, ctx)
    role: AlgorithmRole = "advisor" if entry.kind == "advisor" else cast(AlgorithmRole, wanted)
    return AlgorithmSpec(
        role,
        name=entry.name,
        class_args=dict(class_args),
        optimize_mode=mode,
        include_intermediate_results=include,
    )


def registered_files() -> list[Path]:
    """Where NNI 3.0 keeps ``nnictl algo register``'s list (``registered_algorithms.yml``):
    ``$NNI_CONFIG_DIR``, else ``<sys.prefix>/nni`` in a virtualenv or conda environment,
    else ``~/.config/nni`` (nni2ray's Python may not be NNI's: both places are read)."""
    configured = os.environ.get("NNI_CONFIG_DIR")
    if configured:
        return [Path(configured) / "registered_algorithms.yml"]
    folders = []
    if sys.prefix != sys.base_prefix or Path(sys.prefix, "conda-meta").is_dir():
        folders.append(Path(sys.prefix, "nni"))
    folders.append(Path.home() / ".config" / "nni")
    return [folder / "registered_algorithms.yml" for folder in folders]


def _registered(
    name: str, section: str, class_args: dict[str, Any], include: bool, ctx: Context
) -> AlgorithmSpec | None:
    """``name`` as registered with ``nnictl algo register``: its className, run as a custom
    class (imported from the installed package, as NNI does)."""
    import yaml

    kinds = ("assessors",) if section == "assessor" else ("tuners", "advisors")
    for file in registered_files():
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if not isinstance(data, dict):
            continue
        for kind in kinds:
            for algo in data.get(kind) or []:
                if not isinstance(algo, dict) or not isinstance(algo.get("className"), str):
                    continue
                names = [algo.get("builtinName"), algo.get("alias")]
                if name.lower() not in [n.lower() for n in names if isinstance(n, str)]:
                    continue
                text = (
                    f"{name} is registered with nnictl algo register ({file}): its class "
                    f"{algo['className']} runs in the driver, imported from the installed package"
                )
                ctx.note((section, "name"), Severity.EXACT, text)
                mode = class_args.get("optimize_mode")
                role: AlgorithmRole = (
                    "advisor" if kind == "advisors" else cast(AlgorithmRole, section)
                )
                return AlgorithmSpec(
                    role,
                    class_name=algo["className"],
                    class_args=dict(class_args),
                    optimize_mode=mode if mode in OPTIMIZE_MODES else None,
                    include_intermediate_results=include,
                )
    return None


def _custom(
    raw: dict[str, Any], section: str, class_args: dict[str, Any], include: bool, ctx: Context
) -> AlgorithmSpec | None:
    class_name = raw["className"]
    directory = _code_directory(raw, section, ctx)
    if "." not in class_name:
        hint = f"write it as module.Class, e.g. my_tuner.{class_name}"
        ctx.error((section, "className"), f"needs a module name (got {class_name!r})", hint)
        return None
    if directory is None:
        return None
    mode = class_args.get("optimize_mode")
    if mode is not None and mode not in OPTIMIZE_MODES:
        message = f"not 'maximize' or 'minimize' ({show(mode)}); passed to the class as it is"
        ctx.note((section, "classArgs", "optimize_mode"), Severity.WARNING, message)
        mode = None
    role: AlgorithmRole = "advisor" if section == "advisor" else cast(AlgorithmRole, section)
    return AlgorithmSpec(
        role,
        class_name=class_name,
        code_directory=directory,
        class_args=dict(class_args),
        optimize_mode=mode,
        include_intermediate_results=include,
    )


def _code_directory(raw: dict[str, Any], section: str, ctx: Context) -> Path | None:
    path: Key = (section, "codeDirectory")
    if "codeDirectory" not in raw:
        hint = "set codeDirectory to the folder that holds the custom module"
        ctx.error(path, "is required for a custom algorithm (className)", hint)
        return None
    directory = resolve_path(raw["codeDirectory"], ctx.base_dir)
    if not directory.is_dir():
        message = f"is not a folder (got {raw['codeDirectory']!r}, {display_path(directory)})"
        ctx.error(path, message, "create it or fix the path (relative to the config file)")
        return None
    return directory


def _optimize_mode(class_args: dict[str, Any], section: str, ctx: Context) -> OptimizeMode | None:
    mode = class_args.get("optimize_mode")
    if mode is None:
        return None
    if mode not in OPTIMIZE_MODES:
        path: Key = (section, "classArgs", "optimize_mode")
        message = f"must be 'maximize' or 'minimize' (got {show(mode)})"
        ctx.error(path, message, "write optimize_mode: maximize or optimize_mode: minimize")
        return None
    return cast(OptimizeMode, mode)
