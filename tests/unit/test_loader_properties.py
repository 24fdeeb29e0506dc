"""Property: any mutation of a valid config or space loads or raises Nni2RayError, nothing else."""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nni2ray.errors import Nni2RayError
from nni2ray.experiment import load_experiment

CONFIG: dict[str, Any] = {
    "experimentName": "demo",
    "searchSpaceFile": "search_space.json",
    "trialCommand": "python3 main.py",
    "trialCodeDirectory": ".",
    "trialConcurrency": 2,
    "trialGpuNumber": 0,
    "maxTrialNumber": 10,
    "maxExperimentDuration": "1h",
    "maxTrialDuration": 60,
    "tuner": {"name": "TPE", "classArgs": {"optimize_mode": "maximize"}},
    "assessor": {"name": "Medianstop", "classArgs": {"start_step": 2}},
    "trainingService": {"platform": "local", "gpuIndices": "0,1", "useActiveGpu": False},
}
CONFIG_V1: dict[str, Any] = {
    "authorName": "a",
    "trialConcurrency": 1,
    "maxExecDuration": "1h",
    "trainingServicePlatform": "local",
    "searchSpacePath": "search_space.json",
    "tuner": {"builtinTunerName": "TPE", "gpuIndices": 0},
    "trial": {"command": "python3 main.py", "codeDir": ".", "gpuNum": 0},
    "localConfig": {"maxTrialNumPerGpu": 1},
}
SPACE: dict[str, Any] = {
    "lr": {"_type": "loguniform", "_value": [1e-4, 0.1]},
    "units": {"_type": "quniform", "_value": [2, 10, 2]},
    "opt": {
        "_type": "choice",
        "_value": [{"_name": "sgd", "m": {"_type": "uniform", "_value": [0, 1]}}, {"_name": "a"}],
    },
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["1h", "0s", "-1m", "1e-4", "0,0", "~", "..", "\\x", "TPE", "local"])
)
garbage = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _slots(data: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) pair in a nested structure."""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in list(items):
        yield data, key
        if isinstance(value, dict | list) and value:
            yield from _slots(value)


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    data: Any = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        slots = list(_slots(data)) if isinstance(data, dict | list) and data else []
        if not slots:
            return data
        container, key = draw(st.sampled_from(slots))
        operation = draw(st.sampled_from(["drop", "replace", "nest", "add", "root"]))
        if operation == "drop":
            del container[key]
        elif operation == "replace":
            container[key] = draw(garbage)
        elif operation == "nest":
            for _ in range(draw(st.integers(min_value=1, max_value=30))):
                container[key] = {"_name": "x", "v": [container[key]]}
        elif operation == "add" and isinstance(container, dict):
            container[draw(st.text(max_size=20))] = draw(garbage)
        elif operation == "root":
            data = draw(garbage) if draw(st.booleans()) else data
    return data


def _load(config_text: str, space_text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.yml").write_text(config_text)
        (folder / "search_space.json").write_text(space_text)
        try:
            load_experiment(folder)
        except Nni2RayError as exc:
            assert exc.problems and all(str(p) for p in exc.problems)
        assert sorted(p.name for p in folder.iterdir()) == ["config.yml", "search_space.json"]


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(config=st.one_of(mutated(CONFIG), mutated(CONFIG_V1)), space=mutated(SPACE))
def test_mutated_config_and_space(config: Any, space: Any) -> None:
    _load(yaml.safe_dump(config), json.dumps(space))


@PROPERTY
@given(space=mutated(SPACE))
def test_mutated_inline_space(space: Any) -> None:
    config = {**CONFIG, "searchSpace": space}
    del config["searchSpaceFile"]
    _load(yaml.safe_dump(config), "{}")


@PROPERTY
@given(text=st.text(max_size=200), space=st.text(max_size=60))
def test_arbitrary_text(text: str, space: str) -> None:
    _load(text, space)


@PROPERTY
@given(config=mutated(CONFIG), space=mutated(SPACE))
def test_mutated_yaml_text(config: Any, space: Any) -> None:
    text = yaml.safe_dump(config)
    _load(text.replace("  ", "\t", 1), yaml.safe_dump(space))
