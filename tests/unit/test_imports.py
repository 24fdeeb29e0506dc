"""The light entry points never import Ray (checked in fresh interpreters)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _modules_after(code: str) -> set[str]:
    script = code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout
    return set(out.split())


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import nni2ray", id="import-nni2ray"),
        pytest.param(
            "from nni2ray.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass",
            id="cli-help",
        ),
        pytest.param(
            "from nni2ray.cli import main\n"
            "main(['check', 'fixtures/experiments/digits_sklearn_v2'])",
            id="check",
        ),
        pytest.param(
            "from nni2ray.experiment import load_experiment\n"
            "from nni2ray.translate import translate\n"
            "translate(load_experiment('fixtures/experiments/nested_choice'))",
            id="translate",
        ),
    ],
)
def test_light_paths_do_not_import_ray(code: str) -> None:
    loaded = _modules_after(code)
    assert "ray" not in loaded
    assert "torch" not in loaded


def test_import_nni2ray_is_light() -> None:
    loaded = _modules_after("import nni2ray")
    assert not {"yaml", "jsonschema", "libcst"} & loaded
