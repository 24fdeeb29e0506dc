"""Paths: relative to the config file, ``~`` expanded, Windows separators, display paths."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from nni2ray.experiment import load_experiment
from nni2ray.experiment._paths import display_path, resolve_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(".", "base", id="dot"),
        pytest.param("src", "base/src", id="relative"),
        pytest.param("src\\pkg", "base/src/pkg", id="windows-separators"),
        pytest.param("./src/../src", "base/src", id="dot-dot"),
    ],
)
def test_resolve_relative(raw: str, expected: str, tmp_path: Path) -> None:
    (tmp_path / "base" / "src" / "pkg").mkdir(parents=True)
    assert resolve_path(raw, tmp_path / "base") == (tmp_path / expected).resolve()


def test_resolve_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_path("~/x", Path("/elsewhere")) == (tmp_path / "x").resolve()


def test_resolve_absolute(tmp_path: Path) -> None:
    assert resolve_path(str(tmp_path), Path("/elsewhere")) == tmp_path.resolve()


def test_display_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "a" / "config.yml") == "a/config.yml"
    assert display_path(tmp_path) == "."
    assert display_path("/") == "/"


def test_paths_relative_to_config_not_cwd(
    make_experiment: Callable[..., Path], config_v2: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_v2.replace("trialCodeDirectory: .", "trialCodeDirectory: src\\trial")
    folder = make_experiment(config, **{"src/trial/main.py": ""})
    monkeypatch.chdir(folder.parent)
    exp = load_experiment(folder / "config.yml")
    assert exp.trial.code_directory == (folder / "src" / "trial").resolve()
    assert exp.search_space_file == (folder / "search_space.json").resolve()
    assert exp.config_file.is_absolute()


def test_search_space_file_in_yaml(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("search_space.json", "space.yaml")
    space = "lr:\n  _type: uniform\n  _value: [0, 1e-1]\n"  # 1e-1 is a YAML 1.1 string
    exp = load_experiment(make_experiment(config, space=None, **{"space.yaml": space}))
    assert exp.search_space is not None
    assert exp.search_space.parameters[0].values == (0.0, 0.1)


def test_both_space_and_file_the_file_wins(
    make_experiment: Callable[..., Path], config_v2: str
) -> None:
    config = config_v2 + "searchSpace:\n  x: {_type: choice, _value: [1]}\n"
    exp = load_experiment(make_experiment(config))
    assert exp.search_space is not None and exp.search_space.names == ("lr", "bs")
    assert any("the file wins" in n.message for n in exp.notes)


def test_inline_space(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace(
        "searchSpaceFile: search_space.json\n",
        "searchSpace:\n  lr: {_type: loguniform, _value: [1e-4, 1e-1]}\n",
    )
    exp = load_experiment(make_experiment(config, space=None))
    assert exp.search_space is not None and exp.search_space_file is None
    assert exp.raw_search_space == {"lr": {"_type": "loguniform", "_value": ["1e-4", "1e-1"]}}


def test_annotation_needs_no_space(make_experiment: Callable[..., Path], config_v2: str) -> None:
    config = config_v2.replace("searchSpaceFile: search_space.json\n", "useAnnotation: true\n")
    folder = make_experiment(config, space=None)
    (folder / "annotated.py").write_text("'''@nni.variable(nni.choice(1, 2), name=x)'''\nx = 1\n")
    exp = load_experiment(folder)
    assert exp.use_annotation
    assert exp.raw_search_space == {"annotated/x/choice": {"_type": "choice", "_value": [1, 2]}}


def test_config_symlink_resolved(make_experiment: Callable[..., Path], tmp_path: Path) -> None:
    folder = make_experiment()
    link = tmp_path / "link.yml"
    os.symlink(folder / "config.yml", link)
    assert load_experiment(link).trial.code_directory == folder.resolve()
