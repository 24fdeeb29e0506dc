#!/usr/bin/env python3
"""Where the time goes from ``nni2ray run`` to the first trial script running.

Runs one trivial trial (fixtures/benchmarks/trivial, concurrency 1, no scheduler) with
``NNI2RAY_TRACE_STARTUP`` pointing at a file, so that the driver and the Ray workers each
note when they reach a step, then prints every step as seconds since the command started
and the time since the step before. The last step, "first trial script running", is the
trial's own first instruction (its ``t0``). Standard library only; run it with the Python
that has nni2ray's dependencies:

    .venv/bin/python benchmarks/startup_breakdown.py [--runs 3] [--no-warm-start]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRIVIAL = REPO / "fixtures" / "benchmarks" / "trivial"


def one_run(work: Path, cold: bool) -> list[tuple[float, str]]:
    """[(seconds since the command started, step)] for one run, in time order."""
    trace = work / "trace.txt"
    out = work / "out"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["NNI2RAY_TRACE_STARTUP"] = str(trace)
    cmd = [sys.executable, "-m", "nni2ray", "run", str(TRIVIAL), "--output", str(out)]
    cmd += ["--max-trials", "1", "--concurrency", "1", "--scheduler", "none", "--quiet"]
    if cold:
        cmd.append("--no-warm-start")
    started = time.time()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, cwd=work)
    steps: dict[str, float] = {"command started": started}
    for line in trace.read_text().splitlines():
        when, _pid, step = line.split(" ", 2)
        steps.setdefault(step, float(when))  # the first process to reach a step
    for metrics in out.glob("trials/*/metrics.jsonl"):
        for row in metrics.read_text().splitlines():
            value = json.loads(row).get("value")
            if isinstance(value, dict) and "t0" in value:
                steps["first trial script running"] = min(
                    float(value["t0"]), steps.get("first trial script running", float("inf"))
                )
    return sorted((when - started, step) for step, when in steps.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="runs to make (default: 1)")
    parser.add_argument("--no-warm-start", action="store_true", help="start trials cold")
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="startup-") as folder:
            steps = one_run(Path(folder), args.no_warm_start)
        print(f"\nrun {run + 1}: seconds since the command started (+ since the step before)")
        before = 0.0
        for at, step in steps:
            print(f"  {at:7.2f}  (+{max(at - before, 0.0):5.2f})  {step}")
            before = max(before, at)
    return 0


if __name__ == "__main__":
    sys.exit(main())
