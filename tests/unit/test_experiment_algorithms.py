"""Tuner / assessor / advisor names, aliases, roles, optimize modes and custom classes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nni2ray.errors import ConfigError, UnsupportedError
from nni2ray.experiment import load_experiment
from nni2ray.experiment._algorithms import BUILTINS, lookup


@pytest.mark.parametrize(
    ("written", "canonical", "role", "default_mode"),
    [
        pytest.param("TPE", "TPE", "tuner", "minimize", id="tpe"),
        pytest.param("tpe", "TPE", "tuner", "minimize", id="tpe-lower"),
        pytest.param("tpe_legacy", "TPE_legacy", "tuner", "minimize", id="tpe-legacy"),
        pytest.param("random", "Random", "tuner", None, id="random"),
        pytest.param("Anneal", "Anneal", "tuner", "minimize", id="anneal"),
        pytest.param("evolution", "Evolution", "tuner", "maximize", id="evolution"),
        pytest.param("gridsearch", "GridSearch", "tuner", None, id="gridsearch"),
        pytest.param("BatchTuner", "Batch", "tuner", None, id="batch-alias"),
        pytest.param("MetisTuner", "Metis", "tuner", "maximize", id="metis-alias"),
        pytest.param("GPTuner", "GP", "tuner", "maximize", id="gp-alias"),
        pytest.param("PBTTuner", "PBT", "tuner", "maximize", id="pbt-alias"),
        pytest.param("DNGOTuner", "DNGO", "tuner", "maximize", id="dngo-alias"),
        pytest.param("smac", "SMAC", "tuner", "maximize", id="smac"),
        pytest.param("hyperband", "Hyperband", "advisor", "maximize", id="hyperband"),
        pytest.param("bohb", "BOHB", "advisor", "maximize", id="bohb"),
    ],
)
def test_tuner_names(
    written: str,
    canonical: str,
    role: str,
    default_mode: str | None,
    make_experiment: Callable[..., Path],
    config_v2: str,
) -> None:
    config = config_v2.replace("name: TPE", f"name: {written}")
    tuner = load_experiment(make_experiment(config)).tuner
    assert (tuner.name, tuner.role) == (canonical, role)
    entry = lookup(written)
    assert entry is not None and entry.default_optimize_mode == default_mode


@pytest.mark.parametrize("name", ["Medianstop", "curvefitting"])
def test_assessor_names(name: str, make_experiment: Callable[..., Path], config_v2: str) -> None:
    exp = load_experiment(make_experiment(config_v2 + f"assessor:\n  name: {name}\n"))
    assert exp.assessor is not None and exp.assessor.role == "assessor"
    assert exp.assessor.name == name.capitalize()


def test_registry_names_are_unique() -> None:
    names = [n.lower() for b in BUILTINS for n in (b.name, *b.aliases)]
    assert len(names) == len(set(names))


def test_unknown_tuner_lists_supported(
    make_experiment: Callable[..., Path], config_v2: str
) -> None:
    with pytest.raises(UnsupportedError) as info:
        load_experiment(make_experiment(config_v2.replace("name: TPE", "name: Magic")))
    assert "TPE" in (info.value.hint or "") and "Hyperband" in (info.value.hint or "")
    assert info.value.field == "tuner.name" and info.value.line == 9


def test_assessor_name_under_tuner(make_experiment: Callable[..., Path], config_v2: str) -> None:
    with pytest.raises(UnsupportedError):
        load_experiment(make_experiment(config_v2.replace("name: TPE", "name: Medianstop")))


def test_advisor_section(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("tuner:", "advisor:").replace("name: TPE", "name: Hyperband")
    tuner = load_experiment(make_experiment(config)).tuner
    assert (tuner.role, tuner.name) == ("advisor", "Hyperband")


@pytest.mark.parametrize("mode", ["maximize", "minimize"])
def test_optimize_mode(mode: str, make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("optimize_mode: maximize", f"optimize_mode: {mode}")
    assert load_experiment(make_experiment(config)).tuner.optimize_mode == mode


@pytest.mark.parametrize("mode", ["max", "Maximize", "1"])
def test_bad_optimize_mode(mode: str, make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("optimize_mode: maximize", f"optimize_mode: '{mode}'")
    with pytest.raises(ConfigError, match=f"got '{mode}'"):
        load_experiment(make_experiment(config))


def test_custom_tuner(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("  name: TPE\n", "  className: t.T\n  codeDirectory: algo\n")
    folder = make_experiment(config, **{"algo/t.py": "class T: ...\n"})
    tuner = load_experiment(folder).tuner
    assert tuner.is_custom and tuner.name is None
    assert tuner.code_directory == (folder / "algo").resolve()
    assert tuner.class_args == {"optimize_mode": "maximize"}


def test_custom_tuner_keeps_its_own_space_format(fixtures_dir: Path) -> None:
    exp = load_experiment(fixtures_dir / "experiments" / "custom_tuner")
    assert exp.search_space is None and isinstance(exp.raw_search_space, list)
    assert [n.severity.value for n in exp.notes] == ["ignored"]
