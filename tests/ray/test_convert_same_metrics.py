"""A converted project reports, for the same parameters, exactly what `nni2ray run` records."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from nni2ray.cli import main
from tests.ray.conftest import run_folder
from tests.ray.test_convert_e2e import _python

TRIAL = textwrap.dedent(
    """
    import nni

    params = nni.get_next_parameter()
    a, b = params["a"], params["b"]
    for step in range(4):
        nni.report_intermediate_result(a * 10 + b + step / 10)
    nni.report_final_result({"default": a + b, "extra": a * b})
    """
)

CONFIG = textwrap.dedent(
    """
    experimentName: same_metrics
    searchSpace:
      a: {_type: choice, _value: [1, 2]}
      b: {_type: quniform, _value: [0, 1, 0.5]}
    trialCommand: python3 trial.py
    trialConcurrency: 2
    tuner: {name: GridSearch}
    # Never judges (start_step beyond the last step), so both sides run every step.
    assessor: {name: Medianstop, classArgs: {optimize_mode: maximize, start_step: 100}}
    trainingService: {platform: local}
    """
)


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True)


def _converted_sequences(storage: Path) -> dict[str, list]:
    sequences = {}
    for result_file in storage.glob("*/*/result.json"):
        rows = [json.loads(line) for line in result_file.read_text().splitlines() if line]
        params = rows[0]["config"]["nni_params"]
        values = []
        for row in rows:
            if row.get("final_result"):
                values.append({"default": row["default"], "extra": row["extra"]})
            else:
                values.append(row["default"])
        sequences[_key(params)] = values
    return sequences


def test_converted_trials_report_what_nni2ray_run_records(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(TRIAL)
    (exp / "config.yml").write_text(CONFIG)

    summary = run_folder(exp, tmp_path / "run")
    recorded = {_key(r.parameters): [m["value"] for m in r.metrics] for r in summary.records}
    assert len(recorded) == 6  # the whole grid, then the run ends by itself

    out = tmp_path / "converted"
    assert main(["convert", str(exp), "-o", str(out)]) == 0
    run = _python(
        "tune_experiment.py", "--storage-path", str(tmp_path / "tune"), cwd=out, timeout=400
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert _converted_sequences(tmp_path / "tune") == recorded
