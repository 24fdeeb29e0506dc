"""Custom NNI tuners and assessors in a converted project: the copied adapter and stand-in.

A converted project whose config names a user's tuner or assessor class gets a folder
``nni_algorithms/`` with ``tune_adapters.py`` (standard library + Ray: the user's class as a
Tune searcher or scheduler, with the call sequence ``nni2ray run`` gives it) and ``nni/``, a
minimal stand-in for the parts of NNI the class API needs (``Tuner``, ``Assessor``,
``AssessResult``, ``NoMoreTrialError``, ``nni.utils``), copied from nni2ray's trial shim.
"""

from __future__ import annotations

from pathlib import Path

ALGORITHMS_DIR = "nni_algorithms"
_SHIM_FILES = ("_wire.py", "recoverable.py", "utils.py", "tuner.py", "assessor.py", "typehint.py")

_STANDIN_INIT = '''"""A minimal stand-in for `nni`, written by nni2ray.

What custom tuner and assessor classes import (Tuner, Assessor, AssessResult,
NoMoreTrialError, nni.utils). Standard library only; only tune_adapters.py puts it on
sys.path, the trials never see it."""

from . import utils


class NoMoreTrialError(Exception):
    """Raised by a tuner's `generate_parameters` when it has nothing to suggest."""

    def __init__(self, ErrorInfo="Search space fully explored"):
        super().__init__(ErrorInfo)
        self.errorinfo = ErrorInfo
'''


def adapter_files() -> dict[str, str]:
    """The files of ``nni_algorithms/``, relative to the converted project."""
    shim = Path(__file__).resolve().parents[2] / "trials" / "_shim" / "nni"
    files = {
        f"{ALGORITHMS_DIR}/tune_adapters.py": ADAPTERS,
        f"{ALGORITHMS_DIR}/nni/__init__.py": _STANDIN_INIT,
    }
    for name in _SHIM_FILES:
        files[f"{ALGORITHMS_DIR}/nni/{name}"] = (shim / name).read_text(encoding="utf-8")
    return files


ADAPTERS = '''"""Run a user's NNI tuner or assessor class unchanged as a Tune searcher or scheduler.

Written by nni2ray (standard library + Ray). The call sequence is NNI's, as `nni2ray run`
makes it: the tuner gets `update_search_space` once, is asked for `trialConcurrency`
parameter sets at the start and for one more whenever a trial ends (a request it cannot
serve, `NoMoreTrialError`, is dropped), gets each final result with
`receive_trial_result(parameter_id, parameters, value)` and `trial_end(parameter_id,
success)`. The assessor gets `assess_trial(trial_id, history)` after every intermediate
result and `trial_end(trial_id, success)`; a Bad verdict stops the trial.

A class that raises in `receive_trial_result` or `trial_end` (NNI's own TPE does, with a
KeyError) does not end the run: its traceback is printed and appended to ERRORS_FILE, and
the trials go on. An error in `generate_parameters` ends the run with its traceback.
"""

import copy
import importlib
import sys
import traceback
from collections import deque
from pathlib import Path

from ray.tune.schedulers import FIFOScheduler, TrialScheduler
from ray.tune.search import Searcher

HERE = Path(__file__).resolve().parent
#: Where the tracebacks of the calls that raised are kept (the converted project's folder).
ERRORS_FILE = HERE.parent / "algorithm_errors.txt"
FINAL_KEY = "final_result"
# Keys Ray Tune adds to a result; the rest is what the trial reported.
TUNE_KEYS = {
    "checkpoint_dir_name", "config", "date", "done", "experiment_tag", "hostname",
    "iterations_since_restore", "node_ip", "pid", "should_checkpoint", "time_since_restore",
    "time_this_iter_s", "time_total_s", "timestamp", "training_iteration", "trial_id",
    FINAL_KEY,
}


def load(class_name, code_directory, class_args):
    """Import `module.Class` from `code_directory` with the stand-in `nni`; build it."""
    for folder in (str(HERE), str(code_directory)):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    module_name, _, name = class_name.rpartition(".")
    return getattr(importlib.import_module(module_name), name)(**class_args)


def recorded_call(algorithm, method, *args, **kwargs):
    """Call `algorithm.method`; an exception is printed, kept in ERRORS_FILE, and swallowed
    (the run goes on, as `nni2ray run` does): returns False then, else True."""
    try:
        getattr(algorithm, method)(*args, **kwargs)
    except Exception:
        where = f"{type(algorithm).__name__}.{method}"
        text = f"the custom class {where} raised (the run goes on):\\n{traceback.format_exc()}"
        print(text, file=sys.stderr, end="", flush=True)
        with open(ERRORS_FILE, "a", encoding="utf-8") as errors:
            errors.write(text)
        return False
    return True


def reported(result):
    """The metric as the trial reported it: a number, or the dict it reported."""
    value = {}
    for key, item in result.items():
        if key in TUNE_KEYS or key.startswith("config/"):
            continue
        node = value
        *parents, last = key.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = item
    return value["default"] if set(value) == {"default"} else value


class CustomTunerSearch(Searcher):
    """The user's tuner as a Tune searcher (suggests `{"nni_params": parameters}`)."""

    def __init__(self, tuner, search_space, concurrency, mode):
        super().__init__(metric="default", mode=mode)
        self.tuner = tuner
        self.tuner.update_search_space(search_space)
        self.credits = max(1, concurrency)
        self.next_id = 0
        self.pushed = deque()
        self.trials = {}  # Tune trial id -> [parameter_id, parameters, finals seen]

    def set_search_properties(self, metric, mode, config, **spec):
        return True

    def suggest(self, trial_id):
        if not self.pushed and self.credits > 0:
            self._request()
        if self.pushed:
            parameter_id, parameters = self.pushed.popleft()
            self.trials[trial_id] = [parameter_id, copy.deepcopy(parameters), False]
            return {"nni_params": parameters}
        return None if self.trials else Searcher.FINISHED

    def _request(self):
        self.credits -= 1
        parameter_id = self.next_id
        self.next_id += 1
        try:
            generated = self.tuner.generate_multiple_parameters(
                [parameter_id], st_callback=self._push
            )
        except Exception as exc:
            if type(exc).__name__ != "NoMoreTrialError":
                raise
            generated = []
        if not generated:
            self.credits = 0  # NNI drops the rest of a request the tuner cannot serve
            return
        self.pushed.appendleft((parameter_id, generated[0]))

    def _push(self, parameter_id, parameters):
        self.pushed.append((parameter_id, parameters))

    def on_trial_result(self, trial_id, result):
        self._observe(trial_id, result)

    def _observe(self, trial_id, result):
        trial = self.trials.get(trial_id)
        if trial is not None and result.get(FINAL_KEY) and not trial[2]:
            trial[2] = True
            parameters = copy.deepcopy(trial[1])
            recorded_call(
                self.tuner,
                "receive_trial_result",
                trial[0],
                parameters,
                reported(result),
                customized=False,
                trial_job_id=trial_id,
            )

    def on_trial_complete(self, trial_id, result=None, error=False):
        if not error and result:
            self._observe(trial_id, result)
        trial = self.trials.pop(trial_id, None)
        if trial is None:
            return
        self.credits += 1  # NNI asks for one new trial whenever a trial ends
        recorded_call(self.tuner, "trial_end", trial[0], not error and trial[2])


class CustomAssessorScheduler(FIFOScheduler):
    """The user's assessor as a Tune scheduler: Bad stops the trial, Good lets it run."""

    def __init__(self, assessor):
        super().__init__()
        self.assessor = assessor
        self.histories = {}
        self.finals = set()
        self.stopped = set()

    def on_trial_result(self, tune_controller, trial, result):
        if result.get(FINAL_KEY):
            self.finals.add(trial.trial_id)
            return TrialScheduler.CONTINUE
        if trial.trial_id in self.stopped:
            return TrialScheduler.CONTINUE
        history = self.histories.setdefault(trial.trial_id, [])
        history.append(reported(result))
        verdict = self.assessor.assess_trial(trial.trial_id, list(history))
        good = bool(verdict.value) if type(verdict).__name__ == "AssessResult" else bool(verdict)
        if not good:
            self.stopped.add(trial.trial_id)
            return TrialScheduler.STOP
        return TrialScheduler.CONTINUE

    def on_trial_complete(self, tune_controller, trial, result):
        self._end(trial, trial.trial_id in self.finals)

    def on_trial_error(self, tune_controller, trial):
        self._end(trial, False)

    def on_trial_remove(self, tune_controller, trial):
        self._end(trial, False)

    def _end(self, trial, success):
        if self.histories.pop(trial.trial_id, None):
            recorded_call(self.assessor, "trial_end", trial.trial_id, success)

    def debug_string(self):
        return f"custom assessor {type(self.assessor).__name__}"


def custom_searcher(class_name, code_directory, class_args, search_space, concurrency, mode):
    tuner = load(class_name, code_directory, class_args)
    return CustomTunerSearch(tuner, search_space, concurrency, mode)


def custom_scheduler(class_name, code_directory, class_args):
    return CustomAssessorScheduler(load(class_name, code_directory, class_args))
'''
