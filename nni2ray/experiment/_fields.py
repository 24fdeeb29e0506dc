"""The config keys nni2ray knows, v2 names first, v1 and mixed-file spellings as aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: What to do with a key's value once the key is recognised.
#:   value: copy as it is; section kinds recurse with their own table; drop: IGNORED note;
#:   v1-only kinds are folded into v2 fields by the normaliser.
Kind = Literal[
    "value", "raw", "algorithm", "service", "trial", "local", "platform", "drop", "multiphase"
]


@dataclass(frozen=True)
class Field:
    """One accepted spelling: the canonical v2 name it fills, and whether it is a v1 key."""

    name: str
    kind: Kind = "value"
    v1: bool = False


def key_norm(key: str) -> str:
    """NNI's key matching: case-insensitive, underscores ignored."""
    return key.replace("_", "").lower()


def _table(*fields: tuple[str, Field]) -> dict[str, tuple[str, Field]]:
    return {key_norm(spelling): (spelling, f) for spelling, f in fields}


def _v2(name: str, kind: Kind = "value") -> tuple[str, Field]:
    return name, Field(name, kind)


def _v1(spelling: str, name: str, kind: Kind = "value") -> tuple[str, Field]:
    return spelling, Field(name, kind, v1=True)


_V1_DROPPED = ("authorName", "description", "multiThread", "versionCheck", "logCollection")
_V1_SERVICES = (
    "machineList",
    "remoteConfig",
    "paiConfig",
    "kubeflowConfig",
    "frameworkcontrollerConfig",
    "amlConfig",
    "dltsConfig",
    "adlConfig",
    "hybridConfig",
)

TOP = _table(
    _v2("experimentName"),
    _v2("experimentType"),
    _v2("searchSpaceFile"),
    _v2("searchSpace", "raw"),
    _v2("trialCommand"),
    _v2("trialCodeDirectory"),
    _v2("trialConcurrency"),
    _v2("trialGpuNumber"),
    _v2("maxExperimentDuration"),
    _v2("maxTrialNumber"),
    _v2("maxTrialDuration"),
    _v2("nniManagerIp"),
    _v2("useAnnotation"),
    _v2("debug"),
    _v2("logLevel"),
    _v2("experimentWorkingDirectory"),
    _v2("tunerGpuIndices"),
    _v2("tuner", "algorithm"),
    _v2("assessor", "algorithm"),
    _v2("advisor", "algorithm"),
    _v2("trainingService", "service"),
    _v2("sharedStorage", "raw"),
    _v1("maxExecDuration", "maxExperimentDuration"),
    _v1("maxTrialNum", "maxTrialNumber"),
    _v1("searchSpacePath", "searchSpaceFile"),
    _v1("logDir", "experimentWorkingDirectory"),
    _v1("trainingServicePlatform", "platform", "platform"),
    _v1("trial", "trial", "trial"),
    _v1("localConfig", "localConfig", "local"),
    _v1("multiPhase", "multiPhase", "multiphase"),
    *(_v1(name, name, "drop") for name in _V1_DROPPED),
    *(_v1(name, name, "raw") for name in _V1_SERVICES),
)

ALGORITHM = _table(
    _v2("name"),
    _v2("className"),
    _v2("codeDirectory"),
    _v2("classArgs", "raw"),
    _v1("builtinTunerName", "name"),
    _v1("builtinAssessorName", "name"),
    _v1("builtinAdvisorName", "name"),
    _v1("codeDir", "codeDirectory"),
    _v1("classFileName", "classFileName"),
    _v1("includeIntermediateResults", "includeIntermediateResults"),
    _v1("gpuIndices", "gpuIndices"),
    _v1("gpuNum", "gpuNum", "drop"),
)

TRIAL = _table(
    _v1("command", "trialCommand"),
    _v1("codeDir", "trialCodeDirectory"),
    _v1("gpuNum", "trialGpuNumber"),
    _v1("nasMode", "nasMode", "drop"),
)

#: v2 local training service; also the fields read from any platform.
SERVICE = _table(
    _v2("platform"),
    _v2("useActiveGpu"),
    _v2("maxTrialNumberPerGpu"),
    _v2("gpuIndices"),
    _v2("reuseMode"),
    _v2("trialCommand"),
    _v2("trialCodeDirectory"),
    _v2("trialGpuNumber"),
    _v2("nniManagerIp"),
    _v2("debug"),
)

LOCAL_CONFIG = _table(
    _v1("gpuIndices", "gpuIndices"),
    _v1("maxTrialNumPerGpu", "maxTrialNumberPerGpu"),
    _v1("useActiveGpu", "useActiveGpu"),
)

#: Fields that hold whole numbers; YAML 1.1 may have loaded them as strings (``1e3``).
INTEGER_FIELDS = frozenset(
    {"trialConcurrency", "maxTrialNumber", "trialGpuNumber", "maxTrialNumberPerGpu"}
)

#: v1 platform names NNI's converter accepts, and their v2 names.
V1_PLATFORMS = {
    "local": "local",
    "remote": "remote",
    "pai": "openpai",
    "aml": "aml",
    "kubeflow": "kubeflow",
    "frameworkcontroller": "frameworkcontroller",
}

#: Platforms NNI 3.0 accepts in ``trainingService.platform``.
PLATFORMS = ("local", "remote", "openpai", "aml", "dlc", "kubeflow", "frameworkcontroller")
