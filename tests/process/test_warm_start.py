"""Warm trial starts: a trial forked from a template behaves exactly like a fresh process."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nni2ray.trials import (
    SEQUENCE_KEY,
    Template,
    TrialContext,
    TrialRun,
    end_warm_templates,
    heavy_modules,
    parse_command,
    prepare_trial,
)

TRIAL = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import nni
    import helper

    params = nni.get_next_parameter()
    np.random.seed(params["seed"])
    for step in range(3):
        nni.report_intermediate_result(float(np.random.rand()))
    print("argv", sys.argv[1:], "cwd", os.path.basename(os.getcwd()), helper.VALUE)
    print("warn", file=sys.stderr)
    nni.report_final_result({"default": float(np.random.rand()), "name": __name__})
    sys.exit(params["code"])
    """
)


@pytest.fixture()
def experiment(tmp_path: Path) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    (code / "trial.py").write_text(TRIAL)
    (code / "helper.py").write_text("VALUE = 'local-module'\n")
    return code


def _run(
    tmp_path: Path, code: Path, trial_id: str, params: dict, warm: bool, template: list[Template]
) -> tuple[dict, TrialRun]:
    python = Path(sys.executable).name
    context = TrialContext(
        experiment_id="e",
        command=f"{python} trial.py --flag 1",
        code_directory=str(code),
        output_dir=str(tmp_path / "out"),
        search_space=None,
    )
    from nni2ray.trials import PARAMETERS_KEY

    spec = prepare_trial(context, {PARAMETERS_KEY: params, SEQUENCE_KEY: 0}, trial_id, None)
    warm_spec = None
    if warm:
        command = parse_command(spec.command, spec.env["PATH"], spec.cwd)
        assert command is not None
        if not template:
            template.append(
                Template(
                    heavy_modules(command, spec.cwd), spec.env, spec.cwd, tmp_path / "template.log"
                )
            )
        warm_spec = (template[0], command)
    run = TrialRun(spec, max_duration_s=30, warm=warm_spec)
    results = []
    while True:
        result = run.next_result()
        if result.get("nni_type") != "HEARTBEAT":
            results.append(result)
        if result.get("done"):
            return {"results": results}, run


def test_warm_and_cold_trials_report_identical_metrics(tmp_path: Path, experiment: Path) -> None:
    template: list[Template] = []
    try:
        cold, _ = _run(tmp_path, experiment, "cold", {"seed": 7, "code": 0}, False, template)
        warm, run = _run(tmp_path, experiment, "warm", {"seed": 7, "code": 0}, True, template)
        assert run.process.warm
        again, _ = _run(tmp_path, experiment, "warm2", {"seed": 7, "code": 3}, True, template)
    finally:
        for t in template:
            t.close()
        end_warm_templates(tmp_path / "out", grace_s=0.0)  # shared: it outlives close()
    values = [r["nni_value"] for r in cold["results"]]
    assert values == [r["nni_value"] for r in warm["results"]]
    assert values[-1]["name"] == "__main__"
    assert cold["results"][-1]["nni_status"] == warm["results"][-1]["nni_status"] == "SUCCEEDED"
    assert again["results"][-1]["nni_status"] == "FAILED"
    assert again["results"][-1]["nni_exit_code"] == 3
    for trial_id in ("cold", "warm"):
        folder = tmp_path / "out" / "trials" / trial_id
        assert (folder / "trial.stdout").read_text() == (
            "argv ['--flag', '1'] cwd code local-module\n"
        )
        assert (folder / "trial.stderr").read_text() == "warn\n"


def test_heavy_modules_are_third_party_only(experiment: Path) -> None:
    # The trial's PATH starts with the folder of the Python that runs nni2ray (a venv's bin,
    # whether or not the venv is activated), as the trial launcher sets it.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    command = parse_command(f"{Path(sys.executable).name} trial.py", path, experiment)
    assert command is not None
    assert heavy_modules(command, experiment) == ("numpy",)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("bash run.sh", id="not-python"),
        pytest.param("python3 trial.py | tee log", id="pipe"),
        pytest.param("cd sub && python3 trial.py", id="shell-and"),
        pytest.param("/usr/bin/env python3 trial.py", id="env-wrapper"),
        pytest.param("python3 missing.py", id="missing-script"),
    ],
)
def test_commands_that_start_cold(command: str, experiment: Path) -> None:
    assert parse_command(command, os.environ["PATH"], experiment) is None


def test_killing_a_warm_trial_ends_its_children(tmp_path: Path, experiment: Path) -> None:
    (experiment / "trial.py").write_text(
        textwrap.dedent("""
        import subprocess, sys, time
        import nni
        nni.get_next_parameter()
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        nni.report_intermediate_result(1.0)
        time.sleep(600)
    """)
    )
    template: list[Template] = []
    python = Path(sys.executable).name
    context = TrialContext(
        experiment_id="e",
        command=f"{python} trial.py",
        code_directory=str(experiment),
        output_dir=str(tmp_path / "out"),
        search_space=None,
    )
    from nni2ray.trials import PARAMETERS_KEY

    spec = prepare_trial(context, {PARAMETERS_KEY: {}, SEQUENCE_KEY: 0}, "k", None)
    command = parse_command(spec.command, spec.env["PATH"], spec.cwd)
    assert command is not None
    template.append(Template((), spec.env, spec.cwd, tmp_path / "t.log"))
    try:
        run = TrialRun(spec, max_duration_s=60, warm=(template[0], command))
        assert run.next_result()["nni_type"] == "PERIODICAL"
        pgid = run.process.pid
        run.stop()
        time.sleep(0.2)
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)
    finally:
        template[0].close()
        end_warm_templates(tmp_path / "out", grace_s=0.0)
