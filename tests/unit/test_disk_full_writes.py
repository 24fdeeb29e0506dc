"""Telling a full disk from other write failures, and the line that says so."""

from __future__ import annotations

import errno
from pathlib import Path

from nni2ray.errors import DiskFullError, OutputError
from nni2ray.results import (
    RESERVE_FILE,
    SpaceReserve,
    disk_full_error,
    failed_path,
    is_disk_full,
    size_text,
)


def test_a_full_disk_is_told_apart_also_when_wrapped() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/x/trial.json")
    assert is_disk_full(full)
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(None)
    try:
        try:
            raise full
        except OSError as exc:
            raise RuntimeError("the Ray Tune run failed") from exc
    except RuntimeError as wrapped:
        assert is_disk_full(wrapped)
        assert failed_path(wrapped) == Path("/x/trial.json")
    # Tune keeps only the traceback's text of a callback's error.
    assert is_disk_full(RuntimeError("...\nOSError: [Errno 28] No space left on device: 'a'"))


def test_the_line_names_path_free_space_and_resume(tmp_path: Path) -> None:
    error = disk_full_error(tmp_path / "out" / "export.json", tmp_path / "out", "exp", free=0)
    assert isinstance(error, DiskFullError) and isinstance(error, OutputError)
    assert str(error) == (
        f"{tmp_path}/out/export.json: no space left on the device (0 B free); the run "
        "stopped: every trial ended, the records written so far kept; free some space, then "
        f"continue it with `nni2ray run exp --resume --output {tmp_path}/out`"
    )
    assert [size_text(n) for n in (0, 4096, 3 << 20, 5 << 30)] == [
        "0 B",
        "4.0 KiB",
        "3.0 MiB",
        "5.0 GiB",
    ]


def test_the_reserve_holds_space_until_released(tmp_path: Path) -> None:
    reserve = SpaceReserve(tmp_path, size=64 << 10)
    assert (tmp_path / RESERVE_FILE).stat().st_size == 64 << 10
    reserve.release()
    reserve.release()  # twice is fine
    assert not (tmp_path / RESERVE_FILE).exists()
