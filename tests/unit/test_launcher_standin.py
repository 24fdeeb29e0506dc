"""The stand-in ``nni.experiment`` (config classes, NNI's attribute errors, the JSON it hands
to nni2ray), loading that JSON, the run-folder queries, and the launcher's argument split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nni2ray.cli import split_launcher_args
from nni2ray.experiment import load_experiment_dict
from nni2ray.trials._shim.nni import experiment as api
from nni2ray.trials._shim.nni.experiment import config as cfg


def test_platform_string_gives_placeholders_that_take_snake_case_fields() -> None:
    exp = api.Experiment("local")
    assert exp.config is not None
    exp.config.trial_command = "python3 train.py"
    exp.config.trial_concurrency = 2
    exp.config.search_space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    exp.config.tuner.name = "TPE"
    exp.config.tuner.class_args["optimize_mode"] = "maximize"
    exp.config.training_service.use_active_gpu = False
    data = exp.config.json()
    assert data["trialCommand"] == "python3 train.py"
    assert data["tuner"] == {"name": "TPE", "classArgs": {"optimize_mode": "maximize"}}
    assert "assessor" not in data and "advisor" not in data  # unnamed placeholders dropped
    assert data["trainingService"]["platform"] == "local"
    assert data["trainingService"]["useActiveGpu"] is False
    assert data["trialCodeDirectory"] == "."


@pytest.mark.parametrize(
    ("make", "field", "cls"),
    [
        (lambda: api.ExperimentConfig("local"), "trial_comand", "ExperimentConfig"),
        (lambda: api.ExperimentConfig("local").training_service, "gpu_index", "LocalConfig"),
        (lambda: api.AlgorithmConfig(name="TPE"), "classArgs", "AlgorithmConfig"),
    ],
)
def test_unknown_attribute_raises_nnis_attribute_error(make, field: str, cls: str) -> None:  # type: ignore[no-untyped-def]
    obj = make()
    with pytest.raises(AttributeError, match=f"^{cls} does not have field {field}$"):
        setattr(obj, field, 1)


def test_keyword_fields_accept_camel_case_and_refuse_unknown_ones() -> None:
    config = api.ExperimentConfig(
        trialCommand="python3 a.py",
        trial_concurrency=1,
        tuner={"name": "Random", "classArgs": {"seed": 1}},
        training_service={"platform": "local"},
    )
    assert config.trial_command == "python3 a.py"
    assert isinstance(config.tuner, cfg.AlgorithmConfig.__mro__[1])
    assert isinstance(config.training_service, api.LocalConfig)
    with pytest.raises(AttributeError, match="ExperimentConfig does not have field\\(s\\) a, b"):
        api.ExperimentConfig(b=1, a=2)


def test_remote_config_keeps_its_machines() -> None:
    service = api.RemoteConfig(machine_list=[{"host": "10.0.0.2", "user": "me"}])
    data = api.ExperimentConfig(training_service=service).json()["trainingService"]
    assert data["platform"] == "remote"
    assert data["machineList"][0]["host"] == "10.0.0.2"


def test_nni_2_0_shape_takes_a_tuner_instance() -> None:
    class TpeTuner:
        optimize_mode = "minimize"

    exp = api.Experiment(TpeTuner(), "local")
    tuner = api._tuner_config(exp._tuner)
    assert (tuner.name, tuner.class_args) == ("TPE", {"optimize_mode": "minimize"})


def test_experiment_id_is_checked_like_nni() -> None:
    with pytest.raises(ValueError, match="Invalid experiment ID: bad id"):
        api.Experiment("local", id="bad id")
    assert len(api.Experiment("local").id) == 8


def test_loaded_paths_are_relative_to_the_working_directory_of_start(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "space.json").write_text('{"x": {"_type": "choice", "_value": [1, 2]}}')
    config = api.ExperimentConfig(
        "local",
        trial_command="python3 train.py",
        trial_code_directory="code",
        search_space_file="code/space.json",
        trial_concurrency=1,
    )
    config.tuner.name = "Random"
    script = tmp_path / "launcher.py"
    script.write_text("")
    exp = load_experiment_dict(config.json(), tmp_path, script)
    assert exp.trial.code_directory == (tmp_path / "code").resolve()
    assert exp.search_space_file == (tmp_path / "code" / "space.json").resolve()
    assert exp.config_file == script.resolve()
    assert exp.search_space is not None and exp.search_space.names == ("x",)


def test_queries_read_the_run_folder(tmp_path: Path) -> None:
    trials = tmp_path / "trials"
    for trial_id, seq, status, value in (("b", 1, "SUCCEEDED", 0.5), ("a", 0, "FAILED", None)):
        (trials / trial_id).mkdir(parents=True)
        record = {
            "trialJobId": trial_id,
            "sequence": seq,
            "status": status,
            "parameter": {"x": seq},
            "value": value,
            "startTime": 1.0,
        }
        (trials / trial_id / "trial.json").write_text(json.dumps(record))
        row = {"type": "FINAL", "sequence": 0, "value": value, "time": 2.0}
        (trials / trial_id / "metrics.jsonl").write_text(json.dumps(row) + "\n")
    (trials / "c").mkdir()
    (trials / "c" / "parameter.cfg").write_text(json.dumps({"parameter_id": 2, "parameters": {}}))
    exp = api.Experiment("local")
    exp._output, exp._started = tmp_path, True
    assert exp.export_data() == [api.TrialResult({"x": 1}, 0.5, "b")]
    jobs = exp.list_trial_jobs()
    assert [(j.trialJobId, j.status) for j in jobs] == [
        ("a", "FAILED"),
        ("b", "SUCCEEDED"),
        ("c", "RUNNING"),
    ]
    metrics = exp.get_job_metrics("b")
    assert metrics["b"][0].data == 0.5 and metrics["b"][0].type == "FINAL"
    assert exp.get_experiment_profile()["nextSequenceId"] == 3
    assert {"trialJobStatus": "RUNNING", "trialJobNumber": 1} in exp.get_job_statistics()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "x/launcher.py", "--trials", "3"], (["run", "x/launcher.py"], ["--trials", "3"])),
        (
            ["run", "--output", "o.py", "--quiet", "l.py", "-v"],
            (["run", "--output", "o.py", "--quiet", "l.py"], ["-v"]),
        ),
        (["run", "folder", "--max-trials", "3"], (["run", "folder", "--max-trials", "3"], [])),
        (["convert", "l.py", "-o", "x"], (["convert", "l.py", "-o", "x"], [])),
    ],
)
def test_what_follows_the_launcher_is_its_own(argv: list[str], expected: object) -> None:
    assert split_launcher_args(argv) == expected
