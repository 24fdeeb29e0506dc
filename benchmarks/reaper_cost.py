"""What the per-trial reaper costs: start-to-exit time of a trivial trial, cold and warm, and
the memory of one reaper while its trial runs (PSS and RSS from ``/proc/PID/smaps_rollup``).

Run it with the code to measure first on PYTHONPATH (this tree, or an older one to
compare with):

    PYTHONPATH=$PWD python benchmarks/reaper_cost.py [TRIALS]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nni2ray.trials import SHIM_DIR, LaunchSpec, Template, TrialRun, heavy_modules, parse_command

TRIAL = (
    "import nni, numpy, os, sys, time\nnni.get_next_parameter()\ntime.sleep(float(sys.argv[1]))\n"
)


def _memory_kb(pid: int) -> tuple[int, int, int]:
    """(USS, PSS, RSS) in kB; USS (its private pages) is what the process adds."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Pss", "Rss", "Private_Clean", "Private_Dirty"):
            values[key] = int(rest.split()[0])
    return values["Private_Clean"] + values["Private_Dirty"], values["Pss"], values["Rss"]


def _finish(run: TrialRun) -> None:
    while not run.next_result().get("done"):
        pass


def spawn_overhead(runs: int) -> None:
    """The cold reaper alone: ``python -I -S _reaper.py /bin/true`` against ``/bin/true``."""
    import subprocess

    from nni2ray.trials import _process

    script = Path(_process.__file__).with_name("_reaper.py")
    if not script.exists():
        return
    for label, argv in (
        ("/bin/true", ["/bin/true"]),
        ("reaper + /bin/true", [sys.executable, "-I", "-S", str(script), "/bin/true"]),
    ):
        import resource

        times = []
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(argv, check=True)
            times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / runs
        print(
            f"{label}: median {statistics.median(times) * 1000:.1f} ms wall, "
            f"{cpu * 1000:.1f} ms CPU each, over {runs} runs"
        )


def main(trials: int) -> None:
    spawn_overhead(trials)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "trial.py").write_text(TRIAL)
        (root / "parameter.cfg").write_text(
            json.dumps({"parameter_id": 0, "parameter_source": "algorithm", "parameters": {}})
        )
        env = dict(os.environ, PYTHONPATH=str(SHIM_DIR), NNI_PLATFORM="local")
        env.update(NNI2RAY_PARAMETER_FILE=str(root / "parameter.cfg"), NNI_EXP_ID="bench")
        env["NNI_SYS_DIR"] = str(root / "trials" / "t")
        python = Path(sys.executable).name
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
        template = None
        for mode in ("cold", "warm"):
            times = []
            memory = None
            for n in range(trials + 1):
                spec = LaunchSpec(
                    f"{python} trial.py {0.5 if n == 0 else 0}", root, env, root / "trials" / "t"
                )
                warm = None
                if mode == "warm":
                    command = parse_command(spec.command, env["PATH"], root)
                    assert command is not None
                    if template is None:
                        template = Template(heavy_modules(command, root), env, root, root / "w.log")
                        assert template.ready(60)
                    warm = (template, command)
                started = time.perf_counter()
                run = TrialRun(spec, max_duration_s=None, heartbeat_s=60, warm=warm)
                if n == 0:  # the trial sleeps: measure the process that waits for it
                    time.sleep(0.3)
                    leader = run.process.pid
                    below = Path(f"/proc/{leader}/task/{leader}/children").read_text().split()
                    reaper = leader if below else None  # without a reaper it is the trial
                    memory = _memory_kb(leader) if reaper else None
                    _finish(run)
                    run.stop()
                    continue
                _finish(run)
                times.append(time.perf_counter() - started)
                run.stop()
            median = statistics.median(times) * 1000
            mem = "no reaper"
            if memory:
                mem = f"reaper USS {memory[0]} kB, PSS {memory[1]} kB, RSS {memory[2]} kB"
            print(f"{mode}: {trials} trivial trials, start to exit median {median:.1f} ms; {mem}")
        if template is not None:
            template.close()
            from nni2ray.trials import end_warm_templates

            end_warm_templates(root)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
