"""`nni2ray run --address` on a real two-node Ray cluster (two raylets on this machine).

Trials must land on both nodes (one CPU per node, two trials at once); the second node's
raylet is killed mid-trial; the lost trial runs again on the first node and nothing is lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ray.conftest import REPO
from tests.ray.test_run_cluster import _free_port

# The node a trial runs on: every process a node starts inherits its `ray start`'s environment.
NODE_ENV = "NNI2RAY_TEST_NODE"

TRIAL = textwrap.dedent(
    """
    import os, pathlib, time
    import nni

    node = os.environ.get("NNI2RAY_TEST_NODE", "driver").split(":")[0]
    params = nni.get_next_parameter()
    print("node=" + node, flush=True)
    steps = 200 if node == "b" else 3  # on node b: run until the node is killed
    for step in range(steps):
        nni.report_intermediate_result(params["x"] + step)
        if node == "b" and step == 1:
            pathlib.Path(os.environ["NNI_OUTPUT_DIR"], "on-node-b").write_text("1")
        time.sleep(0.3)
    nni.report_final_result(params["x"])
    """
)

CONFIG = """\
searchSpace: {x: {_type: choice, _value: [0, 1, 2, 3]}}
trialCommand: python3 two_node_trial.py
trialConcurrency: 2
maxTrialNumber: 4
tuner: {name: GridSearch}
trainingService: {platform: local}
"""


@dataclass
class TwoNodes:
    address: str
    marker: str  # in NNI2RAY_TEST_NODE of every process of the cluster: "<node>:<marker>"


def _processes_of(marker: str, node: str | None = None) -> dict[int, str]:
    """Live processes whose environment holds this cluster's marker (one node, or both):
    pid -> command line."""
    wanted = [f"{NODE_ENV}={n}:{marker}".encode() for n in ([node] if node else ["a", "b"])]
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            state = Path(f"/proc/{entry}/stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if state != "Z" and any(w in environ for w in wanted):
            found[int(entry)] = cmdline.decode(errors="replace")
    return found


def _cluster_env() -> dict[str, str]:
    # Both nodes and the driver on 127.0.0.1, as Ray's own multi-node tests place theirs.
    env = dict(os.environ, RAY_AUTH_MODE="token")
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)  # "0" would refuse a second node
    return env


def _ray_start(args: list[str], node: str, marker: str, temp_dir: str) -> None:
    ray = str(Path(sys.executable).with_name("ray"))
    env = _cluster_env()
    env[NODE_ENV] = f"{node}:{marker}"
    done = subprocess.run(
        [ray, "start", *args, "--node-ip-address=127.0.0.1", "--disable-usage-stats"]
        + [f"--temp-dir={temp_dir}"],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture()
def two_nodes() -> Iterator[TwoNodes]:
    """Head node `a` (1 CPU) and a second node `b` (1 CPU and a `node_b` resource), each
    started by its own `ray start` and ended by the marker in its processes' environment,
    so that no other Ray session on the machine is touched."""
    port = _free_port()
    marker = uuid.uuid4().hex
    temp_dirs = [tempfile.mkdtemp(prefix="r2", dir="/tmp") for _ in "ab"]  # short: sockets
    try:
        _ray_start(
            ["--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false"],
            "a",
            marker,
            temp_dirs[0],
        )
        _ray_start(
            [f"--address=127.0.0.1:{port}", "--num-cpus=1", '--resources={"node_b": 1}'],
            "b",
            marker,
            temp_dirs[1],
        )
        yield TwoNodes(f"127.0.0.1:{port}", marker)
    finally:
        for pid in _processes_of(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for temp_dir in temp_dirs:
            shutil.rmtree(temp_dir, ignore_errors=True)


def _wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_trials_use_both_nodes_and_survive_losing_one(two_nodes: TwoNodes, tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "two_node_trial.py").write_text(TRIAL)
    (exp / "config.yml").write_text(CONFIG)
    out = tmp_path / "out"
    env = _cluster_env()
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nni2ray", "run", str(exp), "--address", two_nodes.address]
        + ["--output", str(out), "--scheduler", "none", "--max-retries", "1", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",  # Ray's console output may hold stray bytes
        env=env,
        cwd=tmp_path,
    )
    try:
        # A trial runs on node b and its metrics already reach --output: kill b's raylet.
        _wait_for(lambda: list(out.glob("trials/*/on-node-b")), 150, "a trial on node b")
        raylets = [
            pid
            for pid, cmd in _processes_of(two_nodes.marker, "b").items()
            if "/raylet" in cmd.split(" ", 1)[0]
        ]
        assert len(raylets) == 1, _processes_of(two_nodes.marker, "b")
        os.kill(raylets[0], signal.SIGKILL)
        _out, err = proc.communicate(timeout=150)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err

    exported = {r["parameter"]["x"]: r for r in json.loads((out / "export.json").read_text())}
    assert sorted(exported) == [0, 1, 2, 3]
    assert {r["status"] for r in exported.values()} == {"SUCCEEDED"}
    assert {r["value"] for r in exported.values()} == {0, 1, 2, 3}
    retried = [r for r in exported.values() if r["retries"] == 1]
    assert len(retried) == 1, exported  # the trial node b was running when it died
    assert "starting it again (retry 1)" in err

    # Every trial's log reached --output: the retried trial's log shows both attempts
    # (the lost one on node b, the new one on node a), every other trial ran on a.
    trial_dirs = sorted(out.glob("trials/*"))
    assert len(trial_dirs) == 4
    nodes_seen = set()
    for trial_dir in trial_dirs:
        lines = (trial_dir / "trial.stdout").read_text().split()
        nodes = [line.removeprefix("node=") for line in lines if line.startswith("node=")]
        nodes_seen.update(nodes)
        if (trial_dir / "on-node-b").exists():
            assert nodes == ["b", "a"], trial_dir
        else:
            assert nodes == ["a"], trial_dir
    assert nodes_seen == {"a", "b"}
    # The retried trial's metrics are those of its finished attempt, on node a.
    for record in retried:
        periodic = [record["value"] + step for step in range(3)]
        assert record["intermediate"] in (periodic, [*periodic, record["value"]]), record

    # Nothing of the run is left on either node: no trial process, no trial actor.
    def leftovers() -> dict[int, str]:
        return {
            pid: cmd
            for pid, cmd in _processes_of(two_nodes.marker).items()
            if "two_node_trial" in cmd or "NniTrial" in cmd
        }

    _wait_for(lambda: not leftovers(), 20, "the run's processes to end")
