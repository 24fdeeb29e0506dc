"""The driver of a run: what it imports, and the start-up trace (NNI2RAY_TRACE_STARTUP)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.ray.conftest import REPO

TRIAL = textwrap.dedent(
    """
    import nni

    params = nni.get_next_parameter()
    nni.report_final_result(params["x"])
    """
)

CONFIG = """\
searchSpace: {x: {_type: uniform, _value: [0, 1]}}
trialCommand: python3 trial.py
trialConcurrency: 1
maxTrialNumber: 1
tuner: {name: Random}
trainingService: {platform: local}
"""

# The run in this interpreter, then which heavy modules it holds.
DRIVER = textwrap.dedent(
    """
    import json, sys
    from nni2ray.cli import main

    code = main(sys.argv[1:])
    # (pandas is not among them: Ray Tune imports it unconditionally.)
    heavy = ("torch", "tensorboardX", "tensorflow", "sklearn", "matplotlib")
    print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
    """
)


def test_driver_imports_no_torch_and_traces_its_start(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(TRIAL)
    (exp / "config.yml").write_text(CONFIG)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO), NNI2RAY_TRACE_STARTUP="1")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, "run", str(exp), "--output", str(out), "--quiet"],
        capture_output=True,
        text=True,
        errors="replace",  # Ray's console output may hold stray bytes
        timeout=240,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": []}  # the trial needs none of them: neither does Ray
    assert [e["status"] for e in json.loads((out / "export.json").read_text())] == ["SUCCEEDED"]
    steps = [
        line.split("] ", 1)[1]
        for line in proc.stderr.splitlines()
        if line.startswith("nni2ray: startup ")
    ]
    for step in (
        "command line started (nni2ray imported)",
        "experiment read and validated",
        "ray imported",
        "ray.init done",
        "Tune and the runtime imported",
        "tuner.fit() called",
        "Tune started the first trial's actor",
        "first trial result reached the driver",
    ):
        assert step in steps, (step, steps)
    assert steps.index("ray imported") < steps.index("ray.init done")
    assert steps.index("tuner.fit() called") < steps.index("first trial result reached the driver")
    # The trace reads seconds since the process started, in order.
    seconds = [
        float(line.split()[2].rstrip("s"))
        for line in proc.stderr.splitlines()
        if line.startswith("nni2ray: startup ")
    ]
    assert seconds == sorted(seconds) and seconds[0] > 0


# Each trial lists the command lines of the run's processes (every process of a local run
# inherits the run's token from the driver).
LISTING_TRIAL = textwrap.dedent(
    """
    import json, os, pathlib
    import nni

    params = nni.get_next_parameter()
    token = os.environ["NNI2RAY_RUN_TOKEN"]
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes().split(b"\\0")
            if ("NNI2RAY_RUN_TOKEN=" + token).encode() in environ:
                found.append((entry / "cmdline").read_bytes().replace(b"\\0", b" ").decode())
        except OSError:
            pass
    pathlib.Path(os.environ["NNI_OUTPUT_DIR"], "processes.json").write_text(json.dumps(found))
    nni.report_final_result(params["x"])
    """
)


def test_a_local_run_starts_only_the_ray_processes_it_uses(tmp_path: Path) -> None:
    """No autoscaler monitor, log monitor or API server on the local node; the first trial
    actors run in the workers the raylet prestarted (started before tuner.fit())."""
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(LISTING_TRIAL)
    (exp / "config.yml").write_text(
        CONFIG.replace("trialConcurrency: 1", "trialConcurrency: 2").replace(
            "maxTrialNumber: 1", "maxTrialNumber: 2"
        )
    )
    out = tmp_path / "out"
    trace = tmp_path / "trace.txt"
    env = dict(os.environ, PYTHONPATH=str(REPO), NNI2RAY_TRACE_STARTUP=str(trace))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "nni2ray", "run", str(exp), "--output", str(out), "--quiet"],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=240,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    exported = json.loads((out / "export.json").read_text())
    assert [e["status"] for e in exported] == ["SUCCEEDED", "SUCCEEDED"]
    for record in exported:
        listing = json.loads((out / "trials" / record["trialJobId"] / "processes.json").read_text())
        text = "\n".join(listing)
        assert "raylet" in text and "gcs_server" in text, text  # the listing sees Ray
        for unused in ("log_monitor.py", "monitor.py", "dashboard/dashboard.py"):
            assert unused not in text, (unused, text)
    rows = [line.split(" ", 2) for line in trace.read_text().splitlines()]
    when = {(pid, step): float(at) for at, pid, step in rows}
    fit = min(at for (_, step), at in when.items() if step == "tuner.fit() called")
    workers = [at for (_, step), at in when.items() if step == "worker: Ray worker process started"]
    # One actor per concurrent trial at most (reused: warm start); one when the first
    # trial ended before the second needed an actor.
    assert 1 <= len(workers) <= 2, rows
    assert all(at < fit for at in workers), rows  # prestarted, not started for the actor
