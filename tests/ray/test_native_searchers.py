"""Each Optuna stand-in runs a short experiment end to end (real Ray, real trial processes)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nni2ray.translate import SearcherKind
from tests.ray.conftest import run_folder

TRIAL = """\
import nni

params = nni.get_next_parameter()
score = -(params["x"] - 0.3) ** 2 + (1.0 if params["opt"]["_name"] == "b" else 0.0)
nni.report_final_result(score)
"""
SPACE = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "opt": {
        "_type": "choice",
        "_value": [
            {"_name": "a", "lr/x": {"_type": "loguniform", "_value": [1e-4, 1e-1]}},
            {"_name": "b", "n": {"_type": "randint", "_value": [1, 4]}},
        ],
    },
}


def _folder(tmp_path: Path, tuner: str) -> Path:
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "trial.py").write_text(TRIAL)
    config = {
        "searchSpace": SPACE,
        "trialCommand": "python3 trial.py",
        "trialConcurrency": 2,
        "maxTrialNumber": 4,
        "tuner": {"name": tuner, "classArgs": {"optimize_mode": "maximize", "seed": 5}},
        "trainingService": {"platform": "local"},
    }
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    return folder


@pytest.mark.parametrize(
    ("tuner", "kind"),
    [("TPE", SearcherKind.TPE), ("GP", SearcherKind.GP), ("Evolution", SearcherKind.EVOLUTION)],
)
def test_native_searcher_runs_an_experiment(
    tuner: str, kind: SearcherKind, tmp_path: Path, ray_session: None
) -> None:
    from nni2ray.experiment import load_experiment
    from nni2ray.translate import translate

    folder = _folder(tmp_path, tuner)
    assert translate(load_experiment(folder)).searcher.kind == kind
    summary = run_folder(folder, tmp_path / "out")
    assert [r.status for r in summary.records] == ["SUCCEEDED"] * 4
    for record in summary.records:
        params = record.parameters
        assert set(params) == {"x", "opt"} and 0 <= params["x"] <= 1
        assert params["opt"]["_name"] in ("a", "b")
    assert sorted(r.sequence for r in summary.records) == [0, 1, 2, 3]
