"""NNI-style custom tuner and assessor files import and run against the stand-in nni."""

from __future__ import annotations

from fake_parent import run_plain, trial_env

TUNER_FILE = """
import nni
from nni.tuner import Tuner
from nni.utils import OptimizeMode, extract_scalar_reward


class CountingTuner(Tuner):
    def __init__(self, optimize_mode="maximize", budget=3):
        self.mode = OptimizeMode(optimize_mode)
        self.budget = budget
        self.results = {}
        self._accept_customized_trials()

    def update_search_space(self, search_space):
        self.space = search_space

    def generate_parameters(self, parameter_id, **kwargs):
        if parameter_id >= self.budget:
            raise nni.NoMoreTrialError("budget spent")
        return {name: parameter_id for name in self.space}

    def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
        self.results[parameter_id] = extract_scalar_reward(value)
"""

ASSESSOR_FILE = """
from nni.assessor import Assessor, AssessResult
from nni.utils import extract_scalar_history


class FallingAssessor(Assessor):
    def __init__(self, patience=2):
        self.patience = patience
        self.ended = []

    def assess_trial(self, trial_job_id, trial_history):
        history = extract_scalar_history(trial_history)
        if len(history) > self.patience and history[-1] < history[0]:
            return AssessResult.Bad
        return AssessResult.Good

    def trial_end(self, trial_job_id, success):
        self.ended.append((trial_job_id, success))
"""

DRIVER = """
import nni
from my_tuner import CountingTuner
from my_assessor import FallingAssessor
from nni.assessor import AssessResult
from nni.recoverable import Recoverable

tuner = CountingTuner(optimize_mode="minimize")
tuner.update_search_space({"x": {"_type": "choice", "_value": [1, 2]}})
print(tuner.generate_multiple_parameters([0, 1, 2, 3, 4], st_callback=None))
tuner.receive_trial_result(0, {"x": 0}, {"default": 0.5, "loss": 1})
tuner.trial_end(0, True)
tuner.import_data([])
tuner.load_checkpoint()
print(tuner.results, tuner.mode.value, tuner._accept_customized, isinstance(tuner, Recoverable))

assessor = FallingAssessor()
print(assessor.assess_trial("t1", [0.5, 0.6]), assessor.assess_trial("t1", [0.5, 0.6, 0.4]))
assessor.trial_end("t1", False)
print(assessor.ended, AssessResult(True), AssessResult.Bad.value)
"""


def test_custom_tuner_and_assessor_import_and_work(tmp_path):
    (tmp_path / "my_tuner.py").write_text(TUNER_FILE)
    (tmp_path / "my_assessor.py").write_text(ASSESSOR_FILE)
    result = run_plain(DRIVER, tmp_path, trial_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "[{'x': 0}, {'x': 1}, {'x': 2}]",
        "{0: 0.5} minimize True True",
        "AssessResult.Good AssessResult.Bad",
        "[('t1', False)] AssessResult.Good False",
    ]


def test_base_methods_that_must_be_overridden_say_so(tmp_path):
    script = """
    from nni.tuner import Tuner
    from nni.assessor import Assessor
    calls = [
        lambda: Tuner().update_search_space({}),
        lambda: Tuner().generate_parameters(0),
        lambda: Tuner().receive_trial_result(0, {}, 1.0),
        lambda: Assessor().assess_trial("t", []),
    ]
    for call in calls:
        try:
            call()
        except NotImplementedError as error:
            print(error)
    """
    result = run_plain(script, tmp_path, trial_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Tuner: update_search_space not implemented",
        "Tuner: generate_parameters not implemented",
        "Tuner: receive_trial_result not implemented",
        "Assessor: assess_trial not implemented",
    ]


def test_trace_dump_and_load(tmp_path):
    script = """
    import io, math
    import nni

    @nni.trace
    class Model:
        pass

    @nni.trace(kw_only=False)
    def build():
        return 1

    text = nni.dump({"a": (1, 2), "nan": float("nan")})
    back = nni.load(text)
    buffer = io.StringIO()
    nni.dump([1], fp=buffer)
    print(Model.__name__, build(), text, back["a"], math.isnan(back["nan"]),
          nni.load(fp=io.StringIO(buffer.getvalue())))
    """
    result = run_plain(script, tmp_path, trial_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'Model 1 {"a": [1, 2], "nan": NaN} [1, 2] True [1]'
