"""What a trial command is started with: parameters, environment, working directory."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from nni2ray.trials import (
    PARAMETER_FILE,
    PARAMETERS_KEY,
    SEQUENCE_KEY,
    SHIM_DIR,
    TrialContext,
    prepare_trial,
    read_parameter_file,
    write_parameter_file,
)

SPACE = {"lr": {"_type": "quniform", "_value": [2, 10, 5]}}


def _context(tmp_path: Path, **changes: object) -> TrialContext:
    base: dict[str, object] = {
        "experiment_id": "abcd1234",
        "command": "python3 main.py",
        "code_directory": str(tmp_path / "code"),
        "output_dir": str(tmp_path / "out"),
        "search_space": SPACE,
    }
    base.update(changes)
    return TrialContext(**base)  # type: ignore[arg-type]


def test_parameter_file_holds_nni_values_and_sequence(tmp_path: Path) -> None:
    spec = prepare_trial(_context(tmp_path), {"lr": 6.9, SEQUENCE_KEY: 4}, "t1", None)
    record = json.loads((tmp_path / "out" / "trials" / "t1" / "parameter.cfg").read_text())
    # quniform [2, 10, 5]: the latent 6.9 rounds to 5.0, a float as NNI gives it.
    assert record == {
        "parameter_id": 4,
        "parameter_source": "algorithm",
        "parameters": {"lr": 5.0},
        "parameter_index": 0,
    }
    assert spec.env["NNI_TRIAL_SEQ_ID"] == "4"
    assert spec.cwd == tmp_path / "code"


def test_environment_is_nni_s(tmp_path: Path) -> None:
    spec = prepare_trial(_context(tmp_path), {"lr": 2.0, SEQUENCE_KEY: 0}, "t2", None)
    trial_dir = str(tmp_path / "out" / "trials" / "t2")
    assert spec.env["NNI_PLATFORM"] == "local"
    assert spec.env["NNI_EXP_ID"] == "abcd1234"
    assert spec.env["NNI_TRIAL_JOB_ID"] == "t2"
    assert spec.env["NNI_SYS_DIR"] == spec.env["NNI_OUTPUT_DIR"] == trial_dir
    assert spec.env["NNI_CODE_DIR"] == str(tmp_path / "code")
    assert spec.env["PYTHONPATH"].split(os.pathsep)[0] == str(SHIM_DIR)
    # `python3` resolves to the interpreter that runs nni2ray.
    assert spec.env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)


@pytest.mark.parametrize(
    ("gpu_number", "gpu_ids", "expected"),
    [
        pytest.param(None, None, "untouched", id="unset-leaves-variable-alone"),
        pytest.param(0, None, "", id="zero-hides-gpus"),
        pytest.param(2, ["0", "3"], "0,3", id="assigned-gpus"),
    ],
)
def test_cuda_visible_devices(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    gpu_number: float | None,
    gpu_ids: list[str] | None,
    expected: str,
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "untouched")
    context = _context(tmp_path, gpu_number=gpu_number)
    spec = prepare_trial(context, {"lr": 2.0, SEQUENCE_KEY: 0}, "t3", gpu_ids)
    assert spec.env["CUDA_VISIBLE_DEVICES"] == expected


def test_extra_parameters_and_pass_through(tmp_path: Path) -> None:
    context = _context(tmp_path, extra_parameters={"TRIAL_BUDGET": 9})
    prepare_trial(context, {PARAMETERS_KEY: {"x": 1}, SEQUENCE_KEY: 1}, "t4", None)
    record = json.loads((tmp_path / "out" / "trials" / "t4" / "parameter.cfg").read_text())
    assert record["parameters"] == {"x": 1, "TRIAL_BUDGET": 9}


def test_run_settings_do_not_leak_into_the_caller_s_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nni2ray.runtime._driver import _environment

    monkeypatch.setenv("TUNE_GLOBAL_CHECKPOINT_S", "7")
    monkeypatch.delenv("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", raising=False)
    with _environment(
        {"TUNE_GLOBAL_CHECKPOINT_S": "60", "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1"}
    ):
        assert os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] == "1"
    assert os.environ["TUNE_GLOBAL_CHECKPOINT_S"] == "7"
    assert "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS" not in os.environ


def test_parameter_file_round_trip_and_refusal(tmp_path: Path) -> None:
    path = write_parameter_file(tmp_path, 3, {"lr": float("nan")})
    assert Path(path) == tmp_path / PARAMETER_FILE == tmp_path / "parameter.cfg"
    record = read_parameter_file(path)
    assert (record["parameter_id"], record["parameter_index"]) == (3, 0)
    (tmp_path / "other.cfg").write_text("[1, 2]")
    with pytest.raises(RuntimeError, match="not an NNI parameter record"):
        read_parameter_file(tmp_path / "other.cfg")
