"""`nni2ray run --address`: the same command on an existing Ray cluster."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ray.conftest import FIXTURES, REPO


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    ray = str(Path(sys.executable).with_name("ray"))
    subprocess.run(
        [
            ray,
            "start",
            "--head",
            f"--port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            "--node-ip-address=127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=120)


def test_run_on_existing_cluster_ships_the_code_directory(cluster: str, tmp_path: Path) -> None:
    env = dict(os.environ)
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
