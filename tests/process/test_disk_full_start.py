"""A run that cannot start for want of space says so in one line and leaves nothing
behind: no folder that a plain rerun would refuse as not empty and ``--resume`` as not a
run folder (the circle issue 15 names). Real 16 MiB tmpfs (tests/small_disk.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.small_disk import SIZE, small_disk_at

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "experiments" / "all_types"


def test_too_little_space_to_start_leaves_nothing(tmp_path: Path) -> None:
    with small_disk_at(tmp_path / "disk") as disk:
        filler = disk.seen(disk.mount) / "filler"
        filler.write_bytes(bytes(SIZE - (512 << 10)))
        out = disk.mount / "out"
        env = dict(os.environ, PYTHONPATH=str(REPO))
        command = [sys.executable, "-m", "nni2ray", "run", str(FIXTURE), "--output", str(out)]
        done = subprocess.run(
            disk.wrap(command, tmp_path),
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        errors = [line for line in done.stderr.splitlines() if "error" in line]
        assert errors == [
            f"nni2ray: error: {out}: not enough free space to start a run (512.0 KiB free, "
            "1.1 MiB needed); free some space, then run the same command again"
        ]
        assert "Ray started" not in done.stdout  # refused before Ray starts
        assert sorted(p.name for p in disk.seen(disk.mount).iterdir()) == ["filler"]


def test_convert_onto_a_full_disk_says_so_in_one_line(tmp_path: Path) -> None:
    with small_disk_at(tmp_path / "disk") as disk:
        filler = disk.seen(disk.mount) / "filler"
        with open(filler, "wb") as handle:  # fill it up, to the last byte
            try:
                while True:
                    handle.write(bytes(1 << 20))
                    handle.flush()
            except OSError:
                pass
        out = disk.mount / "converted"
        env = dict(os.environ, PYTHONPATH=str(REPO))
        command = [sys.executable, "-m", "nni2ray", "convert", str(FIXTURE), "-o", str(out)]
        done = subprocess.run(
            disk.wrap(command, tmp_path),
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines()[-1] == (
            f"nni2ray: error: {out}: no space left on the device (0 B free); "
            "free some space, then run the command again"
        )


def test_a_full_ray_temp_folder_is_refused_in_one_line_before_anything_is_written(
    tmp_path: Path,
) -> None:
    """Ray's own temporary folder (RAY_TMPDIR, TMPDIR or /tmp) on a full file system: one
    line naming it, in seconds (ray.init waited ~30 s and ended in a traceback)."""
    with small_disk_at(tmp_path / "disk") as disk:
        filler = disk.seen(disk.mount) / "filler"
        filler.write_bytes(bytes(SIZE - (1 << 20)))  # 1 MiB left: Ray could not start
        out = tmp_path / "out"
        env = dict(os.environ, PYTHONPATH=str(REPO), RAY_TMPDIR=str(disk.mount))
        command = [sys.executable, "-m", "nni2ray", "run", str(FIXTURE), "--output", str(out)]
        started = time.monotonic()
        done = subprocess.run(
            disk.wrap(command, tmp_path),
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert time.monotonic() - started < 15
        assert "Traceback" not in done.stderr
        assert [line for line in done.stderr.splitlines() if "error" in line] == [
            f"nni2ray: error: {disk.mount / 'ray'}: Ray's temporary folder has 1.0 MiB free; "
            "a local Ray needs about 64.0 MiB there to start; free some space there, or give "
            "Ray another folder with RAY_TMPDIR=DIR"
        ]
        assert not out.exists()  # nothing written
