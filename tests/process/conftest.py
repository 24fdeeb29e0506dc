"""Fixtures for the process tier: a fake nni2ray parent around real trial subprocesses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_parent import TrialRun, run_trial


@pytest.fixture
def trial(tmp_path: Path) -> Any:
    """``trial(script, **kwargs)`` runs the script under the fake parent in ``tmp_path``."""

    def run(script: str, **kwargs: Any) -> TrialRun:
        return run_trial(script, tmp_path, **kwargs)

    return run
