"""`nni2ray run` with NNI's BOHB advisor: the bracket schedule, with configurations from
BOHB's model (nni2ray's under `native`, NNI's own CG_BOHB under `nni`)."""

from __future__ import annotations

import importlib.machinery
import json
from pathlib import Path

import pytest

from nni2ray.cli import main
from tests.ray.conftest import FIXTURES

# max_budget 3, eta 3: bracket s=1 (3 trials at budget 1, the best 1 at budget 3), then
# bracket s=0 (2 trials at budget 3); 18 trials = three times over.
BUDGETS = [1, 1, 1, 3, 3, 3] * 3


def _run(tmp_path: Path, backend: str, capsys: pytest.CaptureFixture[str]) -> tuple[dict, list]:
    out = tmp_path / "out"
    argv = ["run", str(FIXTURES / "bohb_advisor"), "--output", str(out), "--quiet"]
    code = main([*argv, "--algorithm-backend", backend, "--seed", "3"])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((out / "experiment.json").read_text())
    export = sorted(json.loads((out / "export.json").read_text()), key=lambda e: e["sequence"])
    return meta, export


def _check_schedule(meta: dict, export: list, generator: str) -> None:
    assert [e["parameter"]["TRIAL_BUDGET"] for e in export] == BUDGETS
    assert {e["status"] for e in export} == {"SUCCEEDED"}
    # The promoted trial (4th of each iteration) reruns one of the three before it.
    for start in (0, 6, 12):
        first_round = [{**e["parameter"], "TRIAL_BUDGET": 3} for e in export[start : start + 3]]
        assert export[start + 3]["parameter"] in first_round
    report = meta["bohbModel"]
    assert report["generator"] == generator
    # 15 new configurations (3 + 2 per iteration), each with its source.
    assert len(report["sources"]) == 15 and report["model"] + report["random"] == 15
    assert report["model"] > 0, report  # the model proposed some of them
    assert set(report["sources"].values()) <= {"model", "random"}


def test_bohb_native_model_supplies_configurations(
    tmp_path: Path, ray_session: None, capsys: pytest.CaptureFixture[str]
) -> None:
    meta, export = _run(tmp_path, "native", capsys)
    assert meta["plan"]["searcher"]["kwargs"]["model"] == "native"
    _check_schedule(meta, export, "native")
    # The first iteration has no model yet: its 5 new configurations are random.
    first = [meta["bohbModel"]["sources"][key] for key in ("1_0_0", "1_0_1", "1_0_2")]
    assert first == ["random"] * 3


@pytest.mark.skipif(
    any(importlib.machinery.PathFinder.find_spec(p) is None for p in ("nni", "ConfigSpace")),
    reason="NNI's BOHB model needs nni and ConfigSpace (pip install 'nni2ray[nni]' ConfigSpace)",
)
def test_bohb_nni_cg_bohb_supplies_configurations(
    tmp_path: Path, ray_session: None, capsys: pytest.CaptureFixture[str]
) -> None:
    meta, export = _run(tmp_path, "nni", capsys)
    assert meta["plan"]["searcher"]["kwargs"]["model"] == "nni"
    _check_schedule(meta, export, "nni")
