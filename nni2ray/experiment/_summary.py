"""Render an :class:`Experiment` as the readable summary printed by ``nni2ray check``."""

from __future__ import annotations

from typing import Any

from nni2ray.experiment._algorithms import lookup
from nni2ray.experiment._durations import format_seconds
from nni2ray.experiment._paths import display_path
from nni2ray.experiment.model import AlgorithmSpec, Experiment, NestedOption, Parameter
from nni2ray.secrets import mask_text, redact


def summarise(experiment: Experiment) -> list[str]:
    """One line per fact understood from the config, parameters indented under the space."""
    exp, limits = experiment, experiment.limits
    lines = [
        f"experiment: {exp.name or '(no name)'}",
        _source(exp),
        f"trial command: {mask_text(exp.trial.command)}",
        f"code directory: {display_path(exp.trial.code_directory)}",
        f"concurrency: {limits.concurrency} trial(s) at a time",
        f"max trials: {_or_unlimited(limits.max_trial_number)}",
        f"max experiment duration: {_duration(limits.max_experiment_duration)}",
        f"max trial duration: {_duration(limits.max_trial_duration)}",
        f"GPUs per trial: {_gpus(exp)}",
        f"platform: {exp.platform}",
    ]
    lines += _algorithm(exp.tuner)
    if exp.assessor is not None:
        lines += _algorithm(exp.assessor)
    return lines + _space(exp)


def _or_unlimited(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def _duration(seconds: int | None) -> str:
    return "unlimited" if seconds is None else f"{seconds} s ({format_seconds(seconds)})"


def _gpus(exp: Experiment) -> str:
    if exp.trial.gpu_number is None:
        text = "not set (CUDA_VISIBLE_DEVICES left as it is)"
    elif exp.trial.gpu_number == 0:
        text = "0 (GPUs hidden from trials)"
    else:
        text = f"{exp.trial.gpu_number:g}"
    extras = []
    if exp.gpu_indices is not None:
        extras.append(f"indices {', '.join(map(str, exp.gpu_indices))}")
    if exp.use_active_gpu is not None:
        extras.append(f"use active GPUs: {str(exp.use_active_gpu).lower()}")
    if exp.max_trial_number_per_gpu != 1:
        extras.append(f"{exp.max_trial_number_per_gpu} trials per GPU")
    return text + (f"; {'; '.join(extras)}" if extras else "")


def _algorithm(spec: AlgorithmSpec) -> list[str]:
    if spec.is_custom:
        what = f"custom {spec.class_name} from {display_path(spec.code_directory or '.')}"
    else:
        what = str(spec.name)
    mode = spec.optimize_mode
    entry = lookup(spec.name) if spec.name else None
    if mode is None and entry is not None and entry.default_optimize_mode is not None:
        mode_text = f"{entry.default_optimize_mode} ({entry.name}'s default)"
    else:
        mode_text = mode or "not set"
    lines = [f"{spec.role}: {what}", f"  optimize mode: {mode_text}"]
    args = redact(spec.class_args, strict=True)
    lines += [f"  classArgs.{key}: {value!r}" for key, value in args.items()]
    if spec.include_intermediate_results:
        lines.append("  includeIntermediateResults: true")
    return lines


def _space(exp: Experiment) -> list[str]:
    source = display_path(exp.search_space_file) if exp.search_space_file else "inline"
    if exp.use_annotation:
        source = f"generated from the annotations in {display_path(exp.trial.code_directory)}"
    if exp.search_space is None:
        return [f"search space: kept as written for the custom tuner ({source})"]
    lines = [f"search space: {len(exp.search_space)} parameter(s) ({source})"]
    for parameter in exp.search_space.parameters:
        lines += _parameter(parameter, "  ")
    return lines


def _parameter(parameter: Parameter, indent: str) -> list[str]:
    if parameter.type != "choice":
        values = ", ".join(f"{v:g}" for v in parameter.values)
        close = ") (integers, upper bound excluded)" if parameter.type == "randint" else "]"
        return [f"{indent}{parameter.name}: {parameter.type} [{values}{close}"]
    if not parameter.nested:
        options = ", ".join(_short(option) for option in parameter.options)
        return [f"{indent}{parameter.name}: choice of {len(parameter.options)}: {options}"]
    lines = [f"{indent}{parameter.name}: nested choice of {len(parameter.options)}"]
    for option in parameter.options:
        lines += _option(option, indent + "  ")
    return lines


def _option(option: NestedOption, indent: str) -> list[str]:
    lines = [f"{indent}_name {_short(option.name)}:"]
    for sub in option.parameters:
        lines += _parameter(sub, indent + "  ")
    lines += [f"{indent}  {key} = {_short(value)}" for key, value in option.constants]
    return lines


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _source(exp: Experiment) -> str:
    if exp.config_file.suffix == ".py":
        return f"launcher: {display_path(exp.config_file)} (NNI Python experiment API)"
    return f"config file: {display_path(exp.config_file)} (NNI config {exp.config_version})"
