"""Finding the NNI config of a folder by content, and Python launchers."""

from __future__ import annotations

from pathlib import Path

import pytest

from nni2ray.cli import main
from nni2ray.errors import ExperimentNotFoundError
from nni2ray.experiment import find_config, find_launchers, load_experiment
from nni2ray.experiment._locate import MAX_BYTES, is_nni_config
from tests.conftest import CONFIG_V2, EXPERIMENTS, SEARCH_SPACE_JSON

V1 = """\
authorName: someone
experimentName: v1
trialConcurrency: 1
trainingServicePlatform: local
searchSpacePath: ../search_space.json
useAnnotation: false
tuner:
  builtinTunerName: Random
trial:
  command: python3 main.py
  codeDir: ..
"""

LAUNCHER = """\
from nni.experiment import Experiment

experiment = Experiment('local')
experiment.config.trial_command = 'python3 main.py'
experiment.run(8080)
"""


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(CONFIG_V2, id="v2"),
        pytest.param(V1, id="v1"),
        pytest.param("trial_concurrency: 1\n", id="snake-case"),
        pytest.param("TRIALCOMMAND: python3 x.py\n", id="upper-case"),
        pytest.param("trial:\n  command: python3 x.py\n", id="v1-trial-section"),
        pytest.param("tuner:\n  name: TPE\n", id="tuner-section"),
    ],
)
def test_nni_configs_are_recognised(tmp_path: Path, text: str) -> None:
    path = tmp_path / "any_name.yaml"
    path.write_text(text)
    assert is_nni_config(path)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("name: ci\non: [push]\njobs: {}\n", id="github-workflow"),
        pytest.param("- 1\n- 2\n", id="list"),
        pytest.param("just text\n", id="scalar"),
        pytest.param("", id="empty"),
        pytest.param("a: [1, 2\n", id="broken"),
        pytest.param("tuner: fast\ntrial: 3\n", id="same-keys-other-shape"),
        pytest.param('lr: {"_type": "uniform", "_value": [0, 1]}\n', id="search-space"),
        pytest.param("a: &x [1]\nb: [*x, *x]\n" * 1, id="aliases"),
    ],
)
def test_other_yaml_is_not_a_config(tmp_path: Path, text: str) -> None:
    path = tmp_path / "other.yml"
    path.write_text(text)
    assert not is_nni_config(path)


def test_oversized_yaml_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_text("trialConcurrency: 1\n" + "#" * MAX_BYTES + "\n")
    assert not is_nni_config(path)


@pytest.mark.parametrize(
    ("files", "chosen"),
    [
        pytest.param({"nni_config.yml": CONFIG_V2}, "nni_config.yml", id="any-name"),
        pytest.param({"nni.yaml": CONFIG_V2, "env.yml": "name: x\n"}, "nni.yaml", id="by-content"),
        pytest.param({"config/nni_config.yml": CONFIG_V2}, "config/nni_config.yml", id="subfolder"),
        pytest.param({"config/config.yml": V1}, "config/config.yml", id="v1-in-subfolder"),
        pytest.param(
            {"exp.yml": CONFIG_V2, "examples/other.yml": CONFIG_V2}, "exp.yml", id="own-first"
        ),
        pytest.param(
            {"config.yml": CONFIG_V2, "nni.yml": CONFIG_V2}, "config.yml", id="config-yml-wins"
        ),
        pytest.param(
            {".hidden/c.yml": CONFIG_V2, "a/b/deep.yml": CONFIG_V2, "x/nni.yml": CONFIG_V2},
            "x/nni.yml",
            id="direct-visible-subfolders-only",
        ),
    ],
)
def test_found_by_content(tmp_path: Path, files: dict[str, str], chosen: str) -> None:
    folder = _write(tmp_path, files)
    assert find_config(folder) == folder / chosen


def test_config_in_subfolder_loads_with_its_relative_paths(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        {"config/nni_config.yml": V1, "search_space.json": SEARCH_SPACE_JSON, "main.py": ""},
    )
    exp = load_experiment(folder)
    assert exp.config_file == (folder / "config" / "nni_config.yml").resolve()
    assert exp.trial.code_directory == folder.resolve()


def test_several_candidates_are_listed_with_their_paths(tmp_path: Path) -> None:
    folder = _write(tmp_path, {"conf/a.yml": CONFIG_V2, "conf/b.yaml": V1, "x/notes.yml": "a: 1"})
    with pytest.raises(ExperimentNotFoundError, match=r"files: conf/a\.yml, conf/b\.yaml;") as e:
        find_config(folder)
    assert e.value.hint == "choose one with --config NAME"


@pytest.mark.parametrize("name", ["conf/b.yaml", "conf/b", "b.yaml", "b"])
def test_config_name_may_be_a_subfolder_path_or_a_bare_name(tmp_path: Path, name: str) -> None:
    folder = _write(tmp_path, {"conf/a.yml": CONFIG_V2, "conf/b.yaml": V1})
    assert find_config(folder, name) == folder / "conf" / "b.yaml"


def test_broken_config_yml_is_still_the_config(tmp_path: Path) -> None:
    folder = _write(tmp_path, {"config_gpu.yml": "trialConcurrency: [1\n"})
    assert find_config(folder) == folder / "config_gpu.yml"


def test_nothing_found_says_what_was_looked_for(tmp_path: Path) -> None:
    folder = _write(tmp_path, {"ci.yml": "jobs: {}\n", "main.py": "import nni\n"})
    with pytest.raises(ExperimentNotFoundError) as error:
        find_config(folder)
    assert "YAML files with NNI config keys" in error.value.message
    assert "Python launchers" in error.value.message


def test_a_launcher_without_config_is_named(tmp_path: Path) -> None:
    folder = _write(tmp_path, {"main.py": "import nni\n", "scripts/launch.py": LAUNCHER})
    assert find_launchers(folder) == [folder / "scripts" / "launch.py"]
    with pytest.raises(ExperimentNotFoundError, match="scripts/launch.py starts an NNI") as e:
        find_config(folder)
    assert e.value.hint is not None and "nni2ray run" in e.value.hint
    assert e.value.hint.endswith("launch.py")


@pytest.mark.parametrize(
    "text",
    [
        "from nni.experiment import Experiment\n",
        "from nni.experiment.config import ExperimentConfig\n",
        "import nni\nexp = nni.experiment.Experiment('local')\n",
    ],
)
def test_launcher_forms(tmp_path: Path, text: str) -> None:
    (tmp_path / "run.py").write_text(text)
    assert find_launchers(tmp_path) == [tmp_path / "run.py"]


def test_config_wins_over_launcher(tmp_path: Path) -> None:
    folder = _write(tmp_path, {"launch.py": LAUNCHER, "nni.yml": CONFIG_V2})
    assert find_config(folder) == folder / "nni.yml"


#: Fixture folders that hold several configs on purpose (they need --config).
SEVERAL = {"multi_config", "config_variants"}
FOLDERS = sorted(p.name for p in EXPERIMENTS.iterdir() if p.is_dir())


#: Fixture folders started by a Python launcher (checked in tests/process/test_launcher_check.py:
#: check runs the script in a child process).
LAUNCHED = {n for n in FOLDERS if n.startswith("launcher_")}


@pytest.mark.parametrize("name", [n for n in FOLDERS if n not in SEVERAL | LAUNCHED])
def test_check_finds_the_config_of_every_fixture_folder(
    name: str, in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", f"fixtures/experiments/{name}"]) == 0
    out = capsys.readouterr().out
    assert f"config file: fixtures/experiments/{name}/" in out


def test_the_folders_with_several_configs_need_config(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "fixtures/experiments/multi_config"]) == 1
    assert capsys.readouterr().err == (
        "nni2ray: error: fixtures/experiments/multi_config: several NNI config files: "
        "config_random.yml, config_tpe.yml; choose one with --config NAME\n"
    )
    assert main(["check", "fixtures/experiments/multi_config", "--config", "config_tpe"]) == 0


def test_several_configs_in_a_subfolder_are_listed_with_their_paths(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = "fixtures/experiments/config_variants"
    assert main(["check", folder]) == 1
    assert capsys.readouterr().err == (
        f"nni2ray: error: {folder}: several NNI config files: configs/full.yml, "
        "configs/quick.yml; choose one with --config NAME\n"
    )
    for name, experiment in [("configs/full.yml", "poly_fit_full"), ("quick", "poly_fit_quick")]:
        assert main(["check", folder, "--config", name]) == 0
        assert capsys.readouterr().out.startswith(f"experiment: {experiment}\n")
