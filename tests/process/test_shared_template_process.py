"""One warm-start template per run and module set, shared by every trial actor of the run:
trials of two actors (two real processes) fork from the same template, which ends when the
run ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from nni2ray.trials import (
    PARAMETERS_KEY,
    SEQUENCE_KEY,
    Template,
    TrialContext,
    TrialRun,
    end_leftover_trials,
    end_warm_templates,
    heavy_modules,
    parse_command,
    prepare_trial,
)

REPO = Path(__file__).resolve().parents[2]

# Each trial reports its parent (the template it was forked from), then waits until the
# other actor's trial runs too: the two trials run at the same time.
TRIAL = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import numpy
    import nni

    params = nni.get_next_parameter()
    meet = Path(params["meet"])
    (meet / os.environ["NNI_TRIAL_JOB_ID"]).write_text("here")
    deadline = time.time() + 60
    while len(list(meet.iterdir())) < params["trials"] and time.time() < deadline:
        time.sleep(0.02)
    nni.report_final_result(
        # The trial's parent is its reaper, forked by the template: the grandparent.
        {"default": 0.0, "met": len(list(meet.iterdir())),
         "ppid": int(Path(f"/proc/{os.getppid()}/stat").read_text().rsplit(") ", 1)[1].split()[1])}
    )
    """
)

# One "trial actor": its own process, its own Template connection, one warm trial.
ACTOR = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from nni2ray.trials import (PARAMETERS_KEY, SEQUENCE_KEY, Template, TrialContext,
                                TrialRun, heavy_modules, parse_command, prepare_trial)

    code, out, trial_id, meet, idle_s = sys.argv[1:6]
    context = TrialContext(experiment_id="shared", command=f"{Path(sys.executable).name} trial.py",
                           code_directory=code, output_dir=out, search_space=None)
    params = {"meet": meet, "trials": 2}
    spec = prepare_trial(context, {PARAMETERS_KEY: params, SEQUENCE_KEY: 0}, trial_id, None)
    command = parse_command(spec.command, spec.env["PATH"], spec.cwd)
    template = Template(heavy_modules(command, spec.cwd), spec.env, spec.cwd,
                        Path(out) / "warm-start.log", idle_s=float(idle_s))
    assert template.ready(120)
    run = TrialRun(spec, max_duration_s=120, warm=(template, command))
    values = []
    while True:
        result = run.next_result()
        if "nni_value" in result:
            values.append(result["nni_value"])
        if result.get("done"):
            break
    print(json.dumps({"template": template.pid, "started": template.started,
                      "warm": run.process.warm, "trial": run.process.pid, "values": values,
                      "status": result.get("nni_status")}))
    template.close()
    """
)


def _code(tmp_path: Path) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    (code / "trial.py").write_text(TRIAL)
    return code


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in "ZX"


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def test_two_actors_fork_their_trials_from_one_template(tmp_path: Path) -> None:
    code, out, meet = _code(tmp_path), tmp_path / "out", tmp_path / "meet"
    meet.mkdir()
    (tmp_path / "actor.py").write_text(ACTOR)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    actors = [
        subprocess.Popen(
            [
                sys.executable,
                str(tmp_path / "actor.py"),
                str(code),
                str(out),
                trial_id,
                str(meet),
                "1.0",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for trial_id in ("t1", "t2")
    ]
    try:
        outputs = [actor.communicate(timeout=180) for actor in actors]
    finally:
        for actor in actors:
            actor.kill()
    for actor, (_, stderr) in zip(actors, outputs, strict=True):
        assert actor.returncode == 0, stderr
    reports = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
    template = reports[0]["template"]
    try:
        # Both warm, both forked by the same template process; exactly one actor started it
        # (the other found it listening, or lost the race to bind its name).
        assert [r["warm"] for r in reports] == [True, True]
        assert [r["status"] for r in reports] == ["SUCCEEDED", "SUCCEEDED"]
        assert reports[1]["template"] == template
        assert sorted(r["started"] for r in reports) == [False, True]
        assert [r["values"][-1]["ppid"] for r in reports] == [template, template]
        assert [r["values"][-1]["met"] for r in reports] == [2, 2]  # they ran at once
        assert reports[0]["trial"] != reports[1]["trial"]
        # Its last client gone, the template exits after its idle time (1 s here).
        assert _wait_gone(template, 30), "the shared template outlived its clients"
    finally:
        end_warm_templates(out, grace_s=0.0)


def test_the_runs_leftover_search_ends_the_template_a_trials_does_not(tmp_path: Path) -> None:
    code, out, meet = _code(tmp_path), tmp_path / "out", tmp_path / "meet"
    meet.mkdir()
    context = TrialContext(
        experiment_id="shared",
        command=f"{Path(sys.executable).name} trial.py",
        code_directory=str(code),
        output_dir=str(out),
        search_space=None,
    )
    params = {PARAMETERS_KEY: {"meet": str(meet), "trials": 1}, SEQUENCE_KEY: 0}
    spec = prepare_trial(context, params, "t1", None)
    command = parse_command(spec.command, spec.env["PATH"], spec.cwd)
    assert command is not None
    template = Template(
        heavy_modules(command, spec.cwd), spec.env, spec.cwd, out / "t.log", idle_s=600
    )
    try:
        assert template.ready(120) and template.pid is not None
        # A second connection of the same run and modules reaches the same process.
        other = Template(heavy_modules(command, spec.cwd), spec.env, spec.cwd, out / "t.log")
        assert other.ready(120) and other.pid == template.pid and not other.started
        other.close()
        run = TrialRun(spec, max_duration_s=60, warm=(template, command))
        while not run.next_result().get("done"):
            pass
        assert run.process.warm
        end_leftover_trials(out, "t1", grace_s=0.5)  # one trial's leftovers: not the template
        assert _alive(template.pid) and template.alive()
        assert end_leftover_trials(out, grace_s=1.0) >= 1  # the run's (the supervisor's too)
        assert _wait_gone(template.pid, 10)
        assert not template.alive()
    finally:
        template.close()
        end_warm_templates(out, grace_s=0.0)
