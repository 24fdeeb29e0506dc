"""NNI's key matching (case-insensitive, underscores ignored), mixed v1 keys and unknown keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nni2ray.experiment import load_experiment
from nni2ray.notes import Severity


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param("trialConcurrency", id="camel"),
        pytest.param("trial_concurrency", id="snake"),
        pytest.param("TRIALCONCURRENCY", id="upper"),
        pytest.param("_trial_Concurrency_", id="odd-underscores"),
    ],
)
def test_top_level_spellings(
    spelling: str, make_experiment: Callable[..., Path], config_v2: str
) -> None:
    config = config_v2.replace("trialConcurrency", spelling)
    experiment = load_experiment(make_experiment(config))
    assert experiment.limits.concurrency == 2
    assert experiment.notes == ()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("classArgs", "class_args", id="tuner-class-args"),
        pytest.param("  name: TPE", "  NAME: tpe", id="tuner-name-and-value"),
        pytest.param("trainingService", "training_service", id="training-service"),
        pytest.param("platform: local", "Platform: local", id="platform"),
    ],
)
def test_nested_spellings(
    old: str, new: str, make_experiment: Callable[..., Path], config_v2: str
) -> None:
    experiment = load_experiment(make_experiment(config_v2.replace(old, new)))
    assert experiment.tuner.name == "TPE"
    assert experiment.tuner.optimize_mode == "maximize"
    assert experiment.platform == "local"
    assert experiment.notes == ()


@pytest.mark.parametrize(
    ("line", "field", "v2_name"),
    [
        pytest.param("maxTrialNum: 7", "maxTrialNum", "maxTrialNumber", id="maxTrialNum"),
        pytest.param(
            "maxExecDuration: 2h", "maxExecDuration", "maxExperimentDuration", id="maxExecDuration"
        ),
        pytest.param("logDir: ~/logs", "logDir", "experimentWorkingDirectory", id="logDir"),
    ],
)
def test_mixed_v1_key_is_read_with_a_warning(
    line: str, field: str, v2_name: str, make_experiment: Callable[..., Path], config_v2: str
) -> None:
    config = config_v2.replace("maxTrialNumber: 10\n", "").replace(
        "maxExperimentDuration: 1h\n", ""
    )
    experiment = load_experiment(make_experiment(config + line + "\n"))
    (note,) = experiment.notes
    assert note.severity is Severity.WARNING
    assert note.field == field
    assert repr(v2_name) in note.message
    assert experiment.limits.max_trial_number in (None, 7)


def test_mixed_search_space_path(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("searchSpaceFile", "searchSpacePath")
    experiment = load_experiment(make_experiment(config))
    assert experiment.search_space is not None
    assert experiment.search_space.names == ("lr", "bs")
    assert "'searchSpaceFile'" in experiment.notes[0].message


def test_v2_key_wins_over_v1_alias(make_experiment: Callable[..., Path], config_v2: str) -> None:
    experiment = load_experiment(make_experiment(config_v2 + "maxTrialNum: 99\n"))
    assert experiment.limits.max_trial_number == 10
    assert any("already set as 'maxTrialNumber'" in n.message for n in experiment.notes)


@pytest.mark.parametrize(
    ("line", "field", "suggestion"),
    [
        pytest.param("trialConcurency: 3", "trialConcurency", "trialConcurrency", id="typo"),
        pytest.param("maxTrialNumbr: 3", "maxTrialNumbr", "maxTrialNumber", id="typo-2"),
        pytest.param("banana: 1", "banana", None, id="no-suggestion"),
    ],
)
def test_unknown_key_is_a_warning(
    line: str,
    field: str,
    suggestion: str | None,
    make_experiment: Callable[..., Path],
    config_v2: str,
) -> None:
    experiment = load_experiment(make_experiment(config_v2 + line + "\n"))
    (note,) = experiment.notes
    assert note.severity is Severity.WARNING
    assert (note.field, note.line) == (field, 14)
    if suggestion:
        assert f"did you mean {suggestion!r}" in note.message
    else:
        assert "did you mean" not in note.message


def test_unknown_nested_key(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("  name: TPE\n", "  name: TPE\n  clasArgs: {}\n")
    (note,) = load_experiment(make_experiment(config)).notes
    assert note.field == "tuner.clasArgs"
    assert "did you mean 'classArgs'" in note.message


def test_numeric_string_for_integer_field(
    make_experiment: Callable[..., Path], config_v2: str
) -> None:
    config = config_v2.replace("maxTrialNumber: 10", "maxTrialNumber: 1e3")  # YAML 1.1: a str
    experiment = load_experiment(make_experiment(config))
    assert experiment.limits.max_trial_number == 1000
    assert "read as 1000" in experiment.notes[0].message


def test_null_is_the_same_as_missing(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("maxTrialNumber: 10", "maxTrialNumber: null")
    assert load_experiment(make_experiment(config)).limits.max_trial_number is None
