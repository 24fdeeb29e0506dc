"""TensorBoard files written by nni2ray, read back with TensorBoard's own event reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nni2ray.cli import main
from nni2ray.view import load_run, write_tensorboard
from tests.unit.test_nni_import import TRIALS, build_nni_experiment
from tests.unit.test_view_list_show import record, write_run

pytest.importorskip("tensorboard", reason="the tensorboard package is not installed")

INTERNAL = ("__nni_sequence__", "nni_sequence", "done", "nni_exit_code", "nni_type")


def read_tensorboard(logdir: Path) -> dict[str, dict[str, Any]]:
    """Per trial folder: its HParams start (values), end status, and scalars by tag."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    trials: dict[str, dict[str, Any]] = {}
    for folder in sorted(p for p in logdir.iterdir() if p.is_dir()):
        acc = EventAccumulator(str(folder))
        acc.Reload()
        content = acc.PluginTagToContent("hparams")
        start = plugin_data_pb2.HParamsPluginData.FromString(
            content["_hparams_/session_start_info"]
        ).session_start_info
        hparams = {}
        for name, value in start.hparams.items():
            kind = value.WhichOneof("kind")
            hparams[name] = getattr(value, kind)
        end = None
        if "_hparams_/session_end_info" in content:
            info = plugin_data_pb2.HParamsPluginData.FromString(
                content["_hparams_/session_end_info"]
            ).session_end_info
            end = api_pb2.Status.Name(info.status)
        scalars = {
            tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]
        }
        trials[folder.name] = {"hparams": hparams, "status": end, "scalars": scalars}
    return trials


def read_experiment(logdir: Path) -> Any:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    acc = EventAccumulator(str(logdir))
    acc.Reload()
    content = acc.PluginTagToContent("hparams")["_hparams_/experiment"]
    return plugin_data_pb2.HParamsPluginData.FromString(content).experiment


def test_trials_show_what_they_received_and_how_they_ended(tmp_path: Path) -> None:
    records = [
        record(
            "t1",
            0,
            "SUCCEEDED",
            {"default": 0.9, "loss": 0.1},
            x=3,
            opt={"_name": "adam", "lr": 0.01},
        ),
        record("t2", 1, "FAILED", None, x=2, opt={"_name": "none"}),
        record("t3", 2, "EARLY_STOPPED", None, x=1, opt={"_name": "sgd", "lr": 0.1, "m": 0.5}),
    ]
    records[0].metrics.insert(1, {"type": "PERIODICAL", "sequence": 1, "value": 0.4, "time": 1.0})
    run = write_run(tmp_path / "run", records)
    logdir = write_tensorboard(load_run(run))
    trials = read_tensorboard(logdir)
    assert trials["t1"]["hparams"] == {
        "x": 3.0,
        "opt": "adam",
        "opt/lr": 0.01,
        "status": "SUCCEEDED",
    }
    assert trials["t2"]["hparams"] == {"x": 2.0, "opt": "none", "status": "FAILED"}
    assert trials["t3"]["hparams"]["status"] == "EARLY_STOPPED"
    assert {k: t["status"] for k, t in trials.items()} == {
        "t1": "STATUS_SUCCESS",
        "t2": "STATUS_FAILURE",
        "t3": "STATUS_UNKNOWN",  # TensorBoard has no early-stopped: the status column says it
    }
    assert trials["t1"]["scalars"] == {
        "intermediate/default": [(1, pytest.approx(0.1)), (2, pytest.approx(0.4))],
        "default": [(2, pytest.approx(0.9))],
        "loss": [(2, pytest.approx(0.1))],
    }
    assert trials["t3"]["scalars"] == {"intermediate/default": [(1, pytest.approx(0.1))]}
    experiment = read_experiment(logdir)
    columns = {
        h.name: [v.string_value for v in h.domain_discrete.values] for h in experiment.hparam_infos
    }
    assert set(columns) == {"x", "opt", "opt/lr", "opt/m", "status"}
    assert columns["opt"] == ["adam", "none", "sgd"]
    assert [m.name.tag for m in experiment.metric_infos] == ["default", "loss"]
    for trial in trials.values():
        assert not set(trial["hparams"]) & set(INTERNAL)
        assert not {tag.split("/")[-1] for tag in trial["scalars"]} & set(INTERNAL)


def test_import_writes_tensorboard_and_says_how_to_open_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nni = build_nni_experiment(tmp_path / "nni-experiments", TRIALS)
    out = tmp_path / "imp"
    assert main(["import", str(nni), "--output", str(out)]) == 0
    assert f"TensorBoard: tensorboard --logdir {out.resolve() / 'tensorboard'}" in (
        capsys.readouterr().out
    )
    trials = read_tensorboard(out / "tensorboard")
    exported = {e["trialJobId"]: e for e in json.loads((out / "export.json").read_text())}
    assert set(trials) == set(exported)
    for trial_id, trial in trials.items():
        row = exported[trial_id]
        assert trial["hparams"] == {**row["parameter"], "status": row["status"]}
    assert trials["wHAvA"]["scalars"]["loss"] == [(0, pytest.approx(0.2))]
    assert trials["Runng"]["status"] is None  # still running: no end
    assert trials["Fa1ld"]["status"] == "STATUS_FAILURE"
