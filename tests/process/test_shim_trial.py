"""The stand-in nni under a fake nni2ray parent: parameters in, metric messages out."""

from __future__ import annotations

import math

import pytest
from fake_parent import make_record


def test_clean_run_returns_the_parameters(trial):
    run = trial(
        """
        import nni
        params = nni.get_next_parameter()
        assert params == {"lr": 0.1, "layers": [1, 2], "act": {"_name": "relu"}}, params
        assert nni.get_current_parameter() is params
        assert nni.get_current_parameter("lr") == 0.1
        print(nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id())
        """,
        record=make_record({"lr": 0.1, "layers": [1, 2], "act": {"_name": "relu"}}),
    )
    assert run.returncode == 0, run.stderr
    assert run.messages == []
    assert run.stdout.split() == ["exp12345", "Abc12", "3"]


def test_intermediate_results_then_final_in_order(trial):
    run = trial(
        """
        import nni
        nni.get_next_parameter()
        for acc in (0.1, 0.2, 0.3):
            nni.report_intermediate_result(acc)
        nni.report_final_result(0.4)
        """
    )
    assert run.returncode == 0, run.stderr
    summary = [(m["type"], m["sequence"], m["value"]) for m in run.messages]
    assert summary == [
        ("PERIODICAL", 0, 0.1),
        ("PERIODICAL", 1, 0.2),
        ("PERIODICAL", 2, 0.3),
        ("FINAL", 0, 0.4),
    ]
    assert {(m["parameter_id"], m["trial_job_id"]) for m in run.messages} == {(7, "Abc12")}


@pytest.mark.parametrize(
    "metric",
    [
        pytest.param({"default": 0.9, "loss": 0.2}, id="dict-with-default"),
        pytest.param({"loss": 0.2, "acc": 0.8}, id="dict-without-default"),
        pytest.param({"default": 1, "nested": {"a": [1, 2]}}, id="dict-nested"),
        pytest.param(3, id="int"),
    ],
)
def test_metric_values_arrive_unchanged(trial, metric):
    run = trial(
        f"""
        import nni
        nni.get_next_parameter()
        nni.report_intermediate_result({metric!r})
        nni.report_final_result({metric!r})
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.values("PERIODICAL") == [metric]
    assert run.values("FINAL") == [metric]


def test_nan_and_infinity_round_trip(trial):
    run = trial(
        """
        import nni
        nni.get_next_parameter()
        nni.report_intermediate_result(float("nan"))
        nni.report_intermediate_result(float("-inf"))
        nni.report_final_result({"default": float("inf"), "loss": float("nan")})
        """
    )
    assert run.returncode == 0, run.stderr
    first, second = run.values("PERIODICAL")
    assert math.isnan(first)
    assert second == -math.inf
    (final,) = run.values("FINAL")
    assert final["default"] == math.inf
    assert math.isnan(final["loss"])


def test_two_finals_are_both_forwarded(trial):
    run = trial(
        """
        import nni
        nni.get_next_parameter()
        nni.report_final_result(0.5)
        nni.report_final_result(0.6)
        """
    )
    assert run.returncode == 0, run.stderr
    assert [(m["type"], m["sequence"], m["value"]) for m in run.messages] == [
        ("FINAL", 0, 0.5),
        ("FINAL", 0, 0.6),
    ]


def test_crash_before_reporting_sends_nothing(trial):
    run = trial(
        """
        import nni
        nni.get_next_parameter()
        raise SystemExit("training diverged")
        """
    )
    assert run.returncode == 1
    assert run.messages == []
    assert "training diverged" in run.stderr


@pytest.mark.parametrize("call", ["report_intermediate_result", "report_final_result"])
def test_report_before_get_next_parameter_is_an_assertion_error(trial, call):
    run = trial(
        f"""
        import nni
        try:
            nni.{call}(0.5)
        except AssertionError as error:
            print(error)
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"nni.get_next_parameter() needs to be called before {call}"
    assert run.messages == []


def test_heavy_stdout_does_not_break_the_channel(trial):
    run = trial(
        """
        import sys
        import nni
        nni.get_next_parameter()
        line = "x" * 999 + "\\n"
        for step in range(5):
            sys.stdout.write(line * 1000)  # 1 MB each
            nni.report_intermediate_result(step)
        print("NNISDK_MEb'not a metric'")
        nni.report_final_result(1.0)
        """
    )
    assert run.returncode == 0, run.stderr
    assert len(run.stdout) >= 5_000_000
    assert run.values("PERIODICAL") == [0, 1, 2, 3, 4]
    assert run.values("FINAL") == [1.0]


def test_numpy_like_scalars_become_numbers(trial):
    run = trial(
        """
        import nni

        class Scalar:  # what numpy.float32 / a one-element tensor looks like to the shim
            def __init__(self, value):
                self.value = value
            def item(self):
                return self.value

        nni.get_next_parameter()
        nni.report_intermediate_result(Scalar(0.25))
        nni.report_final_result({"default": Scalar(0.5), "epochs": Scalar(3)})
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.values("PERIODICAL") == [0.25]
    assert run.values("FINAL") == [{"default": 0.5, "epochs": 3}]


def test_real_numpy_scalars_become_numbers(trial):
    import numpy  # noqa: F401  - installed with the test extra (scikit-learn needs it)

    run = trial(
        """
        import numpy as np
        import nni
        nni.get_next_parameter()
        nni.report_final_result({"default": np.float32(0.5), "n": np.int64(4)})
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.values("FINAL") == [{"default": 0.5, "n": 4}]


def test_metric_without_json_form_is_a_type_error_in_the_trial(trial):
    run = trial(
        """
        import nni
        nni.get_next_parameter()
        try:
            nni.report_final_result({"default": object()})
        except TypeError as error:
            print(error)
        nni.report_intermediate_result(1.0)
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (
        "nni.report_final_result: metric of type object cannot be sent to nni2ray; "
        "report a number or a dict of numbers"
    )
    assert [(m["type"], m["sequence"]) for m in run.messages] == [("PERIODICAL", 0)]


def test_second_get_next_parameter_returns_the_same_with_one_warning(trial):
    run = trial(
        """
        import warnings
        import nni
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = nni.get_next_parameter()
            second = nni.get_next_parameters()
            third = nni.get_parameters()
        assert first is second is third, (first, second, third)
        print([str(w.message) for w in caught if w.category is RuntimeWarning])
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("called more than once") == 1


@pytest.mark.parametrize(
    ("parameters", "parameter_id"),
    [
        pytest.param({"lr": 0.1, "TRIAL_BUDGET": 9}, "0-2_0_1", id="hyperband-string-id"),
        pytest.param({"x": 1}, None, id="customized-null-id"),
        pytest.param([1, 2, 3], 4, id="custom-tuner-non-dict"),
    ],
)
def test_parameter_record_shapes(trial, parameters, parameter_id):
    run = trial(
        """
        import json, nni
        print(json.dumps(nni.get_next_parameter()))
        nni.report_final_result(1)
        """,
        record=make_record(parameters, parameter_id),
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == __import__("json").dumps(parameters)
    assert run.messages[0]["parameter_id"] == parameter_id


def test_parent_gone_gives_one_clear_error(trial):
    run = trial(
        """
        import nni
        nni.get_next_parameter()
        nni.report_intermediate_result(0.1)
        """,
        close_pipe_early=True,
    )
    assert run.returncode == 1
    assert "MetricChannelClosedError: nni2ray is no longer listening" in run.stderr
    assert run.stderr.count("Traceback") == 1
    assert "During handling" not in run.stderr


def test_parent_gone_error_is_raised_only_once(trial):
    run = trial(
        """
        import nni
        nni.get_next_parameter()
        try:
            nni.report_intermediate_result(0.1)
        except BrokenPipeError as error:
            print("first:", type(error).__name__)
        nni.report_intermediate_result(0.2)
        nni.report_final_result(0.3)
        print("still running")
        """,
        close_pipe_early=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["first: MetricChannelClosedError", "still running"]


def test_reports_from_many_threads_stay_whole_and_numbered(trial):
    run = trial(
        """
        import threading
        import nni
        nni.get_next_parameter()
        payload = {"default": 1.0, "blob": "y" * 20000}  # larger than PIPE_BUF
        def work():
            for _ in range(25):
                nni.report_intermediate_result(payload)
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        """
    )
    assert run.returncode == 0, run.stderr
    assert [m["sequence"] for m in run.messages] == list(range(200))
    assert all(m["value"]["blob"] == "y" * 20000 for m in run.messages)


def test_missing_parameter_file_is_a_clear_error(trial, tmp_path):
    run = trial(
        """
        import nni
        nni.get_next_parameter()
        """,
        env={"NNI2RAY_PARAMETER_FILE": str(tmp_path / "nowhere.json")},
    )
    assert run.returncode == 1
    assert "nowhere.json" in run.stderr


def test_bad_metric_fd_is_a_clear_error(trial):
    run = trial("import nni\nnni.get_next_parameter()\n", env={"NNI2RAY_METRIC_FD": "999"})
    assert run.returncode == 1
    assert "NNI2RAY_METRIC_FD='999' is not an open file descriptor" in run.stderr
