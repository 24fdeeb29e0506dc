"""Every reported value reaches export.json and the per-trial records, in order."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest

from tests.ray.conftest import run_folder

pytestmark = pytest.mark.usefixtures("ray_session")

TRIAL = textwrap.dedent(
    """
    import nni

    params = nni.get_next_parameter()
    for step in range(1, 11):
        value = round(step / 10, 1)
        if params["shape"] == "dict":
            nni.report_intermediate_result({"default": value, "loss": 1 - value})
        else:
            nni.report_intermediate_result(value)
    if params["shape"] == "dict":
        nni.report_final_result({"default": 1.0, "loss": 0.0})
    else:
        nni.report_final_result(1.0)
    """
)


def _experiment(folder: Path) -> Path:
    folder.mkdir()
    (folder / "trial.py").write_text(TRIAL)
    (folder / "config.yml").write_text(
        textwrap.dedent(
            """
            searchSpace:
              shape: {_type: choice, _value: [number, dict]}
            trialCommand: python3 trial.py
            trialConcurrency: 2
            tuner: {name: GridSearch}
            trainingService: {platform: local}
            """
        )
    )
    return folder


def test_reported_values_reach_export_in_order(tmp_path: Path) -> None:
    # GridSearch over a finite space ends the run by itself (NNI would hang here).
    # No early stopping, so that every value is reported.
    summary = run_folder(_experiment(tmp_path / "exp"), tmp_path / "out", scheduler="none")
    export = {
        e["parameter"]["shape"]: e
        for e in json.loads((tmp_path / "out" / "export.json").read_text())
    }
    values = [round(step / 10, 1) for step in range(1, 11)]
    assert export["number"]["intermediate"] == values + [1.0]
    assert export["number"]["value"] == 1.0
    assert export["number"]["status"] == "SUCCEEDED"
    dicts = [{"default": v, "loss": 1 - v} for v in values] + [{"default": 1.0, "loss": 0.0}]
    assert export["dict"]["intermediate"] == dicts
    assert export["dict"]["value"] == {"default": 1.0, "loss": 0.0}
    assert len(summary.records) == 2

    rows = list(csv.DictReader((tmp_path / "out" / "export.csv").open()))
    assert {r["shape"] for r in rows} == {"number", "dict"}
    assert {r["status"] for r in rows} == {"SUCCEEDED"}
    dict_row = next(r for r in rows if r["shape"] == "dict")
    assert float(dict_row["default"]) == 1.0 and float(dict_row["loss"]) == 0.0
    number_row = next(r for r in rows if r["shape"] == "number")
    assert float(number_row["reward"]) == 1.0

    # Tune's own results are kept for Tune's analysis tools, one row per reported metric
    # (no heartbeat rows); TensorBoard files come from nni2ray (RUN/tensorboard), not Tune.
    tune_dir = tmp_path / "out" / "tune"
    assert not list(tune_dir.glob("*/events.out.tfevents.*"))
    for result_file in tune_dir.glob("*/result.json"):
        rows = [json.loads(line) for line in result_file.read_text().splitlines()]
        assert [row["nni_type"] for row in rows] == ["PERIODICAL"] * 10 + ["FINAL"]
    # A trial has nothing for Tune to save: no checkpoint at its end (a round trip and a
    # folder per trial in a 10,000-trial run).
    assert list(tune_dir.glob("*/result.json"))
    assert not list(tune_dir.glob("*/checkpoint_*"))
