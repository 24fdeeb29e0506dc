"""NNI 3.0's own tuner classes under `--algorithm-backend nni` (real Ray, real trials).

These need `nni` importable in the driver (`pip install 'nni2ray[nni]'`, part of the test
extra); without it they are skipped with that reason.
"""

from __future__ import annotations

import importlib.machinery
import json
from pathlib import Path

import pytest
import yaml

from nni2ray.cli import main

pytestmark = pytest.mark.skipif(
    importlib.machinery.PathFinder.find_spec("nni") is None,
    reason="nni is not installed (pip install 'nni2ray[nni]')",
)

SPACE = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "opt": {"_type": "choice", "_value": ["sgd", "adam", "rmsprop"]},
}
TRIAL = """\
import nni

params = nni.get_next_parameter()
bonus = {"adam": 0.5, "rmsprop": 0.2, "2": 0.5}.get(str(params["opt"]), 0)
score = -(params["x"] - 0.3) ** 2 + bonus
nni.report_final_result(FINAL)
"""


#: GP and Metis (NNI's own) search numerical spaces only.
NUMERIC = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "uniform", "_value": [1e-4, 1e-1]},
    "opt": {"_type": "choice", "_value": [0, 1, 2]},
}


def _folder(
    tmp_path: Path,
    tuner: str,
    class_args: dict,
    *,
    no_default: bool = False,
    space: dict | None = None,
) -> Path:
    folder = tmp_path / "exp"
    folder.mkdir()
    final = '{"accuracy": score}' if no_default else "score"
    (folder / "trial.py").write_text(TRIAL.replace("FINAL", final))
    config = {
        "searchSpace": space or SPACE,
        "trialCommand": "python3 trial.py",
        "trialConcurrency": 1,  # one at a time: NNI's call sequence is fully determined
        "maxTrialNumber": 5,
        "tuner": {"name": tuner, "classArgs": class_args},
        "trainingService": {"platform": "local"},
    }
    (folder / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def _export(out: Path) -> list[dict]:
    return sorted(json.loads((out / "export.json").read_text()), key=lambda e: e["sequence"])


def _replay(tuner: object, export: list[dict]) -> list[dict]:
    """NNI's own class driven as NNI's dispatcher drives it, fed the run's results."""
    tuner.update_search_space(SPACE)  # type: ignore[attr-defined]
    proposed = []
    for parameter_id, entry in enumerate(export):
        params = tuner.generate_parameters(parameter_id)  # type: ignore[attr-defined]
        proposed.append(params)
        value = entry["value"]
        tuner.receive_trial_result(parameter_id, params, value)  # type: ignore[attr-defined]
        tuner.trial_end(parameter_id, True)  # type: ignore[attr-defined]
    return proposed


@pytest.mark.parametrize("tuner", ["TPE", "Random", "Evolution"])
def test_nni_backend_proposes_what_nni_own_class_proposes(
    tuner: str, tmp_path: Path, ray_session: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Through nni2ray's importer: an earlier custom-tuner test leaves the stand-in `nni`
    # in sys.modules, which a plain import here would get.
    from nni2ray.runtime._user_algorithms import import_nni_class

    EvolutionTuner = import_nni_class("nni.algorithms.hpo.evolution_tuner.EvolutionTuner")
    RandomTuner = import_nni_class("nni.algorithms.hpo.random_tuner.RandomTuner")
    TpeTuner = import_nni_class("nni.algorithms.hpo.tpe_tuner.TpeTuner")

    class_args: dict = {"optimize_mode": "maximize"}
    if tuner == "Evolution":
        class_args["population_size"] = 3
    else:
        class_args["seed"] = 7
        if tuner == "TPE":
            class_args["tpe_args"] = {"n_startup_jobs": 2}  # the model proposes trials 3-5
    folder = _folder(tmp_path, tuner, class_args)
    out = tmp_path / "out"
    code = main(["run", str(folder), "--output", str(out), "--quiet", "--algorithm-backend", "nni"])
    assert code == 0, capsys.readouterr().err
    export = _export(out)
    assert [e["status"] for e in export] == ["SUCCEEDED"] * 5
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["plan"]["searcher"]["kwargs"]["nni_builtin"] == tuner
    if tuner == "Evolution":
        # EvolutionTuner seeds NumPy's and Python's global RNGs from nothing: its stream
        # cannot be replayed, so the check is that NNI's class ran (its space, its ids).
        assert meta["plan"]["searcher"]["kwargs"]["class_name"].endswith("EvolutionTuner")
        for entry in export:
            assert set(entry["parameter"]) == {"x", "lr", "opt"}
        assert EvolutionTuner is not None
        return
    own = TpeTuner(**class_args) if tuner == "TPE" else RandomTuner(**class_args)
    # Identical proposals for the same seed: the run used NNI's own class, exactly.
    assert [e["parameter"] for e in export] == _replay(own, export)


def test_nni_tpe_raising_in_receive_trial_result_does_not_stop_the_run(
    tmp_path: Path, ray_session: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Trials report a dict final result without a "default" key: NNI's TpeTuner raises in
    # receive_trial_result (NNI's dispatcher thread dies there and the experiment stalls).
    folder = _folder(tmp_path, "TPE", {"optimize_mode": "maximize", "seed": 3}, no_default=True)
    out = tmp_path / "out"
    code = main(["run", str(folder), "--output", str(out), "--quiet", "--algorithm-backend", "nni"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert len(_export(out)) == 5  # every trial ran
    exceptions = out / "algorithm_exceptions.txt"
    warnings = [line for line in err.splitlines() if "the run goes on" in line]
    assert len(warnings) == 1, err
    assert warnings[0].startswith(
        "nni2ray: warning: NNI's TPE tuner TpeTuner.receive_trial_result raised RuntimeError: "
    )
    assert warnings[0].endswith(f"the run goes on (this traceback and any later one: {exceptions})")
    text = exceptions.read_text()
    assert text.count("Traceback (most recent call last)") == 5
    assert "tpe_tuner.py" in text and "extract_scalar_reward" in text
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["status"] == "DONE" and meta["algorithmExceptions"]["count"] == 5


@pytest.mark.parametrize(
    ("tuner", "class_args"),
    [
        # Past their cold start (test_every_builtin_tuner.py runs every name within it), with
        # fewer optimiser starting points than NNI's defaults, for time.
        (
            "GP",
            {
                "optimize_mode": "maximize",
                "cold_start_num": 2,
                "selection_num_warm_up": 1000,
                "selection_num_starting_points": 3,
            },
        ),
        (
            "Metis",
            {
                "optimize_mode": "maximize",
                "cold_start_num": 2,
                "selection_num_starting_points": 3,
                "no_resampling": True,
                "no_candidates": True,
            },
        ),
    ],
)
def test_nni_gp_and_metis_run_past_their_cold_start(
    tuner: str,
    class_args: dict,
    tmp_path: Path,
    ray_session: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # NNI 3.0's own classes call SciPy as SciPy < 1.9 took it; nni2ray adapts the call
    # (without it generate_parameters raises "'x0' must only have one dimension" here).
    folder = _folder(tmp_path, tuner, class_args, space=NUMERIC)
    out = tmp_path / "out"
    code = main(["run", str(folder), "--output", str(out), "--quiet", "--algorithm-backend", "nni"])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["plan"]["searcher"]["kwargs"]["nni_builtin"] == tuner
    assert not (out / "algorithm_error.txt").exists()
    export = _export(out)
    assert len(export) == 5 and {e["status"] for e in export} == {"SUCCEEDED"}
    for entry in export:
        assert {"x", "lr", "opt"} <= set(entry["parameter"])
    # Past the cold start the model proposed: no two trials share their parameters.
    assert len({json.dumps(e["parameter"], sort_keys=True) for e in export}) == 5


def test_nni_batch_tuner_runs_its_list_in_order(
    tmp_path: Path, ray_session: None, capsys: pytest.CaptureFixture[str]
) -> None:
    combos = [{"x": x / 10, "lr": 0.01, "opt": "adam"} for x in (5, 1, 3, 2)]
    space = {"combine_params": {"_type": "choice", "_value": combos}}
    folder = _folder(tmp_path, "Batch", {}, space=space)
    out = tmp_path / "out"
    code = main(["run", str(folder), "--output", str(out), "--quiet", "--algorithm-backend", "nni"])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["plan"]["searcher"]["kwargs"]["class_name"].endswith("BatchTuner")
    # NNI's BatchTuner hands out its list in order, then NoMoreTrialError ends the run
    # before maxTrialNumber (5).
    assert [e["parameter"] for e in _export(out)] == combos
