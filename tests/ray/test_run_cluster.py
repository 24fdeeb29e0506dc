"""`nni2ray run --address`: the same command on an existing Ray cluster."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ray.conftest import FIXTURES, REPO, live_processes_with


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _loopback_env() -> dict[str, str]:
    # Ray binds a cluster to the machine's network address unless told this; the test
    # cluster (and the driver that joins it) stays on 127.0.0.1.
    return dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_AUTH_MODE="token")


@pytest.fixture()
def cluster() -> Iterator[str]:
    """A one-node Ray cluster started with `ray start`, stopped by its own temp dir (so that
    no other Ray session on the machine is touched)."""
    port = _free_port()
    temp_dir = tempfile.mkdtemp(prefix="rc", dir="/tmp")  # short: Ray puts sockets in it
    ray = str(Path(sys.executable).with_name("ray"))
    subprocess.run(  # loopback only: see LOOPBACK_ENV
        [
            ray,
            "start",
            "--head",
            f"--port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp_dir}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env=_loopback_env(),
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for pid in live_processes_with(temp_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_run_on_existing_cluster_ships_the_code_directory(cluster: str, tmp_path: Path) -> None:
    env = _loopback_env()
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nni2ray",
            "run",
            str(FIXTURES / "data_files"),
            "--address",
            cluster,
            "--output",
            str(out),
            "--max-trials",
            "2",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        errors="replace",  # Ray's console output may hold stray bytes
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    export = json.loads((out / "export.json").read_text())
    assert [e["status"] for e in export] == ["SUCCEEDED", "SUCCEEDED"]
    # The trial read data/points.csv relative to its working directory: on the cluster
    # that is the shipped copy of the code directory, not the folder in the repository.
    for entry in export:
        assert isinstance(entry["value"], float)
