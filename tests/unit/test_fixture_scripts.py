"""Sanity checks for the NNI experiment folders under fixtures/experiments/.

* every config file is valid YAML, has a trial command and every file/directory it
  refers to exists (search space, trial code directory, custom algorithm code, the
  script named in the trial command);
* every Python file in the fixtures compiles;
* a few trial scripts run standalone, in their own code directory, with the stand-in
  ``nni`` package from nni2ray/trials/_shim.
"""

from __future__ import annotations

import json
import os
import py_compile
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPO / "fixtures" / "experiments"
SHIM = REPO / "nni2ray" / "trials" / "_shim"

EXPECTED_FOLDERS = {
    "digits_sklearn_v2",
    "torch_digits_asha",
    "legacy_v1",
    "mixed_keys",
    "all_types",
    "nested_choice",
    "medianstop_assessor",
    "hyperband_advisor",
    "custom_tuner",
    "multi_config",
    "bash_command",
    "data_files",
    "gpu_trial",
    "remote_platform",
}


def _norm(key: str) -> str:
    """NNI's key matching: case-insensitive, underscores ignored."""
    return key.replace("_", "").lower()


def _get(mapping: dict[str, Any], name: str) -> Any:
    for key, value in mapping.items():
        if _norm(str(key)) == _norm(name):
            return value
    return None


def _config_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())


def _all_configs() -> list[Path]:
    return [
        cfg
        for folder in sorted(EXPERIMENTS.iterdir())
        if folder.is_dir()
        for cfg in _config_files(folder)
    ]


def _load(config: Path) -> dict[str, Any]:
    data = yaml.safe_load(config.read_text())
    assert isinstance(data, dict), f"{config}: top level is not a mapping"
    return data


def _is_v1(data: dict[str, Any]) -> bool:
    return bool(_get(data, "trainingServicePlatform"))


def _trial(data: dict[str, Any]) -> tuple[str, str]:
    """(trial command, code directory as written) for a v1 or v2 config."""
    if _is_v1(data):
        trial = _get(data, "trial")
        assert isinstance(trial, dict), "v1 config without a trial: section"
        return trial.get("command"), trial.get("codeDir", ".")
    ts = _get(data, "trainingService") or {}
    ts = ts if isinstance(ts, dict) else {}
    command = _get(ts, "trialCommand") or _get(data, "trialCommand")
    code_dir = _get(ts, "trialCodeDirectory") or _get(data, "trialCodeDirectory") or "."
    return command, code_dir


def test_expected_folders_exist() -> None:
    present = {p.name for p in EXPERIMENTS.iterdir() if p.is_dir()}
    assert EXPECTED_FOLDERS <= present, EXPECTED_FOLDERS - present
    for name in EXPECTED_FOLDERS:
        assert _config_files(EXPERIMENTS / name), f"{name} has no config file"
    assert (EXPERIMENTS / "README.md").is_file()


def test_multi_config_has_no_default_config() -> None:
    names = {p.name for p in _config_files(EXPERIMENTS / "multi_config")}
    assert names == {"config_tpe.yml", "config_random.yml"}


@pytest.mark.parametrize("config", _all_configs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_config_is_valid_and_references_exist(config: Path) -> None:
    data = _load(config)
    base = config.parent

    command, code_dir = _trial(data)
    assert isinstance(command, str) and command.strip(), "no trial command"
    code = (base / code_dir).resolve()
    assert code.is_dir(), f"trial code directory {code} missing"

    # Every local file named in the command (scripts, wrappers) exists in the code dir.
    for token in shlex.split(command):
        if token.endswith((".py", ".sh")):
            assert (code / token).is_file(), f"{token} not found in {code}"

    # Search space: a file (v1 searchSpacePath / v2 searchSpaceFile) or inline.
    space_file = _get(data, "searchSpacePath") or _get(data, "searchSpaceFile")
    if space_file is not None:
        path = base / space_file
        assert path.is_file(), f"search space file {path} missing"
        space = json.loads(path.read_text())
    else:
        space = _get(data, "searchSpace")
    # An annotation experiment's space comes from its trial code (test_annotation.py).
    assert space or _get(data, "useAnnotation"), "no search space"

    # Algorithms with custom code.
    for section in ("tuner", "assessor", "advisor"):
        algo = _get(data, section)
        if not isinstance(algo, dict):
            continue
        code_directory = _get(algo, "codeDirectory") or _get(algo, "codeDir")
        if code_directory is not None:
            assert (base / code_directory).is_dir()
            class_name = _get(algo, "className")
            module = _get(algo, "classFileName") or class_name.rsplit(".", 1)[0] + ".py"
            assert (base / code_directory / module).is_file()
        else:
            assert (
                _get(algo, "name")
                or _get(algo, "builtinTunerName")
                or _get(algo, "builtinAssessorName")
                or _get(algo, "builtinAdvisorName")
            )


def test_search_spaces_use_nni_format_except_custom_tuner() -> None:
    for path in EXPERIMENTS.glob("*/search_space.json"):
        space = json.loads(path.read_text())
        if path.parent.name == "custom_tuner":
            assert isinstance(space, list) and all(isinstance(c, dict) for c in space)
            continue
        assert isinstance(space, dict) and space
        for name, spec in space.items():
            assert set(spec) == {"_type", "_value"}, (path, name)


def test_all_types_covers_every_type() -> None:
    space = json.loads((EXPERIMENTS / "all_types" / "search_space.json").read_text())
    types = {spec["_type"] for spec in space.values()}
    assert types == {
        "choice",
        "randint",
        "uniform",
        "quniform",
        "loguniform",
        "qloguniform",
        "normal",
        "qnormal",
        "lognormal",
        "qlognormal",
    }


def test_remote_platform_holds_the_fake_secret() -> None:
    data = _load(EXPERIMENTS / "remote_platform" / "config.yml")
    assert data["trainingService"]["platform"] == "remote"
    assert data["trainingService"]["machineList"][0]["password"] == "hunter2-secret"


def test_data_file_is_shipped() -> None:
    assert (EXPERIMENTS / "data_files" / "src" / "data" / "points.csv").is_file()


@pytest.mark.parametrize(
    "script", sorted(EXPERIMENTS.rglob("*.py")), ids=lambda p: str(p.relative_to(EXPERIMENTS))
)
def test_python_files_compile(script: Path, tmp_path: Path) -> None:
    py_compile.compile(str(script), cfile=str(tmp_path / "out.pyc"), doraise=True)


# (folder, script relative to the folder's code directory, code dir)
_SMOKE = [
    ("digits_sklearn_v2", "main.py", "."),
    ("all_types", "main.py", "."),
    ("data_files", "fit.py", "src"),
]


@pytest.mark.parametrize(("folder", "script", "code_dir"), _SMOKE, ids=[s[0] for s in _SMOKE])
def test_trial_runs_standalone_with_shim(folder: str, script: str, code_dir: str) -> None:
    cwd = EXPERIMENTS / folder / code_dir
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SHIM)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    for var in list(env):
        if var.startswith("NNI"):  # NNI_* and NNI2RAY_*: run standalone
            del env[var]
    proc = subprocess.run(
        [sys.executable, script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    if folder == "all_types":
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        assert lines == [{}], proc.stdout
