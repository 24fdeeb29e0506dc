"""Large but legitimate inputs stay fast: a 10,000-key search space, exports of wide runs."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from nni2ray.results import TrialRecord, write_exports
from tests.process.test_hostile_limits import HEAD, nni2ray

SPECS = [
    {"_type": "uniform", "_value": [0, 1]},
    {"_type": "choice", "_value": [1, 2, "a"]},
    {"_type": "qloguniform", "_value": [1, 100, 1]},
]


def test_a_10000_key_search_space_checks_in_seconds(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "config.yml").write_text(HEAD)
    space = {f"p{i}": SPECS[i % 3] for i in range(10_000)}
    (exp / "space.json").write_text(json.dumps(space, indent=2))
    (exp / "trial.py").write_text("print(1)\n")
    for args in (["check"], ["check", "--json"]):
        result = nni2ray(*args, str(exp), cwd=tmp_path)
        assert result.code == 0, result.err
        assert result.seconds < 20, result.seconds  # about 3 s on one free core
    assert len(json.loads(result.out)["search_space"]["parameters"]) == 10_000


def test_exports_are_linear_in_trials_times_parameters(tmp_path: Path) -> None:
    # 100 trials x 10,000 parameters: the old list-membership column merge needed 5e9
    # comparisons (minutes); a dict as an ordered set makes it 1e6 steps.
    final = [{"type": "FINAL", "sequence": 0, "value": 0.5, "time": 1.0}]
    records = [
        TrialRecord(f"t{i}", i, {f"p{j}": j for j in range(10_000)}, "SUCCEEDED", metrics=final)
        for i in range(100)
    ]
    records[7].parameters = {"late": 1, **records[7].parameters}
    start = time.monotonic()
    write_exports(tmp_path, records)
    assert time.monotonic() - start < 30
    with open(tmp_path / "export.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert header[:5] == ["trialJobId", "sequence", "status", "p0", "p1"]
    assert header[-2:] == ["late", "reward"] and len(header) == 3 + 10_001 + 1
