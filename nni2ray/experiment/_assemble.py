"""Build the :class:`Experiment` from a normalised, shape-checked config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nni2ray.experiment._algorithms import build_algorithm
from nni2ray.experiment._durations import ACCEPTED_FORMS, DurationError, parse_duration
from nni2ray.experiment._fields import PLATFORMS
from nni2ray.experiment._findings import Context, Key
from nni2ray.experiment._gpus import gpu_settings
from nni2ray.experiment._paths import display_path, is_inside, resolve_path
from nni2ray.experiment._space import load_search_space
from nni2ray.experiment.model import AlgorithmSpec, Experiment, Limits, TrialSpec
from nni2ray.notes import Severity


def build_experiment(config: dict[str, Any], config_file: Path, ctx: Context) -> Experiment:
    """Check the meaning of every field, then raise every problem at once or build the model."""
    service = _service(config)
    trial = _trial(config, service, ctx)
    limits = _limits(config, ctx)
    tuner, assessor = _algorithms(config, ctx)
    gpus = gpu_settings(config, service, ctx)
    platform = _platform(config, ctx)
    code_dir = trial[1] if trial is not None else None
    space, raw_space, space_file = load_search_space(config, tuner, ctx, code_dir)
    ctx.raise_problems()
    if trial is None or limits is None or tuner is None:
        raise AssertionError("unreachable: a missing part always records a problem")
    work_dir = config.get("experimentWorkingDirectory")
    return Experiment(
        config_file=config_file,
        config_version=ctx.version,
        trial=TrialSpec(trial[0], trial[1], gpus.gpu_number),
        limits=limits,
        tuner=tuner,
        name=config.get("experimentName"),
        assessor=assessor,
        search_space=space,
        raw_search_space=raw_space,
        search_space_file=space_file,
        use_annotation=config.get("useAnnotation") is True,
        platform=platform,
        use_active_gpu=gpus.use_active_gpu,
        gpu_indices=gpus.gpu_indices,
        max_trial_number_per_gpu=gpus.per_gpu,
        experiment_working_directory=resolve_path(work_dir, ctx.base_dir) if work_dir else None,
        notes=tuple(ctx.notes),
        root=ctx.tree,
    )


def _service(config: dict[str, Any]) -> dict[str, Any]:
    service = config.get("trainingService")
    return service if isinstance(service, dict) else {}


def _shortcut(config: dict[str, Any], service: dict[str, Any], name: str) -> tuple[Key, Any]:
    """NNI copies top-level shortcut fields into the training service unless it sets its own."""
    if name in service:
        return ("trainingService", name), service[name]
    return (name,), config.get(name)


def _trial(
    config: dict[str, Any], service: dict[str, Any], ctx: Context
) -> tuple[str, Path] | None:
    command_key, command = _shortcut(config, service, "trialCommand")
    dir_key, directory = _shortcut(config, service, "trialCodeDirectory")
    if command_key in ctx.bad or dir_key in ctx.bad:
        return None
    if command is None or not command.strip():
        example = (
            "trial: {command: python3 main.py}"
            if ctx.version == "v1"
            else "trialCommand: python3 main.py"
        )
        ctx.error(command_key, "is required", f"e.g. {example}")
        return None
    code_dir = resolve_path(directory if directory is not None else ".", ctx.base_dir)
    if not code_dir.is_dir():
        message = f"is not a folder (got {directory!r}, {display_path(code_dir)})"
        ctx.error(dir_key, message, "create it or fix the path (relative to the config file)")
        return None
    if not is_inside(code_dir, ctx.tree):
        message = (
            f"the code directory {display_path(code_dir)} is outside the experiment folder "
            f"{display_path(ctx.tree)}; `convert` copies it only with --allow-outside"
        )
        ctx.note(dir_key, Severity.WARNING, message)
    else:
        ctx.code_dir = code_dir
    return command, code_dir


def _limits(config: dict[str, Any], ctx: Context) -> Limits | None:
    durations: dict[str, int | None] = {}
    for name in ("maxExperimentDuration", "maxTrialDuration"):
        durations[name] = _duration(config, name, ctx)
    if ctx.version == "v1" and durations["maxTrialDuration"] is not None:
        message = "NNI 3.0 drops v1 maxTrialDuration silently; nni2ray honours it"
        ctx.note(("maxTrialDuration",), Severity.WARNING, message)
    if ("trialConcurrency",) in ctx.bad:
        return None
    max_trials = None if ("maxTrialNumber",) in ctx.bad else config.get("maxTrialNumber")
    return Limits(
        concurrency=int(config["trialConcurrency"]),
        max_trial_number=int(max_trials) if max_trials is not None else None,
        max_experiment_duration=durations["maxExperimentDuration"],
        max_trial_duration=durations["maxTrialDuration"],
    )


def _duration(config: dict[str, Any], name: str, ctx: Context) -> int | None:
    value = config.get(name)
    if value is None or (name,) in ctx.bad:
        return None
    try:
        seconds = parse_duration(value)
    except DurationError as exc:
        ctx.error((name,), str(exc), f"write {ACCEPTED_FORMS}")
        return None
    if isinstance(value, float):
        message = f"a fractional number of seconds ({value!r}); NNI refuses it, read as {seconds}s"
        ctx.note((name,), Severity.WARNING, message)
    return seconds


def _algorithms(
    config: dict[str, Any], ctx: Context
) -> tuple[AlgorithmSpec | None, AlgorithmSpec | None]:
    if "tuner" in config and "advisor" in config:
        hint = "advisor is deprecated in NNI: keep only tuner (Hyperband and BOHB go there too)"
        ctx.error(("advisor",), "cannot be set together with tuner", hint)
        return None, None
    section = "advisor" if "advisor" in config else "tuner"
    if section not in config:
        ctx.error(("tuner",), "is required", "e.g. tuner: {name: TPE}")
        return None, None
    tuner = build_algorithm(config, section, ctx)
    assessor = build_algorithm(config, "assessor", ctx) if "assessor" in config else None
    if assessor is not None and tuner is not None and tuner.role == "advisor":
        message = f"ignored: the {tuner.name or tuner.class_name} advisor replaces any assessor"
        ctx.note(("assessor",), Severity.IGNORED, message)
        assessor = None
    return tuner, assessor


def _platform(config: dict[str, Any], ctx: Context) -> str:
    service = config.get("trainingService")
    if service is None:
        message = "no trainingService; using platform local (NNI requires it)"
        ctx.note(("trainingService",), Severity.WARNING, message)
        return "local"
    if any(bad[:1] == ("trainingService",) for bad in ctx.bad):
        return "local"
    if isinstance(service, list):
        names = ", ".join(str(item.get("platform")) for item in service)
        _not_local(f"hybrid ({names})", ctx)
        return "hybrid"
    platform = str(service["platform"])
    if platform not in PLATFORMS:
        hint = f"use one of: {', '.join(PLATFORMS)}"
        ctx.error(("trainingService", "platform"), f"unknown platform (got {platform!r})", hint)
    elif platform != "local":
        _not_local(platform, ctx)
    return platform


def _not_local(platform: str, ctx: Context) -> None:
    message = (
        f"platform {platform}: nni2ray runs trials on the local machine, or on the Ray "
        "cluster given by --address, instead"
    )
    ctx.note(("trainingService",), Severity.WARNING, message)
