"""The stand-in nni without nni2ray: standalone like NNI, and NNI's legacy file protocol."""

from __future__ import annotations

import json
import re

from fake_parent import make_record, run_plain, trial_env

STANDALONE_SCRIPT = """
import warnings
import nni
warnings.simplefilter("always")
print("current before:", nni.get_current_parameter())
print("params:", nni.get_next_parameter())
print("current after:", nni.get_current_parameter())
nni.report_intermediate_result(0.5)
nni.report_intermediate_result({"default": 0.6})
nni.report_final_result(0.7)
print("ids:", nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id())
"""


def test_standalone_returns_empty_parameters_and_logs_results(tmp_path):
    result = run_plain(STANDALONE_SCRIPT, tmp_path, trial_env())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ["current before: None", "params: {}", "current after: {}"]
    logged = [re.sub(r"^\[[0-9: -]+\] ", "", line) for line in lines[3:6]]
    assert logged == [
        "INFO (nni/MainThread) Intermediate result: 0.5  (Index 0)",
        "INFO (nni/MainThread) Intermediate result: {'default': 0.6}  (Index 1)",
        "INFO (nni/MainThread) Final result: 0.7",
    ]
    assert lines[6] == "ids: STANDALONE STANDALONE 0"
    assert "RuntimeWarning: Running trial code without runtime." in result.stderr


def test_standalone_reports_before_get_next_parameter_are_allowed(tmp_path):
    script = "import nni\nnni.report_final_result(1.5)\n"
    result = run_plain(script, tmp_path, trial_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("Final result: 1.5")


def test_standalone_leaves_a_configured_root_logger_alone(tmp_path):
    script = """
    import logging, sys
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="ROOT %(message)s")
    import nni
    nni.get_next_parameter()
    nni.report_final_result(2)
    print(logging.getLogger().handlers[0].formatter._fmt)
    """
    result = run_plain(script, tmp_path, trial_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["ROOT Final result: 2", "ROOT %(message)s"]


def test_standalone_does_not_touch_print(tmp_path):
    script = "import sys\nbefore = sys.stdout\nimport nni\nnni.get_next_parameter()\n"
    script += "nni.report_final_result(1)\nassert sys.stdout is before\nprint('plain')\n"
    result = run_plain(script, tmp_path, trial_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "plain"


def test_ids_come_from_the_environment(tmp_path):
    script = "import nni\nprint(nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id())"
    env = trial_env({"NNI_EXP_ID": "e1", "NNI_TRIAL_JOB_ID": "t1", "NNI_TRIAL_SEQ_ID": "12"})
    result = run_plain(script, tmp_path, env)
    assert result.stdout.split() == ["e1", "t1", "12"]


def _legacy_records(path):
    data = path.read_bytes()
    records = []
    while data:
        assert data[:2] == b"ME"
        length = int(data[2:8])
        records.append(json.loads(data[8 : 8 + length]))
        assert data[8 + length - 1 : 8 + length] == b"\n"
        data = data[8 + length :]
    return records


def test_legacy_file_protocol(tmp_path):
    sys_dir = tmp_path / "trials" / "Abc12"
    sys_dir.mkdir(parents=True)
    (sys_dir / "parameter.cfg").write_text(json.dumps(make_record({"lr": 0.2}, 5)))
    script = """
    import nni
    print(nni.get_next_parameter())
    nni.report_intermediate_result(0.1)
    nni.report_final_result({"default": 0.9})
    """
    env = trial_env(
        {"NNI_PLATFORM": "local", "NNI_SYS_DIR": str(sys_dir), "NNI_TRIAL_JOB_ID": "Abc12"}
    )
    result = run_plain(script, tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'lr': 0.2}"
    records = _legacy_records(sys_dir / ".nni" / "metrics")
    assert records == [
        {
            "parameter_id": 5,
            "trial_job_id": "Abc12",
            "type": "PERIODICAL",
            "sequence": 0,
            "value": "0.1",
        },
        {
            "parameter_id": 5,
            "trial_job_id": "Abc12",
            "type": "FINAL",
            "sequence": 0,
            "value": '{"default": 0.9}',
        },
    ]


def test_legacy_protocol_asserts_before_get_next_parameter(tmp_path):
    script = "import nni\nnni.report_final_result(1)\n"
    env = trial_env({"NNI_PLATFORM": "local", "NNI_SYS_DIR": str(tmp_path)})
    result = run_plain(script, tmp_path, env)
    assert result.returncode == 1
    assert (
        "AssertionError: nni.get_next_parameter() needs to be called before report_final_result"
        in result.stderr
    )


def test_legacy_remote_platform_prints_metric_lines(tmp_path):
    (tmp_path / "parameter.cfg").write_text(json.dumps(make_record({"lr": 0.2}, 5)))
    script = "import nni\nnni.get_next_parameter()\nnni.report_final_result(0.5)\n"
    env = trial_env(
        {"NNI_PLATFORM": "remote", "NNI_SYS_DIR": str(tmp_path), "NNI_TRIAL_JOB_ID": "t"}
    )
    result = run_plain(script, tmp_path, env)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("NNISDK_MEb'") and line.endswith("'")
    assert json.loads(line[len("NNISDK_MEb'") : -1])["value"] == "0.5"
