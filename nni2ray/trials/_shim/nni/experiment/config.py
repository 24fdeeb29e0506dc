"""nni2ray's stand-in for NNI's experiment config classes (``nni.experiment.config``).

Standard library only. The classes keep NNI's snake_case fields, accept camelCase or
snake_case keyword arguments like NNI, and refuse unknown attributes with NNI's
``AttributeError``. ``json()`` gives the camelCase v2 config that nni2ray loads; paths stay
as written and are resolved by nni2ray against the working directory of ``start()``.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

__all__ = [
    "AlgorithmConfig",
    "CustomAlgorithmConfig",
    "ExperimentConfig",
    "LocalConfig",
    "RemoteConfig",
    "RemoteMachineConfig",
    "TrainingServiceConfig",
]


def _norm(key: str) -> str:
    return key.replace("_", "").lower()


def camel_case(key: str) -> str:
    words = key.strip("_").split("_")
    return words[0] + "".join(word.title() for word in words[1:])


class ConfigBase:
    """Fields with defaults; NNI's typo guard on attribute assignment."""

    _fields: ClassVar[dict[str, Any]] = {}

    def __init__(self, **kwargs: Any) -> None:
        for name, default in self._fields.items():
            object.__setattr__(self, name, copy.deepcopy(default))
        by_norm = {_norm(name): name for name in self._fields}
        unknown: list[str] = []
        for key, value in kwargs.items():
            field_name = by_norm.get(_norm(key))
            if field_name is None:
                unknown.append(key)
            else:
                object.__setattr__(self, field_name, value)
        if unknown:
            raise AttributeError(
                f"{type(self).__name__} does not have field(s) {', '.join(sorted(unknown))}"
            )
        self._convert_nested()

    def _convert_nested(self) -> None:
        """Turn nested dicts (from JSON-style keyword arguments) into config objects."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in self._fields:
            object.__setattr__(self, name, value)
            return
        raise AttributeError(f"{type(self).__name__} does not have field {name}")

    def __getattr__(self, name: str) -> Any:  # only for names that are not set
        raise AttributeError(f"{type(self).__name__} does not have field {name}")

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._fields)
        return f"{type(self).__name__}({body})"

    def json(self) -> dict[str, Any]:
        """The camelCase form, fields that are None left out (as NNI does)."""
        return {
            camel_case(k): _to_json(getattr(self, k))
            for k in self._fields
            if getattr(self, k) is not None
        }

    def validate(self) -> None:
        """nni2ray validates the config when the experiment starts."""


def _to_json(value: Any) -> Any:
    if isinstance(value, ConfigBase):
        return value.json()
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


class _AlgorithmConfig(ConfigBase):
    _fields: ClassVar[dict[str, Any]] = {
        "name": None,
        "class_name": None,
        "code_directory": None,
        "class_args": None,
    }


class AlgorithmConfig(_AlgorithmConfig):
    """A built-in tuner or assessor: ``name`` and ``class_args``."""


class CustomAlgorithmConfig(_AlgorithmConfig):
    """A tuner or assessor of your own: ``class_name``, ``code_directory``, ``class_args``."""

    _fields: ClassVar[dict[str, Any]] = dict(_AlgorithmConfig._fields, code_directory=".")


_SERVICE_FIELDS: dict[str, Any] = {
    "platform": None,
    "trial_command": None,
    "trial_code_directory": None,
    "trial_gpu_number": None,
    "nni_manager_ip": None,
    "debug": False,
}


class TrainingServiceConfig(ConfigBase):
    """Any other platform: every field is accepted (nni2ray runs trials locally anyway)."""

    _fields: ClassVar[dict[str, Any]] = dict(_SERVICE_FIELDS)

    def __setattr__(self, name: str, value: Any) -> None:
        if type(self) is TrainingServiceConfig and not name.startswith("_"):
            if name not in self._fields:
                object.__setattr__(self, "_fields", dict(self._fields, **{name: None}))
        super().__setattr__(name, value)

    def json(self) -> dict[str, Any]:
        return {
            camel_case(k): _to_json(v)
            for k, v in vars(self).items()
            if not k.startswith("_") and v is not None
        }


class LocalConfig(TrainingServiceConfig):
    _fields: ClassVar[dict[str, Any]] = dict(
        _SERVICE_FIELDS,
        platform="local",
        use_active_gpu=None,
        max_trial_number_per_gpu=1,
        gpu_indices=None,
        reuse_mode=False,
    )


class RemoteMachineConfig(ConfigBase):
    _fields: ClassVar[dict[str, Any]] = {
        "host": None,
        "port": 22,
        "user": None,
        "password": None,
        "ssh_key_file": "~/.ssh/id_rsa",
        "ssh_passphrase": None,
        "use_active_gpu": False,
        "max_trial_number_per_gpu": 1,
        "gpu_indices": None,
        "python_path": None,
    }


class RemoteConfig(TrainingServiceConfig):
    machine_list: Any
    _fields: ClassVar[dict[str, Any]] = dict(
        _SERVICE_FIELDS, platform="remote", machine_list=None, reuse_mode=False
    )

    def _convert_nested(self) -> None:
        machines = self.machine_list
        if isinstance(machines, list):
            self.machine_list = [
                RemoteMachineConfig(**m) if isinstance(m, dict) else m for m in machines
            ]

    def json(self) -> dict[str, Any]:
        return ConfigBase.json(self)


def _service_for(platform: Any) -> TrainingServiceConfig:
    if isinstance(platform, TrainingServiceConfig):
        return platform
    if isinstance(platform, dict):
        kwargs = dict(platform)
        name = kwargs.get("platform")
        cls = {"local": LocalConfig, "remote": RemoteConfig}.get(str(name))
        if cls is not None:
            return cls(**kwargs)
        service = TrainingServiceConfig()
        for key, value in kwargs.items():
            setattr(service, key, value)
        return service
    cls = {"local": LocalConfig, "remote": RemoteConfig}.get(str(platform))
    if cls is not None:
        return cls()
    service = TrainingServiceConfig()
    service.platform = platform
    return service


class ExperimentConfig(ConfigBase):
    """The experiment config, as in NNI: ``ExperimentConfig('local')`` or keyword fields."""

    training_service: Any
    tuner: Any
    assessor: Any
    advisor: Any

    _fields: ClassVar[dict[str, Any]] = {
        "experiment_name": None,
        "experiment_type": "hpo",
        "search_space_file": None,
        "search_space": None,
        "trial_command": None,
        "trial_code_directory": ".",
        "trial_concurrency": None,
        "trial_gpu_number": None,
        "max_experiment_duration": None,
        "max_trial_number": None,
        "max_trial_duration": None,
        "nni_manager_ip": None,
        "use_annotation": False,
        "debug": False,
        "log_level": None,
        "experiment_working_directory": None,
        "tuner_gpu_indices": None,
        "tuner": None,
        "assessor": None,
        "advisor": None,
        "training_service": None,
        "shared_storage": None,
    }

    def __init__(self, training_service_platform: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if training_service_platform is not None:
            if isinstance(training_service_platform, list):
                self.training_service = [_service_for(p) for p in training_service_platform]
            else:
                self.training_service = _service_for(training_service_platform)
            for role in ("tuner", "assessor", "advisor"):
                if getattr(self, role) is None:
                    setattr(self, role, _AlgorithmConfig(name="_none_", class_args={}))

    def _convert_nested(self) -> None:
        for role in ("tuner", "assessor", "advisor"):
            value = getattr(self, role)
            if isinstance(value, dict):
                setattr(self, role, _AlgorithmConfig(**value))
        service: Any = self.training_service
        if isinstance(service, list):
            self.training_service = [_service_for(item) for item in service]
        elif isinstance(service, (dict, str)):
            self.training_service = _service_for(service)

    def json(self) -> dict[str, Any]:
        data = super().json()
        for role in ("tuner", "assessor", "advisor"):
            algo = getattr(self, role)
            if isinstance(algo, _AlgorithmConfig) and algo.name == "_none_":
                data.pop(role, None)
            elif isinstance(data.get(role), dict):
                data[role] = {k: v for k, v in data[role].items() if v is not None}
        if data.get("experimentType") == "hpo":
            del data["experimentType"]
        return data
