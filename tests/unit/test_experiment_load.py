"""Locating and reading configs, every fixture experiment, GPUs, platforms and secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from nni2ray.errors import ConfigError, ExperimentNotFoundError
from nni2ray.experiment import load_experiment
from nni2ray.experiment._read import read_json_or_yaml, read_yaml
from nni2ray.experiment._to_json import experiment_to_json

EXPERIMENTS = Path(__file__).resolve().parents[2] / "fixtures" / "experiments"
SEVERAL = {"multi_config", "config_variants"}  # need --config
SINGLE = sorted(
    p.name
    for p in EXPERIMENTS.iterdir()
    if p.is_dir() and p.name not in SEVERAL and not p.name.startswith("launcher_")
)


def test_public_api() -> None:
    import nni2ray.experiment as module

    assert "load_experiment" in module.__all__
    assert all(hasattr(module, name) for name in module.__all__)
    assert {"load_experiment_dict", "write_annotated_copy"} <= set(module.__all__)


@pytest.mark.parametrize("name", SINGLE)
def test_every_fixture_experiment_loads(name: str) -> None:
    exp = load_experiment(EXPERIMENTS / name)
    assert exp.trial.code_directory.is_dir()
    assert exp.limits.concurrency >= 1
    json.dumps(experiment_to_json(exp))  # JSON-ready


@pytest.mark.parametrize(
    ("config", "tuner"),
    [
        pytest.param("config_tpe", "TPE", id="stem"),
        pytest.param("config_random.yml", "Random", id="file-name"),
    ],
)
def test_config_name_picks_one(config: str, tuner: str) -> None:
    exp = load_experiment(EXPERIMENTS / "multi_config", config_name=config)
    assert exp.tuner.name == tuner


def test_several_configs_are_listed() -> None:
    with pytest.raises(ExperimentNotFoundError, match="config_random.yml, config_tpe.yml"):
        load_experiment(EXPERIMENTS / "multi_config")


def test_unknown_config_name_lists_the_others() -> None:
    with pytest.raises(ExperimentNotFoundError, match="config files here: config_random.yml"):
        load_experiment(EXPERIMENTS / "multi_config", config_name="nope")


@pytest.mark.parametrize(
    ("names", "chosen"),
    [
        pytest.param(["config.yml", "config_b.yml"], "config.yml", id="config-yml-first"),
        pytest.param(["config.yaml", "config_b.yml"], "config.yaml", id="config-yaml"),
        pytest.param(["config_gpu.yaml"], "config_gpu.yaml", id="only-candidate"),
    ],
)
def test_locate(
    names: list[str], chosen: str, make_experiment: Callable[..., Path], config_v2: str
) -> None:
    folder = make_experiment()
    (folder / "config.yml").unlink()
    for name in names:
        (folder / name).write_text(config_v2)
    assert load_experiment(folder).config_file.name == chosen


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ExperimentNotFoundError, match="no such file or folder"):
        load_experiment(tmp_path / "nothing")


def test_read_yaml_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("a: 1\nb:\n  c: [1, 2]\n  d:\n    - x\n    - y\n")
    doc = read_yaml(path, "c.yml")
    assert doc.lines[("a",)] == 1 and doc.lines[("b", "c")] == 3
    assert doc.lines[("b", "d", 1)] == 6
    assert doc.line_of(("b", "c", 5, "zz")) == 3  # nearest ancestor


def test_read_json_keeps_json_numbers_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{\n  "lr": {"_type": "uniform",\n   "_value": [1e-4, 1]}\n}\n')
    doc = read_json_or_yaml(path, "s.json")
    assert doc.data["lr"]["_value"] == [0.0001, 1]  # a float, not YAML 1.1's string
    assert doc.lines[("lr", "_value")] == 3


def test_read_json_with_tabs_has_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{\n\t"lr": {"_type": "uniform", "_value": [0, 1]}\n}\n')
    doc = read_json_or_yaml(path, "s.json")
    assert doc.data == {"lr": {"_type": "uniform", "_value": [0, 1]}}


def test_unsafe_tag_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("a: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(ConfigError, match="YAML tag not allowed"):
        read_yaml(path, "c.yml")
    assert not (tmp_path / "pwned").exists()


def test_gpu_settings(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("trialConcurrency: 2", "trialConcurrency: 2\ntrialGpuNumber: 2")
    config += "  trialGpuNumber: 1\n  useActiveGpu: true\n  gpuIndices: '1,3'\n"
    config += "  maxTrialNumberPerGpu: 2\n"
    exp = load_experiment(make_experiment(config))
    assert exp.trial.gpu_number == 1  # the training service wins over the shortcut
    assert exp.gpu_indices == (1, 3)
    assert exp.use_active_gpu is True and exp.max_trial_number_per_gpu == 2
    assert exp.notes == ()


@pytest.mark.parametrize(
    ("written", "indices"),
    [
        pytest.param("2", (2,), id="int"),
        pytest.param("[0, 2]", (0, 2), id="list"),
        pytest.param("'0,2'", (0, 2), id="string"),
    ],
)
def test_gpu_indices_forms(
    written: str, indices: tuple[int, ...], make_experiment: Callable[..., Path], config_v2: str
) -> None:
    exp = load_experiment(make_experiment(config_v2 + f"  gpuIndices: {written}\n"))
    assert exp.gpu_indices == indices


def test_gpu_without_use_active_gpu_is_a_warning(
    make_experiment: Callable[..., Path], config_v2: str
) -> None:
    config = config_v2.replace("trialConcurrency: 2", "trialConcurrency: 2\ntrialGpuNumber: 1")
    (note,) = load_experiment(make_experiment(config)).notes
    assert "useActiveGpu" in note.message


def test_missing_training_service_defaults_to_local(
    make_experiment: Callable[..., Path], config_v2: str
) -> None:
    config = config_v2.replace("trainingService:\n  platform: local\n", "")
    exp = load_experiment(make_experiment(config))
    assert exp.platform == "local" and "no trainingService" in exp.notes[0].message


def test_remote_platform_warns_and_never_echoes_secrets() -> None:
    exp = load_experiment(EXPERIMENTS / "remote_platform")
    assert exp.platform == "remote"
    assert any("--address" in n.message for n in exp.notes)
    text = json.dumps(experiment_to_json(exp)) + "".join(str(n) for n in exp.notes)
    assert "hunter2" not in text


def test_hybrid_platform(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace(
        "trainingService:\n  platform: local\n",
        "trainingService:\n  - platform: local\n  - platform: remote\n    machineList: []\n",
    )
    exp = load_experiment(make_experiment(config))
    assert exp.platform == "hybrid"


def test_class_args_secrets_are_redacted_in_json(
    make_experiment: Callable[..., Path], config_v2: str
) -> None:
    config = config_v2.replace("optimize_mode: maximize", "optimize_mode: maximize\n    token: s3")
    exp = load_experiment(make_experiment(config))
    assert exp.tuner.class_args["token"] == "s3"  # the runtime gets the real value
    assert experiment_to_json(exp)["tuner"]["class_args"]["token"] == "***"


def test_float_duration_is_lenient(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("maxExperimentDuration: 1h", "maxExperimentDuration: 90.5")
    exp = load_experiment(make_experiment(config))
    assert exp.limits.max_experiment_duration == 91
    assert "fractional" in exp.notes[0].message


def test_every_problem_at_once(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("trialConcurrency: 2", "trialConcurrency: 0").replace(
        "maxExperimentDuration: 1h", "maxExperimentDuration: 1x"
    )
    space = '{"a": {"_type": "uniform", "_value": [1, 0]}}'
    with pytest.raises(ConfigError) as info:
        load_experiment(make_experiment(config, space=space))
    fields = [p.field for p in info.value.problems]
    assert fields == ["trialConcurrency", "maxExperimentDuration", "a._value"]
