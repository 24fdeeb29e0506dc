"""NNI's Medianstop rule, pinned by a table (the scheduler claims to be exact).

NNI judges a trial with at least ``start_step`` results: its best value so far against the
median, over SUCCEEDED trials with at least as many results, of their running averages at
the same step. Maximize takes the lower middle of an even count, minimize the upper one.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ray.tune.schedulers import TrialScheduler

from nni2ray.runtime.schedulers import MedianstopScheduler
from nni2ray.trials import FAILED, SUCCEEDED


def _finish(scheduler: MedianstopScheduler, name: str, history: list[float], status: str) -> None:
    trial = SimpleNamespace(trial_id=name)
    for value in history:
        scheduler.on_trial_result(None, trial, {"default": value})
    scheduler.on_trial_complete(None, trial, {"nni_status": status})


def _verdicts(scheduler: MedianstopScheduler, history: list[float], name: str = "j") -> list[str]:
    trial = SimpleNamespace(trial_id=name)
    return [scheduler.on_trial_result(None, trial, {"default": value}) for value in history]


STOP, GO = TrialScheduler.STOP, TrialScheduler.CONTINUE

# mode, start_step, completed histories (all SUCCEEDED), judged history, verdict per step
TABLE = [
    pytest.param("maximize", 0, [[1], [3], [5]], [2], [STOP], id="max-odd-below-median"),
    pytest.param("maximize", 0, [[1], [3], [5]], [3], [GO], id="max-odd-at-median"),
    pytest.param("maximize", 0, [[1], [3], [5], [7]], [2.5], [STOP], id="max-even-lower-middle"),
    pytest.param("maximize", 0, [[1], [3], [5], [7]], [3], [GO], id="max-even-at-lower-middle"),
    pytest.param("minimize", 0, [[1], [3], [5]], [4], [STOP], id="min-odd-above-median"),
    pytest.param("minimize", 0, [[1], [3], [5]], [3], [GO], id="min-odd-at-median"),
    pytest.param("minimize", 0, [[1], [3], [5], [7]], [5.5], [STOP], id="min-even-upper-middle"),
    pytest.param("minimize", 0, [[1], [3], [5], [7]], [5], [GO], id="min-even-at-upper-middle"),
    # running averages: [1, 5] averages 1 then 3; the best so far counts, not the last value
    pytest.param("maximize", 0, [[1, 5]], [2, 2.9], [GO, STOP], id="running-average"),
    pytest.param("maximize", 0, [[1, 5]], [3.5, 0], [GO, GO], id="best-so-far"),
    # a completed trial shorter than the judged one has no average at that step
    pytest.param("maximize", 0, [[10]], [1, 1], [STOP, GO], id="shorter-trials-ignored"),
    # nothing is judged before start_step results
    pytest.param("maximize", 2, [[5, 5], [5, 5]], [0, 0], [GO, STOP], id="start-step"),
    # a trial that ended with fewer than start_step results is not a reference
    pytest.param("maximize", 2, [[100]], [0, 0], [GO, GO], id="start-step-references"),
    pytest.param("maximize", 0, [], [0], [GO], id="no-completed-trial"),
]


@pytest.mark.parametrize(("mode", "start", "completed", "judged", "expected"), TABLE)
def test_medianstop_rule(
    mode: str, start: int, completed: list[list[float]], judged: list[float], expected: list[str]
) -> None:
    scheduler = MedianstopScheduler(optimize_mode=mode, start_step=start)
    for number, history in enumerate(completed):
        _finish(scheduler, f"done{number}", history, SUCCEEDED)
    assert _verdicts(scheduler, judged) == expected


def test_only_succeeded_trials_are_references() -> None:
    scheduler = MedianstopScheduler(optimize_mode="maximize")
    _finish(scheduler, "failed", [100.0], FAILED)
    assert _verdicts(scheduler, [0.0]) == [GO]
    _finish(scheduler, "ok", [100.0], SUCCEEDED)
    assert _verdicts(scheduler, [0.0], name="j2") == [STOP]
