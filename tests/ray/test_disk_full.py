"""A full disk under the run folder (a small tmpfs): the run stops cleanly with one line
naming the path and the free space, every trial ended, the records so far kept; once space
is freed, ``--resume`` completes the run (issue 15, item 4).

The small file system is a real 16 MiB tmpfs (tests/small_disk.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nni2ray.results import RESERVE_FILE
from tests.ray.conftest import REPO

# _orphans_before is an autouse fixture: imported, it snapshots this module's tests too, so
# that _assert_nothing_left counts only the orphaned Ray processes of the test's own run.
from tests.ray.test_signals import (  # noqa: F401
    MARKER_ENV,
    _assert_nothing_left,
    _orphans_before,
)
from tests.small_disk import SIZE, SmallDisk, small_disk_at

TRIAL = textwrap.dedent(
    """
    import subprocess, time
    import nni

    params = nni.get_next_parameter()
    subprocess.Popen(["sleep", "600"])  # ended with its trial
    for step in range(30):
        nni.report_intermediate_result({"default": step * params["x"], "pad": "x" * 2000})
        time.sleep(0.05)
    print("done " * 100)
    nni.report_final_result(params["x"])
    """
)

CONFIG = """\
experimentName: diskfull
searchSpace: {x: {_type: uniform, _value: [0, 1]}}
trialCommand: python3 trial.py
trialConcurrency: 2
maxTrialNumber: 6
tuner: {name: Random, classArgs: {optimize_mode: maximize}}
trainingService: {platform: local}
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    with small_disk_at(tmp_path / "disk") as disk:
        yield disk


def _run(
    disk: SmallDisk, tmp_path: Path, marker: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env[MARKER_ENV] = marker
    command = [sys.executable, "-m", "nni2ray", "run", str(tmp_path / "exp")]
    command += ["--output", str(disk.mount / "out"), "--scheduler", "none", "--quiet", *extra]
    return subprocess.run(
        disk.wrap(command, tmp_path),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


def test_a_full_disk_stops_the_run_cleanly_and_resume_completes_it(
    tmp_path: Path, small_disk: SmallDisk
) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(TRIAL)
    (exp / "config.yml").write_text(CONFIG)
    marker = uuid.uuid4().hex
    out = small_disk.seen(small_disk.mount / "out")
    # Leave the run's reserve (1 MiB) and ~400 KiB: a full run of 6 trials needs ~3 MiB.
    filler = small_disk.seen(small_disk.mount) / "filler"
    filler.write_bytes(bytes(SIZE - (1400 << 10)))

    started = time.monotonic()
    full = _run(small_disk, tmp_path, marker)
    assert full.returncode == 1, full.stderr
    assert time.monotonic() - started < 240  # no stall
    assert "Traceback" not in full.stderr, full.stderr
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1, full.stderr
    pattern = (
        rf"nni2ray: error: {re.escape(str(small_disk.mount / 'out'))}/\S+: no space left on "
        r"the device \(\d+(\.\d)? (B|KiB) free\); the run stopped: every trial ended, the "
        r"records written so far kept; free some space, then continue it with "
        r"`nni2ray run exp --resume --output "  # exp: relative to the working directory
        rf"{re.escape(str(small_disk.mount / 'out'))}`"
    )
    assert re.fullmatch(pattern, lines[0]), lines[0]
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["status"] == "STOPPED" and meta["stopReason"] == "disk full"
    exported = json.loads((out / "export.json").read_text())  # whole, valid JSON
    kept = [json.loads(p.read_text()) for p in sorted(out.glob("trials/*/trial.json"))]
    assert 1 <= len(kept) < 6
    assert {r["status"] for r in kept} <= {"SUCCEEDED", "USER_CANCELED"}
    assert len(exported) >= len(kept)
    assert not (out / RESERVE_FILE).exists()
    _assert_nothing_left(marker)
    finished = sum(r["status"] == "SUCCEEDED" for r in kept)

    filler.unlink()  # space is back
    resumed = _run(small_disk, tmp_path, marker, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr, resumed.stderr
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["status"] == "DONE"
    exported = json.loads((out / "export.json").read_text())
    assert [r["status"] for r in exported] == ["SUCCEEDED"] * 6
    assert len({r["sequence"] for r in exported}) == 6
    assert finished <= 6
    _assert_nothing_left(marker)
