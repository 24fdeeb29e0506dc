"""``nni2ray run --from-nni``: the search starts from the trials NNI already finished."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from nni2ray.experiment import load_experiment
from nni2ray.runtime import RunOptions, run_experiment
from nni2ray.runtime.searchers._nni_search import NniSearch
from nni2ray.translate import translate
from tests.unit.test_nni_import import FakeTrial, build_nni_experiment

#: Eight points in all: NNI finished four (one of them with swapped parameters), left one
#: running; nni2ray must run exactly the other four, the running one among them.
SPACE = {"x": {"_type": "choice", "_value": [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75]}}
NNI_TRIALS = [
    FakeTrial("nniA0", 0, 0, final=0.05, used=1),
    FakeTrial("nniB1", 1, 1, final=0.15, used=0),
    FakeTrial("nniC2", 2, 2, final=0.25),
    FakeTrial("nniD3", 3, 3, status="FAILED"),
    FakeTrial("nniE4", 4, 4, status="RUNNING"),
]


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    nni = build_nni_experiment(tmp_path / "nni", NNI_TRIALS, exp_id="stall123", space=SPACE)
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(
        textwrap.dedent("""
        import nni
        nni.report_final_result(nni.get_next_parameter()["x"])
        """)
    )
    (exp / "config.yml").write_text(
        "searchSpace: " + json.dumps(SPACE) + "\n"
        "trialCommand: python3 trial.py\ntrialConcurrency: 2\nmaxTrialNumber: 8\n"
        "tuner: {name: Random, classArgs: {seed: 3}}\ntrainingService: {platform: local}\n"
    )
    return nni, exp


@pytest.mark.usefixtures("ray_session")
def test_from_nni_feeds_the_searcher_and_never_reruns_nni_trials(
    folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nni, exp = folders
    known: list[tuple[object, object]] = []
    replayed: list[object] = []
    original_known, original_replay = NniSearch.add_known_points, NniSearch.add_replay_points

    def spy_known(self: NniSearch, points: object) -> int:
        points = list(points)  # type: ignore[call-overload]
        known.extend(points)
        return original_known(self, points)

    def spy_replay(self: NniSearch, params: object) -> int:
        params = list(params)  # type: ignore[call-overload]
        replayed.extend(params)
        return original_replay(self, params)

    monkeypatch.setattr(NniSearch, "add_known_points", spy_known)
    monkeypatch.setattr(NniSearch, "add_replay_points", spy_replay)
    experiment = load_experiment(exp)
    summary = run_experiment(
        experiment,
        translate(experiment),
        RunOptions(output=tmp_path / "out", quiet=True, from_nni=nni),
    )
    # The imported points reached the searcher, with their final values.
    assert sorted(known, key=str) == sorted(
        [({"x": 0.15, "k": "b"}, 0.05), ({"x": 0.05, "k": "a"}, 0.15)]
        + [({"x": 0.25, "k": "c"}, 0.25), ({"x": 0.35, "k": "a"}, None)],
        key=str,
    )
    assert replayed == [{"x": 0.45, "k": "b"}]
    records = {r.trial_id: r for r in summary.records}
    assert len(records) == 8  # maxTrialNumber, imported trials included
    imported = {k: v for k, v in records.items() if k.startswith("nni")}
    assert sorted(imported) == ["nniA0", "nniB1", "nniC2", "nniD3"]
    assert imported["nniA0"].parameters == {"x": 0.15, "k": "b"}  # joined by parameterId
    new = [r for k, r in records.items() if not k.startswith("nni")]
    assert all(r.status == "SUCCEEDED" for r in new)
    # Every point of the space ran exactly once over NNI's run and ours.
    xs = [r.parameters["x"] for r in records.values()]
    assert sorted(xs) == SPACE["x"]["_value"]
    assert 0.45 in [r.parameters["x"] for r in new]  # NNI's running trial, run again
    assert min(r.sequence for r in new) == 5  # numbering goes on after NNI's
    assert summary.experiment_id == "stall123"
    exported = json.loads((tmp_path / "out" / "export.json").read_text())
    assert len(exported) == 8
    assert (tmp_path / "out" / "trials" / "nniA0" / "trial.json").exists()
