#!/usr/bin/env python3
"""How fast the metric channel delivers a trial's reports (no Ray): one trial process that
reports N intermediate results as fast as it can, read through nni2ray's TrialRun; and one
that writes a 100 MB line (refused) followed by a final result.

    PYTHONPATH=. .venv/bin/python tests/benchmarks/metric_channel.py [N]

Prints the seconds from the trial's start to its last result and the reports per second.
Target (issue 15): 10,000 reports in under 2 s on a 2-core machine.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from nni2ray.trials import SHIM_DIR, LaunchSpec, TrialRun

FLOOD = """
import nni
nni.get_next_parameter()
for step in range({n}):
    nni.report_intermediate_result(step)
nni.report_final_result(-1)
"""

BIG_LINE = """
import os
import nni
nni.get_next_parameter()
fd = int(os.environ["NNI2RAY_METRIC_FD"])
view = memoryview(b'{{"type": "FINAL", "sequence": 0, "value": "' + b"x" * {size} + b'"}}\\n')
while view:
    view = view[os.write(fd, view):]
nni.report_final_result(1)
"""


def _time(folder: Path, script: str) -> tuple[float, int]:
    (folder / "trial.py").write_text(script)
    (folder / "parameter.cfg").write_text(json.dumps({"parameter_id": 0, "parameters": {}}))
    env = dict(os.environ, PYTHONPATH=str(SHIM_DIR), NNI_PLATFORM="local")
    env["NNI2RAY_PARAMETER_FILE"] = str(folder / "parameter.cfg")
    spec = LaunchSpec(f"{sys.executable} trial.py", folder, env, folder / "logs")
    start = time.perf_counter()
    run = TrialRun(spec, max_duration_s=None, heartbeat_s=60)
    count = 0
    while not run.next_result().get("done"):
        count += 1
    return time.perf_counter() - start, count + 1


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        seconds, count = _time(Path(tmp), FLOOD.format(n=n))
        print(f"{count} results delivered in {seconds:.2f} s ({count / seconds:,.0f}/s)")
    with tempfile.TemporaryDirectory() as tmp:
        seconds, count = _time(Path(tmp), BIG_LINE.format(size=100_000_000))
        print(f"a 100 MB line refused and the final result delivered in {seconds:.2f} s")


if __name__ == "__main__":
    main()
