"""Resume bookkeeping without Ray: reading a stopped run, warm-starting searchers, leftovers."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from nni2ray.experiment import nni_space
from nni2ray.results import TrialRecord, is_finished, latest_output, load_prior
from nni2ray.runtime.searchers._nni_search import GridSearcher, NniSearch, RandomSampler
from nni2ray.translate import SchedulerCall, SchedulerKind
from nni2ray.trials import end_leftover_trials, trial_processes


def _trial(out: Path, trial_id: str, sequence: int, status: str | None, reason: str | None = None):
    folder = out / "trials" / trial_id
    folder.mkdir(parents=True)
    params = {"x": sequence}
    cfg = {"parameter_id": sequence, "parameters": params, "parameter_index": 0}
    (folder / "parameter.cfg").write_text(json.dumps(cfg))
    if status is not None:
        record = TrialRecord(trial_id, sequence, params, status=status, end_time=time.time())
        record.end_reason = reason
        record.metrics = [{"type": "FINAL", "sequence": 0, "value": sequence, "time": 1.0}]
        (folder / "trial.json").write_text(json.dumps(record.to_record_json()))


@pytest.fixture
def stopped_run(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    (out / "tune").mkdir(parents=True)
    (out / "experiment.json").write_text(json.dumps({"experimentId": "abc", "status": "RUNNING"}))
    _trial(out, "ok", 0, "SUCCEEDED")
    _trial(out, "failed", 1, "FAILED")
    _trial(out, "assessed", 2, "EARLY_STOPPED", "assessor")
    _trial(out, "ctrl_c", 3, "USER_CANCELED", "interrupted")
    _trial(out, "deadline", 4, "EARLY_STOPPED", "maxExperimentDuration")
    _trial(out, "killed", 6, None)  # no trial.json: the driver died while it ran
    (out / "trials" / "half").mkdir()
    (out / "trials" / "half" / "trial.json").write_text('{"trialJobId": "half", "seq')
    return out


def test_load_prior_keeps_finished_and_replays_the_rest(stopped_run: Path) -> None:
    prior = load_prior(stopped_run)
    assert sorted(r.trial_id for r in prior.records) == ["assessed", "failed", "ok"]
    assert sorted(p["x"] for p in prior.replay) == [3, 4, 6]
    assert prior.next_sequence == 7
    assert prior.experiment_id == "abc"
    assert prior.tune_name == "tune-2"
    assert sorted(p.name for p in (stopped_run / "trials").iterdir()) == [
        "assessed",
        "failed",
        "ok",
    ]
    assert sorted(p.name for p in (stopped_run / "abandoned").iterdir()) == [
        "ctrl_c",
        "deadline",
        "half",
        "killed",
    ]
    ok = next(r for r in prior.records if r.trial_id == "ok")
    assert ok.final == 0 and ok.status == "SUCCEEDED"
    # A second resume finds the same, numbering goes on after the abandoned trials too.
    again = load_prior(stopped_run)
    assert len(again.records) == 3 and again.next_sequence == 7 and not again.replay


@pytest.mark.parametrize(
    ("status", "reason", "finished"),
    [
        ("SUCCEEDED", None, True),
        ("FAILED", "exit 1", True),
        ("EARLY_STOPPED", "assessor", True),
        ("EARLY_STOPPED", "maxTrialDuration", True),
        ("EARLY_STOPPED", "maxExperimentDuration", False),
        ("USER_CANCELED", "interrupted", False),
        ("RUNNING", None, False),
        ("USER_CANCELED", None, False),
        ("SYS_CANCELED", None, False),
    ],
)
def test_is_finished(status: str, reason: str | None, finished: bool) -> None:
    assert is_finished(status, reason) is finished


def test_latest_output_picks_the_newest_run_of_the_experiment(tmp_path: Path) -> None:
    base = tmp_path / "nni2ray-results"
    for name, age in [("demo-20260101-000000", 30), ("demo-20260102-000000", 10)]:
        (base / name).mkdir(parents=True)
        (base / name / "experiment.json").write_text("{}")
        os.utime(base / name, (time.time() - age, time.time() - age))
    (base / "demo_other-20260103-000000").mkdir()  # another experiment
    (base / "demo-20260104-000000").mkdir()  # no experiment.json: not a run
    assert latest_output("demo", base).name == "demo-20260102-000000"


def test_record_round_trips_through_trial_json() -> None:
    record = TrialRecord("t1", 4, {"x": 1.5}, status="SUCCEEDED", end_time=2.0, retries=1)
    record.metrics = [
        {"type": "PERIODICAL", "sequence": 0, "value": 0.1, "time": 1.0},
        {"type": "FINAL", "sequence": 0, "value": {"default": 0.2}, "time": 1.5},
    ]
    back = TrialRecord.from_json(json.loads(json.dumps(record.to_record_json())))
    assert back == record


FINITE = {"x": {"_type": "choice", "_value": list(range(6))}}


def _drain(search: NniSearch) -> list[Any]:
    points = []
    for i in range(20):
        config = search.suggest(f"t{i}")
        if config == "FINISHED":
            break
        points.append(config)
        search.on_trial_complete(f"t{i}", {"default": 1.0, "nni_type": "FINAL"})
    return points


def test_known_points_are_never_suggested_in_a_finite_space() -> None:
    from nni2ray.experiment._space import parse_search_space

    model = parse_search_space(FINITE, file="s.json")
    search = NniSearch(RandomSampler(model, FINITE, 0), FINITE, "default", "max")
    search.add_known_points([({"x": 1}, 0.5), ({"x": 4, "TRIAL_BUDGET": 9}, None)])
    xs = [nni_space.decode(FINITE, {"x": c["x"]})["x"] for c in _drain(search)]
    assert sorted(xs) == [0, 2, 3, 5]


def test_grid_resume_replays_interrupted_points_first_and_skips_finished() -> None:
    search = NniSearch(GridSearcher(FINITE), FINITE, "default", "max")
    search.add_known_points([({"x": 0}, 1.0), ({"x": 2}, 1.0)])
    search.add_replay_points([{"x": 5}])
    search.start_sequence_at(10)
    points = _drain(search)
    assert [p["x"] for p in points] == [5, 1, 3, 4]
    assert [p["__nni_sequence__"] for p in points] == [10, 11, 12, 13]


def test_seeded_random_resume_continues_the_sequence() -> None:
    from nni2ray.experiment._space import parse_search_space

    space = {"lr": {"_type": "uniform", "_value": [0, 1]}}
    model = parse_search_space(space, file="s.json")
    whole = NniSearch(RandomSampler(model, space, 7), space, "default", "max")
    expected = [whole.suggest(f"a{i}")["lr"] for i in range(5)]
    resumed = NniSearch(RandomSampler(model, space, 7), space, "default", "max")
    resumed.start_sequence_at(3, suggested_before=3)
    assert [resumed.suggest(f"b{i}")["lr"] for i in range(2)] == expected[3:]


@pytest.mark.parametrize("tuner", ["TPE", "Anneal"])
def test_model_based_stand_ins_learn_the_known_points(tuner: str) -> None:
    """A resumed TPE (Optuna) or Anneal (hyperopt) starts from the earlier trials' results,
    not from scratch."""
    from nni2ray.runtime.searchers import (
        AnnealSearcher,
        OptunaLatentSearch,
        hyperopt_searcher,
        optuna_searcher,
    )
    from nni2ray.translate import SearcherCall, SearcherKind, TunePlan

    space = {
        "lr": {"_type": "uniform", "_value": [0, 1]},
        "k": {"_type": "choice", "_value": ["a", "b"]},
    }
    if tuner == "TPE":
        call = SearcherCall(SearcherKind.TPE, "TPE", {"seed": 3, "n_startup_trials": 20})
    else:
        pytest.importorskip("hyperopt")
        call = SearcherCall(
            SearcherKind.HYPEROPT, tuner, {"algo": "anneal", "random_state_seed": 1}
        )
    plan = TunePlan("x", "max", space, call, SchedulerCall(SchedulerKind.FIFO))
    inner = optuna_searcher(plan) if tuner == "TPE" else hyperopt_searcher(plan)
    assert isinstance(inner, OptunaLatentSearch if tuner == "TPE" else AnnealSearcher)
    search = NniSearch(inner, space, "default", "max")
    rng = random.Random(0)
    points = []
    for _ in range(30):
        params = {"lr": rng.random(), "k": rng.choice("ab")}
        points.append((params, -((params["lr"] - 0.8) ** 2) + (params["k"] == "b")))
    assert search.add_known_points(points + [({"other": 1}, 0.3)]) == 30
    # TPE is past n_startup_trials only because of the known points; Anneal anneals around
    # the best of them: both propose near the optimum.
    suggested = [search.suggest(f"n{i}") for i in range(10)]
    lrs = sorted(config["lr"] for config in suggested)
    assert abs(lrs[5] - 0.8) < 0.15, lrs
    assert sum(config["k"] == "b" for config in suggested) >= 7


def test_leftover_trial_processes_are_ended(tmp_path: Path) -> None:
    out = tmp_path / "run"
    trial_dir = out / "trials" / "t1"
    trial_dir.mkdir(parents=True)
    env = dict(os.environ, NNI_SYS_DIR=str(trial_dir))
    script = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True)
    prefix = str(out.resolve() / "trials") + os.sep
    deadline = time.monotonic() + 10
    while len(trial_processes(prefix)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(trial_processes(prefix)) == 2
    assert end_leftover_trials(out, "other-trial") == 0  # another trial's folder: untouched
    assert end_leftover_trials(out, grace_s=2) == 2
    proc.wait(timeout=5)
    assert trial_processes(prefix) == []


def test_descendants_are_every_generation_below_the_roots() -> None:
    from nni2ray.trials import descendants

    script = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', "
        '\'import subprocess, time; subprocess.Popen(["sleep", "60"]); time.sleep(60)\']); '
        "time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 10
        while len(descendants({proc.pid})) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        found = descendants({proc.pid})
        assert len(found) == 2 and proc.pid not in found
        assert os.getpid() not in found and descendants({2**22 + 7}) == set()
    finally:
        for pid in descendants({proc.pid}):
            os.kill(pid, 9)
        proc.kill()
        proc.wait()


def test_a_kept_record_without_end_time_is_not_rewritten(tmp_path: Path) -> None:
    from nni2ray.runtime._callbacks import Recorder, RunStopper
    from nni2ray.trials import TrialContext

    context = TrialContext("exp", "true", None, str(tmp_path), None)
    stopper = RunStopper(None)
    recorder = Recorder(context, stopper, "max", quiet=True)
    kept = TrialRecord("nni_1", 0, {"x": 1}, status="SUCCEEDED", end_time=None)
    running = TrialRecord("now_1", 1, {"x": 2})
    recorder.records.update({"nni_1": kept, "now_1": running})
    stopper.interrupted = True
    recorder.finish_open()
    assert (kept.status, kept.end_time) == ("SUCCEEDED", None)
    assert (running.status, running.end_reason) == ("USER_CANCELED", "interrupted")


def test_a_trial_stopped_before_the_driver_heard_of_it_keeps_a_record(tmp_path: Path) -> None:
    """The trial's process starts in its actor's set-up; a stop that comes before the
    driver's on_trial_start still records the trial whose folder exists."""
    from types import SimpleNamespace

    from nni2ray.runtime._callbacks import Recorder, RunStopper
    from nni2ray.trials import TrialContext

    space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    context = TrialContext("exp", "true", None, str(tmp_path), space)
    stopper = RunStopper(None)
    recorder = Recorder(context, stopper, "max", quiet=True)
    started = SimpleNamespace(trial_id="a_1", config={"x": 0.25})
    unheard = SimpleNamespace(trial_id="b_2", config={"x": 0.5})
    pending = SimpleNamespace(trial_id="c_3", config={"x": 0.75})
    trials = [started, unheard, pending]
    recorder.on_step_begin(0, trials)
    recorder.on_trial_start(0, trials, started)
    (tmp_path / "trials" / "b_2").mkdir()  # its actor's set-up ran: the trial started
    stopper.interrupted = True
    recorder.finish_open()
    assert sorted(recorder.records) == ["a_1", "b_2"]  # the pending trial never ran
    record = recorder.records["b_2"]
    assert (record.status, record.end_reason, record.parameters) == (
        "USER_CANCELED",
        "interrupted",
        {"x": 0.5},
    )


def test_resume_refuses_another_experiments_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nni2ray.cli import main

    output = tmp_path / "out"
    (output / "trials").mkdir(parents=True)
    meta = {"experimentId": "abc", "config": "/elsewhere/config.yml", "experimentName": "other"}
    (output / "experiment.json").write_text(json.dumps(meta))
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "experiments" / "all_types"
    code = main(["run", str(fixture), "--output", str(output), "--resume", "--quiet"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        f"nni2ray: error: {output}: this folder holds a run of another experiment "
        "(/elsewhere/config.yml, 'other'); pass that experiment's folder, or choose another "
        "--output without --resume"
    )
    assert json.loads((output / "experiment.json").read_text()) == meta  # untouched
