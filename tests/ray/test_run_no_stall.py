"""No stall: pathological trials are recorded for what they were and never block the run."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pytest

from tests.ray.conftest import live_processes_with, run_folder

pytestmark = pytest.mark.usefixtures("ray_session")

MARKER = "nni2ray-no-stall-marker"

TRIAL = textwrap.dedent(
    f"""
    import json, math, os, subprocess, sys, time
    import nni

    params = nni.get_next_parameter()
    kind = params["kind"]
    out = os.environ["NNI_OUTPUT_DIR"]
    if kind == "ok":
        nni.report_intermediate_result(1.0)
        nni.report_final_result(1.0)
    elif kind == "crash":
        raise RuntimeError("boom")
    elif kind == "hang":
        time.sleep(3600)
    elif kind == "silent":
        pass
    elif kind == "nan":
        nni.report_final_result(float("nan"))
    elif kind == "nodefault":
        nni.report_final_result({{"loss": 0.5, "acc": 0.9}})
    elif kind == "flood":
        chunk = "x" * 1023 + "\\n"
        for _ in range(50 * 1024):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        nni.report_final_result(1.0)
    elif kind == "spawner":
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(3600)", "{MARKER}"])
        open(os.path.join(out, "child.pid"), "w").write(str(child.pid))
        nni.report_intermediate_result(0.0)
        time.sleep(3600)
    """
)

SPECIAL = {
    10: "crash",
    20: "hang",
    30: "silent",
    40: "nan",
    50: "nodefault",
    60: "flood",
    70: "spawner",
}


def _experiment(folder: Path) -> Path:
    folder.mkdir()
    (folder / "trial.py").write_text(TRIAL)
    options = [{"kind": SPECIAL.get(i, "ok"), "i": i} for i in range(100)]
    space = {"combine_params": {"_type": "choice", "_value": options}}
    (folder / "search_space.json").write_text(json.dumps(space))
    (folder / "config.yml").write_text(
        textwrap.dedent(
            """
            experimentName: no-stall
            searchSpaceFile: search_space.json
            trialCommand: python3 trial.py
            trialConcurrency: 2
            maxTrialNumber: 100
            maxTrialDuration: 15s
            tuner:
              name: BatchTuner
              classArgs: {optimize_mode: maximize}
            trainingService:
              platform: local
            """
        )
    )
    return folder


def test_hundred_trials_with_pathological_ones_all_complete(tmp_path: Path) -> None:
    summary = run_folder(_experiment(tmp_path / "exp"), tmp_path / "out")
    by_kind = {
        r.parameters["kind"] if r.parameters["kind"] != "ok" else r.parameters["i"]: r
        for r in summary.records
    }
    assert len(summary.records) == 100
    ok = [r for r in summary.records if r.parameters["kind"] == "ok"]
    assert len(ok) == 93
    assert all(r.status == "SUCCEEDED" and r.final == 1.0 for r in ok)

    assert by_kind["crash"].status == "FAILED" and by_kind["crash"].exit_code == 1
    assert by_kind["hang"].status == "EARLY_STOPPED"
    assert by_kind["hang"].end_reason == "maxTrialDuration"
    assert by_kind["silent"].status == "SUCCEEDED" and by_kind["silent"].metrics == []
    assert by_kind["nan"].status == "SUCCEEDED" and math.isnan(by_kind["nan"].final)
    assert by_kind["nodefault"].final == {"loss": 0.5, "acc": 0.9}
    flood = by_kind["flood"]
    assert flood.status == "SUCCEEDED" and flood.final == 1.0
    stdout = tmp_path / "out" / "trials" / flood.trial_id / "trial.stdout"
    assert stdout.stat().st_size == 50 * 1024 * 1024
    spawner = by_kind["spawner"]
    assert spawner.status == "EARLY_STOPPED" and spawner.end_reason == "assessor"
    assert spawner.intermediate == [0.0]

    child_pid = int((tmp_path / "out" / "trials" / spawner.trial_id / "child.pid").read_text())
    assert child_pid not in live_processes_with(MARKER)
    assert live_processes_with(MARKER) == []
    assert live_processes_with(str(tmp_path / "exp")) == []
