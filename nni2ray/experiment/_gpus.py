"""Read the GPU fields: trialGpuNumber, useActiveGpu, gpuIndices and maxTrialNumberPerGpu."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nni2ray.experiment._findings import Context, Key, show
from nni2ray.notes import Severity


@dataclass(frozen=True)
class GpuSettings:
    """The GPU part of the model."""

    gpu_number: float | None = None
    use_active_gpu: bool | None = None
    gpu_indices: tuple[int, ...] | None = None
    per_gpu: int = 1


def gpu_settings(config: dict[str, Any], service: dict[str, Any], ctx: Context) -> GpuSettings:
    """Collect the GPU settings; the training service's value wins over a top-level one."""
    key: Key = ("trialGpuNumber",)
    number = config.get("trialGpuNumber")
    if "trialGpuNumber" in service:
        key, number = ("trainingService", "trialGpuNumber"), service["trialGpuNumber"]
    if key in ctx.bad:
        number = None
    use_active = service.get("useActiveGpu")
    per_gpu = service.get("maxTrialNumberPerGpu", 1)
    indices = parse_gpu_indices(service.get("gpuIndices"), ("trainingService", "gpuIndices"), ctx)
    parse_gpu_indices(config.get("tunerGpuIndices"), ("tunerGpuIndices",), ctx)
    local = service.get("platform", "local") == "local"
    if local and number and use_active is None:
        message = "NNI needs useActiveGpu set when trialGpuNumber > 0; nni2ray lets Ray place GPUs"
        ctx.note(key, Severity.WARNING, message)
    if per_gpu != 1 and not number and ("trainingService", "maxTrialNumberPerGpu") not in ctx.bad:
        message = "has no effect without trialGpuNumber > 0 (NNI refuses it)"
        ctx.note(("trainingService", "maxTrialNumberPerGpu"), Severity.WARNING, message)
    per_gpu = per_gpu if isinstance(per_gpu, int) and per_gpu >= 1 else 1
    return GpuSettings(
        float(number) if number is not None else None, use_active, indices, int(per_gpu)
    )


def parse_gpu_indices(value: Any, path: Key, ctx: Context) -> tuple[int, ...] | None:
    """``1``, ``[0, 2]`` or ``"0,2"`` -> ``(0, 2)``; duplicates and negatives are problems."""
    if value is None or any(bad[: len(path)] == path for bad in ctx.bad):
        return None
    if isinstance(value, str):
        try:
            indices = [int(part) for part in value.split(",")]
        except ValueError:
            hint = 'write whole numbers separated by commas, e.g. "0,2"'
            ctx.error(path, f"bad GPU index list (got {show(value)})", hint)
            return None
    elif isinstance(value, int):
        indices = [value]
    else:
        indices = [int(item) for item in value]
    if any(index < 0 for index in indices):
        ctx.error(path, f"negative GPU index (got {show(value)})", "GPU indices start at 0")
        return None
    if len(set(indices)) != len(indices):
        ctx.error(path, f"duplicate GPU index (got {show(value)})", "list each GPU once")
        return None
    return tuple(indices)
