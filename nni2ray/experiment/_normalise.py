"""Turn a v1, v2 or mixed NNI config into one canonical v2-shaped dict, keeping origins."""

from __future__ import annotations

import difflib
import math
from pathlib import PurePosixPath
from typing import Any

from nni2ray.experiment._fields import (
    ALGORITHM,
    INTEGER_FIELDS,
    LOCAL_CONFIG,
    SERVICE,
    TOP,
    TRIAL,
    V1_PLATFORMS,
    Field,
    key_norm,
)
from nni2ray.experiment._findings import Context, Key, Origin, show
from nni2ray.experiment._read import DocPath, Document
from nni2ray.notes import Severity

Table = dict[str, tuple[str, Field]]


def is_v1(data: dict[Any, Any]) -> bool:
    """NNI's rule: a truthy ``trainingServicePlatform`` key makes the file a v1 config."""
    return any(
        isinstance(k, str) and key_norm(k) == "trainingserviceplatform" and v
        for k, v in data.items()
    )


def normalise(doc: Document, ctx: Context) -> dict[str, Any]:
    """Map every key of ``doc`` (a mapping) to its canonical v2 place, noting what was odd."""
    out: dict[str, Any] = {}
    _fill(out, doc.data, (), (), TOP, doc, ctx)
    for role in ("tuner", "assessor", "advisor"):
        if isinstance(out.get(role), dict):
            _fold_v1_algorithm(out, role, ctx)
    _coerce_integers(out, (), ctx)
    if isinstance(out.get("trainingService"), dict):
        _coerce_integers(out["trainingService"], ("trainingService",), ctx)
    return out


def dotted(path: DocPath) -> str:
    """``("tuner", "classArgs", 0)`` -> ``tuner.classArgs[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _fill(
    out: dict[str, Any],
    data: dict[Any, Any],
    raw: DocPath,
    key: Key,
    table: Table,
    doc: Document,
    ctx: Context,
    strict: bool = True,
) -> None:
    for raw_key, value in data.items():
        rpath: DocPath = (*raw, str(raw_key))
        origin = Origin(dotted(rpath), doc.line_of(rpath))
        entry = table.get(key_norm(raw_key)) if isinstance(raw_key, str) else None
        if entry is None:
            if strict:
                _unknown(raw_key, origin, table, ctx)
            else:
                _set(out, str(raw_key), value, rpath, (*key, str(raw_key)), origin, doc, ctx)
            continue
        _, field = entry
        if field.v1 and ctx.version == "v2" and table in (TOP, ALGORITHM):
            _mixed(field, origin, ctx)
        _dispatch(out, field, value, rpath, key, origin, doc, ctx)


def _dispatch(
    out: dict[str, Any],
    field: Field,
    value: Any,
    rpath: DocPath,
    key: Key,
    origin: Origin,
    doc: Document,
    ctx: Context,
) -> None:
    path = (*key, field.name)
    if field.kind in ("drop", "multiphase"):
        ctx.origins[path] = origin
        _dropped(field, value, path, ctx)
    elif field.kind == "platform":
        _platform(out, value, origin, ctx)
    elif field.kind in ("trial", "local", "algorithm"):
        _section(out, field, value, rpath, path, origin, doc, ctx)
    elif field.kind == "service":
        _training_service(out, value, rpath, origin, doc, ctx)
    elif key == () and field.name in V1_SERVICE_NAMES:
        service_path = ("trainingService", field.name)
        _set(_service(out), field.name, value, rpath, service_path, origin, doc, ctx)
    else:
        _set(out, field.name, value, rpath, path, origin, doc, ctx, alias=field.v1)


def _dropped(field: Field, value: Any, path: Key, ctx: Context) -> None:
    if field.kind == "drop":
        ctx.note(path, Severity.IGNORED, "a v1 field that NNI no longer supports; ignored")
    elif value:
        hint = "remove multiPhase; nni2ray gives each trial one parameter set, like NNI 3.0"
        ctx.error(path, f"multi-phase trials are not supported (got {show(value)})", hint)


def _section(
    out: dict[str, Any],
    field: Field,
    value: Any,
    rpath: DocPath,
    path: Key,
    origin: Origin,
    doc: Document,
    ctx: Context,
) -> None:
    """``tuner``-like sections keep their place; v1 ``trial``/``localConfig`` are flattened."""
    if field.kind == "algorithm" and isinstance(value, dict):
        section: dict[str, Any] = {}
        ctx.origins[path] = origin
        _fill(section, value, rpath, path, ALGORITHM, doc, ctx)
        out[field.name] = section
    elif field.kind == "algorithm" or value is None:
        _set(out, field.name, value, rpath, path, origin, doc, ctx)
    elif not isinstance(value, dict):
        ctx.origins[path] = origin
        ctx.error(path, f"must be a mapping (got {show(value)})", "indent its fields under it")
    elif field.kind == "trial":
        _fill(out, value, rpath, (), TRIAL, doc, ctx)
    else:
        _fill(_service(out), value, rpath, ("trainingService",), LOCAL_CONFIG, doc, ctx)


V1_SERVICE_NAMES = frozenset(f.name for _, f in TOP.values() if f.kind == "raw" and f.v1)


def _service(out: dict[str, Any]) -> dict[str, Any]:
    service = out.setdefault("trainingService", {})
    return service if isinstance(service, dict) else {}


def _set(
    out: dict[str, Any],
    name: str,
    value: Any,
    rpath: DocPath,
    path: Key,
    origin: Origin,
    doc: Document,
    ctx: Context,
    alias: bool = False,
) -> None:
    if path in ctx.origins and name in out:
        previous = ctx.origins[path]
        if alias:  # a v1 spelling never overrides the v2 key
            message = f"ignored: already set as {previous.field!r} (line {previous.line})"
            ctx.note_at(origin, Severity.WARNING, message)
            return
        if path not in ctx.aliased:
            message = f"also set as {previous.field!r}; this later value is used"
            ctx.note_at(origin, Severity.WARNING, message)
    ctx.aliased.discard(path)
    if alias:
        ctx.aliased.add(path)
    ctx.origins[path] = origin
    if value is None:  # NNI: null is the same as leaving the key out
        out.pop(name, None)
        return
    _record(value, rpath, path, doc, ctx)
    out[name] = value


def _record(value: Any, rpath: DocPath, path: Key, doc: Document, ctx: Context) -> None:
    """Remember the origin of every nested key and item, for messages about them."""
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = list(enumerate(value))
    for part, child in items:
        child_rpath, child_path = (*rpath, part), (*path, part)
        ctx.origins[child_path] = Origin(dotted(child_rpath), doc.line_of(child_rpath))
        _record(child, child_rpath, child_path, doc, ctx)


def _training_service(
    out: dict[str, Any], value: Any, rpath: DocPath, origin: Origin, doc: Document, ctx: Context
) -> None:
    path: Key = ("trainingService",)
    ctx.origins[path] = origin
    if isinstance(value, dict):
        _fill(_service(out), value, rpath, path, SERVICE, doc, ctx, strict=_is_local(value))
    elif isinstance(value, list):
        services: list[Any] = []
        for index, item in enumerate(value):
            item_rpath, item_path = (*rpath, index), (*path, index)
            ctx.origins[item_path] = Origin(dotted(item_rpath), doc.line_of(item_rpath))
            if isinstance(item, dict):
                service: dict[str, Any] = {}
                _fill(service, item, item_rpath, item_path, SERVICE, doc, ctx, _is_local(item))
                item = service
            services.append(item)
        out["trainingService"] = services
    else:
        _set(out, "trainingService", value, rpath, path, origin, doc, ctx)


def _is_local(service: dict[Any, Any]) -> bool:
    platform = next(
        (v for k, v in service.items() if isinstance(k, str) and key_norm(k) == "platform"),
        "local",
    )
    return platform == "local"


def _platform(out: dict[str, Any], value: Any, origin: Origin, ctx: Context) -> None:
    path: Key = ("trainingService", "platform")
    ctx.origins[path] = origin
    name = V1_PLATFORMS.get(value) if isinstance(value, str) else None
    if name is None:
        choices = ", ".join(V1_PLATFORMS)
        ctx.error(path, f"unknown v1 platform (got {value!r})", f"use one of: {choices}")
        return
    _service(out)["platform"] = name


def _mixed(field: Field, origin: Origin, ctx: Context) -> None:
    if field.kind in ("drop", "multiphase"):
        return
    target = {
        "trial": "trialCommand/trialCodeDirectory/trialGpuNumber",
        "local": "trainingService",
        "platform": "trainingService.platform",
    }
    v2_name = target.get(field.kind, field.name)
    message = f"a v1 key in a v2 config; read as {v2_name!r} (NNI would refuse it; rename it)"
    ctx.note_at(origin, Severity.WARNING, message)


def _unknown(raw_key: Any, origin: Origin, table: Table, ctx: Context) -> None:
    known = {norm: spelling for norm, (spelling, _) in table.items()}
    close = difflib.get_close_matches(key_norm(str(raw_key)), list(known), n=1, cutoff=0.6)
    hint = f"did you mean {known[close[0]]!r}? " if close else ""
    message = f"unknown key; {hint}nni2ray ignores it (NNI would refuse the config)"
    ctx.note_at(origin, Severity.WARNING, message)


def _fold_v1_algorithm(out: dict[str, Any], role: str, ctx: Context) -> None:
    section = out[role]
    class_file = section.pop("classFileName", None)
    if class_file is not None:
        path: Key = (role, "classFileName")
        if not isinstance(class_file, str) or not class_file.endswith(".py"):
            ctx.error(path, f"must name a .py file (got {class_file!r})", "e.g. my_tuner.py")
        elif not isinstance(section.get("className"), str):
            ctx.error(path, "needs className next to it", "add className: MyTuner")
        else:
            module = str(PurePosixPath(class_file.replace("\\", "/")).with_suffix(""))
            section["className"] = f"{module.replace('/', '.')}.{section['className']}"
    if "gpuIndices" in section:
        out["tunerGpuIndices"] = section.pop("gpuIndices")
        ctx.origins[("tunerGpuIndices",)] = ctx.where((role, "gpuIndices"))


def _coerce_integers(section: dict[str, Any], key: Key, ctx: Context) -> None:
    """YAML 1.1 reads ``1e3`` as a string; NNI rejects strings, nni2ray reads whole numbers."""
    for name in INTEGER_FIELDS & section.keys():
        value = section[name]
        if not isinstance(value, str):
            continue
        try:
            number = float(value)
        except ValueError:
            continue
        if math.isfinite(number) and number == int(number):
            section[name] = int(number)
            message = f"a number written as a string ({value!r}); read as {int(number)}"
            ctx.note((*key, name), Severity.WARNING, message)
