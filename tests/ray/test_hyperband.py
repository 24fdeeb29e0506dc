"""`nni2ray run` with NNI's Hyperband advisor: the exact TRIAL_BUDGET schedule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ray.conftest import FIXTURES, run_folder

pytestmark = pytest.mark.usefixtures("ray_session")


def _without_budget(entry: dict) -> dict:
    return {k: v for k, v in entry["parameter"].items() if k != "TRIAL_BUDGET"}


def _best(entries: list[dict], count: int) -> list[dict]:
    ranked = sorted(entries, key=lambda e: e["value"], reverse=True)  # optimize_mode maximize
    return [_without_budget(e) for e in ranked[:count]]


def test_budgets_follow_the_bracket_schedule_and_promote_the_best(tmp_path: Path) -> None:
    # R=9, eta=3, exec_mode serial; maxTrialNumber 19 = bracket s=2 (9x1, 3x3, 1x9) and
    # bracket s=1 (5x3, 1x9).
    summary = run_folder(FIXTURES / "hyperband_advisor", tmp_path / "out")
    export = json.loads((tmp_path / "out" / "export.json").read_text())
    export.sort(key=lambda e: e["sequence"])
    assert [e["sequence"] for e in export] == list(range(19))
    budgets = [e["parameter"]["TRIAL_BUDGET"] for e in export]
    assert budgets == [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9]
    assert all(r.status == "SUCCEEDED" for r in summary.records)
    # Each trial trained for its budget: one intermediate result per epoch, then the final.
    assert all(len(e["intermediate"]) == e["parameter"]["TRIAL_BUDGET"] + 1 for e in export)
    # Promotions are new trials with the hyperparameters of the previous round's best.
    rounds = [export[0:9], export[9:12], export[12:13], export[13:18], export[18:19]]
    assert [_without_budget(e) for e in rounds[1]] == _best(rounds[0], 3)
    assert [_without_budget(e) for e in rounds[2]] == _best(rounds[1], 1)
    assert [_without_budget(e) for e in rounds[4]] == _best(rounds[3], 1)
    new_configs = {json.dumps(_without_budget(e), sort_keys=True) for e in rounds[3]}
    assert len(new_configs) == 5  # bracket s=1 samples 5 new configurations
