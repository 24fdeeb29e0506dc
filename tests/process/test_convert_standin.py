"""The minimal stand-in ``nni`` that convert copies next to a custom tuner imports cleanly
with nothing but the standard library (no nni2ray, no real nni)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nni2ray.convert.launcher._adapters import adapter_files


def test_copied_standin_nni_imports_on_its_own(tmp_path: Path) -> None:
    for name, text in adapter_files().items():
        if "/nni/" in name:
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    folder = next(tmp_path.iterdir())
    probe = (
        "import nni, nni.tuner, nni.assessor, nni.utils;"
        "from nni.tuner import Tuner; from nni.assessor import Assessor, AssessResult;"
        "print(nni.__file__)"
    )
    # -S -P: no site packages, no script folder on sys.path: only the copied files count
    result = subprocess.run(
        [sys.executable, "-S", "-P", "-c", probe],
        cwd=folder,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(folder)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(folder / "nni" / "__init__.py")
