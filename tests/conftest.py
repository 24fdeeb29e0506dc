"""Shared test setup: repository paths and the ``--update-golden`` option."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

# Ray sessions started by the tests bind to 127.0.0.1 only (Ray reads this at import).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

# The suite runs nni2ray's own stand-ins whether or not nni is installed (the test extra
# installs it); tests of NNI's own classes pass --algorithm-backend explicitly.
os.environ["NNI2RAY_ALGORITHM_BACKEND"] = "native"

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
EXPERIMENTS = FIXTURES / "experiments"
INVALID = FIXTURES / "invalid"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files (expected_error.txt, ...) from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run should rewrite golden files instead of comparing with them."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def fixtures_dir() -> Path:
    """The repository's ``fixtures/`` folder."""
    return FIXTURES


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from the repository root, so displayed paths are stable."""
    monkeypatch.chdir(REPO)
    return REPO


#: A small valid search space, as a search_space.json text.
SEARCH_SPACE_JSON = (
    '{"lr": {"_type": "loguniform", "_value": [1e-4, 0.1]},\n'
    ' "bs": {"_type": "choice", "_value": [16, 32]}}\n'
)

#: A small valid v2 config using SEARCH_SPACE_JSON.
CONFIG_V2 = """\
experimentName: demo
searchSpaceFile: search_space.json
trialCommand: python3 main.py
trialCodeDirectory: .
trialConcurrency: 2
maxTrialNumber: 10
maxExperimentDuration: 1h
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
trainingService:
  platform: local
"""


@pytest.fixture
def make_experiment(tmp_path: Path) -> Callable[..., Path]:
    """Write an experiment folder: ``make_experiment(config_text, space_text=..., **files)``."""

    def make(config: str = CONFIG_V2, space: str | None = SEARCH_SPACE_JSON, **files: str) -> Path:
        folder = tmp_path / "exp"
        folder.mkdir(exist_ok=True)
        (folder / "config.yml").write_text(config)
        if space is not None:
            (folder / "search_space.json").write_text(space)
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        return folder

    return make


@pytest.fixture
def config_v2() -> str:
    """The text of a small valid v2 config (see ``make_experiment``)."""
    return CONFIG_V2
