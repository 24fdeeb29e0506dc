"""Custom NNI tuners and assessors: loading, and the adapters' call sequences (fake trials)."""

from __future__ import annotations

import json
import math
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ray.tune.schedulers import TrialScheduler
from ray.tune.search import Searcher

from nni2ray.errors import AlgorithmError, UnsupportedError
from nni2ray.experiment import load_experiment
from nni2ray.runtime._user_algorithms import (
    ERROR_FILE,
    EXCEPTIONS_FILE,
    UserAlgorithm,
    close_algorithms,
    load_algorithm,
)
from nni2ray.runtime.schedulers._custom import CustomAssessorScheduler
from nni2ray.runtime.searchers._custom import CustomTunerSearch, custom_tuner_searcher
from nni2ray.translate import translate
from nni2ray.trials import PARAMETERS_KEY, SEQUENCE_KEY, reported_value
from nni2ray.trials._shim.nni import NoMoreTrialError

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "experiments"

# --- loading -----------------------------------------------------------------------------

TUNER_SOURCE = """
import nni
from nni.tuner import Tuner
from nni.utils import OptimizeMode

class ModTuner(Tuner):
    def __init__(self, optimize_mode="maximize", fail=False):
        if fail:
            raise ValueError("bad classArgs")
        self.mode = OptimizeMode(optimize_mode)

    def update_search_space(self, search_space):
        self.space = search_space

    def generate_parameters(self, parameter_id, **kwargs):
        raise nni.NoMoreTrialError("nothing")

    def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
        pass
"""


def _write_module(folder: Path, name: str, source: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return str(folder)


def test_load_imports_the_class_with_the_stand_in_nni(tmp_path: Path) -> None:
    code_dir = _write_module(tmp_path / "algos", "mod_tuner_a", TUNER_SOURCE)
    before = list(sys.path)
    algorithm = load_algorithm(
        "mod_tuner_a.ModTuner", code_dir, {"optimize_mode": "minimize"}, "tuner"
    )
    assert sys.path == before  # codeDirectory was on sys.path only while importing
    assert algorithm.obj.mode.value == "minimize"
    assert algorithm.file == str(tmp_path / "algos" / "mod_tuner_a.py")
    # One copy of the stand-in: the user's nni.NoMoreTrialError is the class nni2ray knows.
    with pytest.raises(NoMoreTrialError):
        algorithm.obj.generate_parameters(0)


def test_constructor_error_prints_traceback_and_names_the_method(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code_dir = _write_module(tmp_path / "algos", "mod_tuner_b", TUNER_SOURCE)
    with pytest.raises(AlgorithmError) as info:
        load_algorithm("mod_tuner_b.ModTuner", code_dir, {"fail": True}, "tuner")
    assert info.value.field == "ModTuner.__init__"
    assert info.value.file == str(tmp_path / "algos" / "mod_tuner_b.py")
    assert "raised ValueError: bad classArgs" in str(info.value)
    assert "\n" not in str(info.value)
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ValueError: bad classArgs" in err


def test_import_error_is_an_algorithm_error(tmp_path: Path) -> None:
    code_dir = _write_module(tmp_path / "algos", "broken_mod", "import nni.no_such_module\n")
    with pytest.raises(AlgorithmError, match="cannot import broken_mod"):
        load_algorithm("broken_mod.Tuner", code_dir, {}, "tuner")
    with pytest.raises(AlgorithmError, match="has no class Missing"):
        load_algorithm(
            "mod_tuner_a.Missing",
            _write_module(tmp_path / "a", "mod_tuner_a", TUNER_SOURCE),
            {},
            "tuner",
        )


def test_same_module_name_from_another_directory_is_imported_afresh(tmp_path: Path) -> None:
    one = _write_module(tmp_path / "one", "twin_tuner", TUNER_SOURCE + "\nWHO = 1\n")
    two = _write_module(tmp_path / "two", "twin_tuner", TUNER_SOURCE + "\nWHO = 2\n")
    first = load_algorithm("twin_tuner.ModTuner", one, {}, "tuner")
    second = load_algorithm("twin_tuner.ModTuner", two, {}, "tuner")
    assert sys.modules[type(first.obj).__module__].WHO == 2
    assert type(first.obj) is not type(second.obj)


def test_an_advisor_that_is_no_tuner_is_refused(tmp_path: Path) -> None:
    code_dir = _write_module(tmp_path / "algos", "my_advisor", "class Advisor:\n    pass\n")
    kwargs = {"class_name": "my_advisor.Advisor", "code_directory": code_dir, "role": "advisor"}
    with pytest.raises(UnsupportedError, match="not an NNI Tuner"):
        custom_tuner_searcher(kwargs, {}, concurrency=1, metric="default", mode="max")


# --- translate ---------------------------------------------------------------------------


def test_translate_maps_custom_tuner_and_assessor() -> None:
    plan = translate(load_experiment(FIXTURES / "custom_tuner_assessor"))
    assert plan.searcher.kind == "custom" and plan.searcher.exact
    assert plan.searcher.kwargs["class_name"] == "counting_tuner.CountingTuner"
    assert plan.searcher.kwargs["class_args"] == {"optimize_mode": "maximize", "count": 6}
    assert plan.scheduler.kind == "custom"
    assert plan.scheduler.kwargs["code_directory"].endswith("custom_tuner_assessor/algorithms")
    raw = translate(load_experiment(FIXTURES / "custom_tuner"))
    assert raw.search_space == json.loads(
        (FIXTURES / "custom_tuner" / "search_space.json").read_text()
    )


def test_translate_hyperband_is_exact_and_bohb_is_approximated(tmp_path: Path) -> None:
    plan = translate(load_experiment(FIXTURES / "hyperband_advisor"))
    assert (plan.searcher.kind, plan.searcher.exact) == ("hyperband", True)
    assert plan.searcher.kwargs == {
        "R": 9,
        "eta": 3,
        "exec_mode": "serial",
        "optimize_mode": "maximize",
        "seed": None,
    }
    assert plan.scheduler.kind == "fifo" and plan.extra_parameters == {}
    config = (FIXTURES / "hyperband_advisor" / "config.yml").read_text()
    folder = tmp_path / "bohb"
    folder.mkdir()
    (folder / "search_space.json").write_text(
        (FIXTURES / "hyperband_advisor" / "search_space.json").read_text()
    )
    (folder / "main.py").write_text("")
    bohb = config.replace("name: Hyperband", "name: BOHB").replace("R: 9", "max_budget: 9")
    bohb = bohb.replace("exec_mode: serial", "min_budget: 1")
    (folder / "config.yml").write_text(bohb)
    plan = translate(load_experiment(folder))
    assert (plan.searcher.kind, plan.searcher.exact) == ("bohb", False)
    assert any("KDE" in note.message for note in plan.notes)
    (folder / "config.yml").write_text(config.replace("exec_mode: serial", "exec_mode: fast"))
    with pytest.raises(UnsupportedError, match="exec_mode"):
        translate(load_experiment(folder))


# --- the tuner adapter -------------------------------------------------------------------


class RecordingTuner:
    """Hands out {"i": id} for `budget` ids; records every call."""

    def __init__(self, budget: int = 100) -> None:
        self.budget = budget
        self.calls: list[tuple[Any, ...]] = []
        self.callback: Any = None

    def generate_multiple_parameters(self, ids: list[int], **kwargs: Any) -> list[Any]:
        self.calls.append(("generate", tuple(ids)))
        self.callback = kwargs["st_callback"]
        if ids[0] >= self.budget:
            return []
        return [{"i": ids[0]}]

    def receive_trial_result(
        self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any
    ) -> None:
        self.calls.append(
            (
                "receive",
                parameter_id,
                parameters,
                value,
                kwargs["customized"],
                kwargs["trial_job_id"],
            )
        )

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        self.calls.append(("end", parameter_id, success))

    def import_data(self, data: list[Any]) -> None:
        self.calls.append(("import", data))


def _searcher(tuner: Any, concurrency: int = 2, **kwargs: Any) -> CustomTunerSearch:
    return CustomTunerSearch(
        UserAlgorithm(tuner, "tuner", "my_tuner.py"),
        concurrency=concurrency,
        metric="default",
        mode="max",
        **kwargs,
    )


def _final(value: Any, status: str = "SUCCEEDED") -> dict[str, Any]:
    # As Tune hands it to searchers: flattened, with the JSON text of the value.
    flat = {
        "nni_type": "FINAL",
        "nni_sequence": 3,
        "nni_value_json": json.dumps(value),
        "nni_status": status,
        "done": True,
    }
    if isinstance(value, dict):
        flat.update({f"nni_value/{k}": v for k, v in value.items()})
    return flat


def test_tuner_sequence_ids_and_verbatim_results() -> None:
    tuner = RecordingTuner()
    searcher = _searcher(tuner)
    assert searcher.suggest("a") == {PARAMETERS_KEY: {"i": 0}, SEQUENCE_KEY: 0}
    assert searcher.suggest("b") == {PARAMETERS_KEY: {"i": 1}, SEQUENCE_KEY: 1}
    assert searcher.suggest("c") is None  # both credits used: NNI asks again on a trial end
    searcher.on_trial_complete("a", _final({"default": 0.5, "loss": [1, 2]}))
    searcher.on_trial_complete("b", {"nni_type": "END", "nni_status": "FAILED", "done": True})
    assert tuner.calls == [
        ("generate", (0,)),
        ("generate", (1,)),
        ("receive", 0, {"i": 0}, {"default": 0.5, "loss": [1, 2]}, False, "a"),
        ("end", 0, True),
        ("end", 1, False),
    ]
    assert searcher.suggest("c") == {PARAMETERS_KEY: {"i": 2}, SEQUENCE_KEY: 2}


def test_early_stopped_trial_ends_without_a_result_unless_intermediates_are_included() -> None:
    for include, expected in ((False, []), (True, [("receive", 0, {"i": 0}, 7, False, "a")])):
        tuner = RecordingTuner()
        searcher = _searcher(tuner, include_intermediate_results=include)
        searcher.suggest("a")
        periodical = {"nni_type": "PERIODICAL", "nni_sequence": 0, "nni_value_json": "7"}
        searcher.on_trial_result("a", periodical)
        searcher.on_trial_complete("a", dict(periodical, done=True))  # stopped: no nni_status
        calls = [c for c in tuner.calls if c[0] != "generate"]
        assert calls == [*expected, ("end", 0, False)]


def test_no_more_trials_waits_while_trials_run_then_finishes() -> None:
    tuner = RecordingTuner(budget=1)
    searcher = _searcher(tuner, concurrency=3)
    assert searcher.suggest("a") is not None
    assert searcher.suggest("b") is None  # NoMoreTrialError while "a" runs: wait
    assert searcher.suggest("c") is None  # the request's other slots are lost, as in NNI
    assert [c for c in tuner.calls if c[0] == "generate"] == [
        ("generate", (0,)),
        ("generate", (1,)),
    ]
    searcher.on_trial_complete("a", _final(1.0))
    assert searcher.suggest("d") == Searcher.FINISHED  # asked again (id 2), nothing runs
    assert tuner.calls[-1] == ("generate", (2,))


def test_no_more_trial_error_from_generate_parameters_default_path(tmp_path: Path) -> None:
    code_dir = _write_module(tmp_path / "algos", "mod_tuner_c", TUNER_SOURCE)
    searcher = custom_tuner_searcher(
        {"class_name": "mod_tuner_c.ModTuner", "code_directory": code_dir, "class_args": {}},
        {"x": 1},
        concurrency=1,
        metric="default",
        mode="max",
    )
    assert searcher.user_algorithm.obj.space == {"x": 1}
    assert searcher.suggest("a") == Searcher.FINISHED
    assert searcher.user_algorithm.failure is None


def test_st_callback_pushes_a_trial_without_a_request() -> None:
    tuner = RecordingTuner(budget=1)
    searcher = _searcher(tuner, concurrency=1)
    assert searcher.suggest("a") == {PARAMETERS_KEY: {"i": 0}, SEQUENCE_KEY: 0}
    tuner.callback(41, {"pushed": True})  # e.g. from receive_trial_result, as Evolution does
    assert searcher.suggest("b") == {PARAMETERS_KEY: {"pushed": True}, SEQUENCE_KEY: 1}
    searcher.on_trial_complete("b", _final(2))
    assert tuner.calls[-2:] == [("receive", 41, {"pushed": True}, 2, False, "b"), ("end", 41, True)]
    assert [c for c in tuner.calls if c[0] == "generate"] == [("generate", (0,))]


def test_import_data_is_forwarded() -> None:
    tuner = RecordingTuner()
    _searcher(tuner).import_data([{"parameter": {"i": 9}, "value": 1.0}])
    assert tuner.calls == [("import", [{"parameter": {"i": 9}, "value": 1.0}])]


class FailingTuner(RecordingTuner):
    def receive_trial_result(self, *args: Any, **kwargs: Any) -> None:
        raise KeyError("boom")

    def _on_exit(self) -> None:
        self.calls.append(("on_exit",))


class FailingGenerateTuner(FailingTuner):
    def generate_multiple_parameters(self, ids: list[int], **kwargs: Any) -> list[Any]:
        if ids[0] == 1:
            raise KeyError("boom")
        return super().generate_multiple_parameters(ids, **kwargs)


def test_an_error_in_receive_trial_result_is_recorded_and_the_search_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    searcher = _searcher(FailingTuner())
    searcher.user_algorithm.output = tmp_path
    searcher.suggest("a")
    searcher.on_trial_complete("a", _final(1.0))
    searcher.suggest("b")
    searcher.on_trial_complete("b", _final(2.0))
    err = capsys.readouterr().err
    # One warning line, naming the algorithm, the method and the file; no traceback on stderr.
    assert err == (
        "nni2ray: warning: the custom tuner FailingTuner.receive_trial_result raised "
        f"KeyError: 'boom'; the run goes on (this traceback and any later one: "
        f"{tmp_path / EXCEPTIONS_FILE})\n"
    )
    assert searcher.suggest("c") != Searcher.FINISHED  # the search goes on
    tuner = searcher.user_algorithm.obj
    assert ("end", 0, True) in tuner.calls and ("end", 1, True) in tuner.calls
    text = (tmp_path / EXCEPTIONS_FILE).read_text()
    assert text.count("Traceback (most recent call last)") == 2
    assert "FailingTuner.receive_trial_result raised KeyError: 'boom'" in text
    meta: dict[str, Any] = {"status": "DONE"}
    assert close_algorithms(tmp_path, meta, searcher, object()) is None
    assert meta["status"] == "DONE"
    assert meta["algorithmExceptions"]["count"] == 2
    assert meta["algorithmExceptions"]["file"] == EXCEPTIONS_FILE


def test_an_error_in_generate_parameters_ends_the_search_and_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    searcher = _searcher(FailingGenerateTuner(), concurrency=1)
    searcher.suggest("a")
    searcher.on_trial_complete("a", _final(1.0))
    assert searcher.suggest("b") == Searcher.FINISHED
    assert "KeyError: 'boom'" in capsys.readouterr().err
    meta: dict[str, Any] = {"status": "DONE"}
    failure = close_algorithms(tmp_path, meta, searcher, object())
    assert failure is not None
    assert failure.method == "FailingGenerateTuner.generate_multiple_parameters"
    # As in NNI, _on_exit runs when the loop ends, also after a handler raised.
    assert searcher.user_algorithm.obj.calls[-1] == ("on_exit",)
    assert meta["status"] == "ERROR" and meta["error"]["method"] == failure.method
    assert "KeyError: 'boom'" in (tmp_path / ERROR_FILE).read_text()
    # The receive_trial_result error before it was kept (written at the end: no output set).
    assert "receive_trial_result" in (tmp_path / EXCEPTIONS_FILE).read_text()
    error = failure.error(tmp_path / ERROR_FILE)
    assert str(error) == (
        "my_tuner.py: FailingGenerateTuner.generate_multiple_parameters: the custom tuner "
        f"raised KeyError: 'boom'; traceback above and in {tmp_path / ERROR_FILE}"
    )


def test_reported_value_survives_flattening() -> None:
    assert reported_value({"nni_value_json": '{"a": {}, "b/c": 1}'}) == {"a": {}, "b/c": 1}
    assert reported_value({"nni_value": 3}) == 3
    assert reported_value({"nni_value/default": 1, "nni_value/d/e": 2}) == {
        "default": 1,
        "d": {"e": 2},
    }
    assert math.isnan(reported_value({"nni_value_json": "NaN"}))


# --- the assessor adapter ----------------------------------------------------------------


@dataclass
class FakeTrial:
    trial_id: str
    temporary_state: Any = None


@dataclass
class FakeSearchAlg:
    finished: bool = False

    def set_finished(self) -> None:
        self.finished = True


@dataclass
class FakeController:
    search_alg: FakeSearchAlg = field(default_factory=FakeSearchAlg)


class RecordingAssessor:
    def __init__(self, verdicts: dict[int, Any]) -> None:
        self.verdicts = verdicts  # history length -> verdict
        self.calls: list[tuple[Any, ...]] = []

    def assess_trial(self, trial_job_id: str, trial_history: list[Any]) -> Any:
        self.calls.append(("assess", trial_job_id, trial_history))
        return self.verdicts.get(len(trial_history), True)

    def trial_end(self, trial_job_id: str, success: bool) -> None:
        self.calls.append(("end", trial_job_id, success))


def _periodical(value: Any, sequence: int = 0) -> dict[str, Any]:
    return {"nni_type": "PERIODICAL", "nni_sequence": sequence, "nni_value_json": json.dumps(value)}


def _scheduler(assessor: Any) -> CustomAssessorScheduler:
    return CustomAssessorScheduler(UserAlgorithm(assessor, "assessor", "my_assessor.py"))


def test_assessor_sees_growing_history_and_bad_stops_the_trial() -> None:
    from nni2ray.trials._shim.nni.assessor import AssessResult

    assessor = RecordingAssessor({2: AssessResult.Bad})
    scheduler, controller, trial = _scheduler(assessor), FakeController(), FakeTrial("t1")
    assert scheduler.on_trial_result(controller, trial, _periodical(0.5)) == TrialScheduler.CONTINUE
    heartbeat = {"nni_type": "HEARTBEAT"}
    assert scheduler.on_trial_result(controller, trial, heartbeat) == TrialScheduler.CONTINUE
    final = {"nni_type": "FINAL", "nni_value_json": "1"}
    assert scheduler.on_trial_result(controller, trial, final) == TrialScheduler.CONTINUE
    nan_dict = {"nni_type": "PERIODICAL", "nni_value_json": '{"default": NaN, "x": 1}'}
    assert scheduler.on_trial_result(controller, trial, nan_dict) == TrialScheduler.STOP
    assert trial.trial_id in scheduler.stopped
    assert scheduler.on_trial_result(controller, trial, _periodical(9)) == TrialScheduler.CONTINUE
    scheduler.on_trial_complete(controller, trial, {"nni_type": "PERIODICAL"})
    assert [c[:2] for c in assessor.calls] == [("assess", "t1"), ("assess", "t1"), ("end", "t1")]
    assert assessor.calls[1][2][0] == 0.5 and assessor.calls[1][2][1]["x"] == 1
    assert assessor.calls[-1] == ("end", "t1", False)


def test_trial_end_only_for_trials_with_intermediate_results() -> None:
    assessor = RecordingAssessor({1: False})  # a plain bool is accepted: False = Bad
    scheduler, controller = _scheduler(assessor), FakeController()
    scheduler.on_trial_complete(controller, FakeTrial("quiet"), {"nni_status": "SUCCEEDED"})
    scheduler.on_trial_error(controller, FakeTrial("broken"))
    good = FakeTrial("good")
    scheduler.on_trial_result(controller, good, _periodical(1))
    assert scheduler.on_trial_result(controller, FakeTrial("bad"), _periodical(1)) == "STOP"
    scheduler.on_trial_complete(controller, good, {"nni_status": "SUCCEEDED"})
    assert [c for c in assessor.calls if c[0] == "end"] == [("end", "good", True)]


def test_invalid_verdict_or_exception_stops_everything() -> None:
    assessor = RecordingAssessor({1: "maybe"})
    scheduler, controller = _scheduler(assessor), FakeController()
    assert scheduler.on_trial_result(controller, FakeTrial("a"), _periodical(1)) == "STOP"
    assert controller.search_alg.finished
    failure = scheduler.user_algorithm.failure
    assert failure is not None and failure.method == "RecordingAssessor.assess_trial"
    assert "must be an object of AssessResult" in failure.summary
    # Every other running trial is stopped at its next result (heartbeats included).
    assert (
        scheduler.on_trial_result(controller, FakeTrial("b"), {"nni_type": "HEARTBEAT"}) == "STOP"
    )
