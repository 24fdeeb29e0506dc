"""v1 configs are mapped to the v2 model field by field, as NNI's own ``to_v2`` converts them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nni2ray.errors import ConfigError
from nni2ray.experiment import load_experiment
from nni2ray.notes import Severity

V1 = """\
authorName: alice
experimentName: svm_tuning
description: an old experiment
trialConcurrency: 2
maxExecDuration: 2h
maxTrialNum: 50
maxTrialDuration: 10m
trainingServicePlatform: local
searchSpacePath: search_space.json
useAnnotation: false
multiThread: true
versionCheck: false
logCollection: none
logDir: ~/old-nni
tuner:
  builtinTunerName: TPE
  classArgs:
    optimize_mode: minimize
  gpuIndices: "1"
assessor:
  builtinAssessorName: Medianstop
  includeIntermediateResults: true
trial:
  command: python3 train.py
  codeDir: .
  gpuNum: 1
localConfig:
  gpuIndices: "0,2"
  maxTrialNumPerGpu: 2
  useActiveGpu: false
"""


@pytest.fixture
def v1_experiment(make_experiment: Callable[..., Path]):  # type: ignore[no-untyped-def]
    return load_experiment(make_experiment(V1))


def test_v1_fields(v1_experiment) -> None:  # type: ignore[no-untyped-def]
    exp = v1_experiment
    assert exp.config_version == "v1"
    assert exp.name == "svm_tuning"
    assert exp.trial.command == "python3 train.py"
    assert exp.trial.gpu_number == 1
    assert exp.limits.concurrency == 2
    assert exp.limits.max_trial_number == 50
    assert exp.limits.max_experiment_duration == 7200
    assert exp.limits.max_trial_duration == 600  # NNI 3.0 drops it; nni2ray honours it
    assert exp.search_space is not None and exp.search_space.names == ("lr", "bs")
    assert exp.tuner.name == "TPE" and exp.tuner.optimize_mode == "minimize"
    assert exp.assessor is not None and exp.assessor.name == "Medianstop"
    assert exp.assessor.include_intermediate_results is True
    assert exp.gpu_indices == (0, 2)
    assert exp.max_trial_number_per_gpu == 2
    assert exp.use_active_gpu is False
    assert exp.experiment_working_directory == Path("~/old-nni").expanduser()


@pytest.mark.parametrize(
    "field",
    ["authorName", "description", "multiThread", "versionCheck", "logCollection"],
)
def test_v1_dropped_fields_are_ignored_notes(field: str, v1_experiment) -> None:  # type: ignore[no-untyped-def]
    notes = [n for n in v1_experiment.notes if n.field == field]
    assert len(notes) == 1 and notes[0].severity is Severity.IGNORED


def test_v1_max_trial_duration_is_honoured_with_a_note(v1_experiment) -> None:  # type: ignore[no-untyped-def]
    (note,) = [n for n in v1_experiment.notes if n.field == "maxTrialDuration"]
    assert "honours" in note.message
    assert note.line == 7


def test_v1_is_detected_by_a_truthy_platform(make_experiment: Callable[..., Path]) -> None:
    config = V1.replace("trainingServicePlatform: local", "trainingServicePlatform: ''")
    with pytest.raises(ConfigError):  # then it is a v2 file missing trialCommand etc.
        load_experiment(make_experiment(config))


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        pytest.param("local", "local", id="local"),
        pytest.param("pai", "openpai", id="pai-renamed"),
        pytest.param("remote", "remote", id="remote"),
    ],
)
def test_v1_platforms(platform: str, expected: str, make_experiment: Callable[..., Path]) -> None:
    config = V1.replace("trainingServicePlatform: local", f"trainingServicePlatform: {platform}")
    assert load_experiment(make_experiment(config)).platform == expected


def test_v1_custom_tuner(make_experiment: Callable[..., Path]) -> None:
    config = V1.replace(
        "  builtinTunerName: TPE\n",
        "  codeDir: tuners\n  classFileName: my_tuner.py\n  className: MyTuner\n",
    )
    folder = make_experiment(config, **{"tuners/my_tuner.py": "class MyTuner: ...\n"})
    tuner = load_experiment(folder).tuner
    assert tuner.is_custom
    assert tuner.class_name == "my_tuner.MyTuner"
    assert tuner.code_directory == (folder / "tuners").resolve()


def test_v1_advisor(make_experiment: Callable[..., Path]) -> None:
    config = V1.replace("tuner:\n  builtinTunerName: TPE", "advisor:\n  builtinAdvisorName: BOHB")
    exp = load_experiment(make_experiment(config))
    assert (exp.tuner.role, exp.tuner.name) == ("advisor", "BOHB")
    assert exp.assessor is None  # an advisor replaces the assessor, with a note
    assert any(n.field == "assessor" and n.severity is Severity.IGNORED for n in exp.notes)


def test_v1_fixture_folder(fixtures_dir: Path) -> None:
    exp = load_experiment(fixtures_dir / "experiments" / "legacy_v1")
    assert exp.config_version == "v1"
    assert exp.limits.max_trial_duration == 300
