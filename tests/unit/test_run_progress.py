"""The run's terminal output: the first line, the live status line, one line per event."""

from __future__ import annotations

import io

import pytest

from nni2ray.experiment import load_experiment
from nni2ray.results import TrialRecord
from nni2ray.runtime import plan_line
from nni2ray.runtime._progress import Progress, Tally, status_line
from nni2ray.translate import translate
from tests.unit.test_view_list_show import record

FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[2] / "fixtures" / "experiments"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_first_line_names_searcher_scheduler_and_limits() -> None:
    plan = translate(load_experiment(FIXTURES / "nested_choice"))
    line = plan_line(plan)
    assert line.startswith(
        "nni2ray: running digits_mlp_nested_optimizer: TPE as Optuna's TPESampler with a "
        "constant liar (Ray Tune's OptunaSearch); "
    )
    assert (
        "ASHA early stopping (the config has no assessor; --scheduler none to turn it off)" in line
    )
    assert line.endswith("; 6 trials, 2 at a time, at most 10m00s")
    chosen = plan_line(
        translate(load_experiment(FIXTURES / "nested_choice"), scheduler="asha"), "asha"
    )
    assert "ASHA early stopping;" in chosen  # asked for: nothing to explain
    none = translate(load_experiment(FIXTURES / "nested_choice"), scheduler="none")
    assert "; no early stopping;" in plan_line(none, "none")
    median = plan_line(translate(load_experiment(FIXTURES / "medianstop_assessor")))
    assert "median-stop early stopping for the assessor Medianstop" in median


def records() -> list[TrialRecord]:
    return [
        record("t1", 0, "SUCCEEDED", 0.5),
        record("t2", 1, "FAILED", None),
        record("t3", 2, "RUNNING", None),
        record("t4", 3, "EARLY_STOPPED", None),
    ]


def tally() -> Tally:
    return Tally.of(records(), "max")


def tracked(progress: Progress) -> Progress:
    for r in records():
        progress.track(r)
    return progress


def test_status_line_counts_best_and_trials_left() -> None:
    assert status_line(tally(), 12.3, total=10) == (
        "[   12s] 1 done, 1 running, 1 failed, 1 early-stopped | best 0.5 (trial t1) "
        "| 6 trials left"
    )
    assert status_line(tally(), 1, total=5).endswith("| 1 trial left")
    assert "left" not in status_line(tally(), 1)


@pytest.mark.parametrize("mode", ["max", "min"])
def test_the_tally_follows_each_change_as_a_full_count_would(mode: str) -> None:
    from collections import Counter

    from nni2ray.results import rank

    live = Tally(mode)
    kept: dict[str, TrialRecord] = {}
    changes = [
        record("a", 0, "RUNNING", None),
        record("b", 1, "RUNNING", None),
        record("a", 0, "SUCCEEDED", 0.4),
        record("c", 2, "SUCCEEDED", 0.9),
        record("b", 1, "SUCCEEDED", 0.1),
        record("c", 2, "RUNNING", None),  # a retry replaces the best trial's record
        record("d", 3, "SUCCEEDED", 0.4),  # a tie keeps the earlier trial
        record("e", 4, "FAILED", None),
    ]
    for change in changes:
        live.track(change)
        kept[change.trial_id] = change
        full = rank(list(kept.values()), mode)
        assert live.counts == Counter(r.status for r in kept.values())
        assert (live.best.trial_id if live.best else None) == (full[0].trial_id if full else None)
        assert len(live) == len(kept)


def test_on_a_terminal_one_line_is_redrawn_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = Terminal()
    progress = tracked(Progress(out, mode="max", total=8, started=0.0))
    progress.status(event=True)
    progress.report("t3", 2, {"default": 0.25, "loss": 1})
    progress.status(event=True)
    progress.say("nni2ray: warning: something")
    progress.status(event=True)
    progress.close()
    text = out.getvalue()
    assert text.startswith("\r\x1b[2K[")
    assert text.count("\n") == 2  # the kept line and the end of the live line
    assert "| t3 step 2: 0.25" in text
    assert "\r\x1b[2Knni2ray: warning: something\n\r\x1b[2K[" in text
    assert text.endswith("trials left | t3 step 2: 0.25\n")


def test_the_live_line_fits_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    out = Terminal()
    tracked(Progress(out, total=8)).status(event=True)
    assert out.getvalue() == "\r\x1b[2K" + status_line(tally(), 0, 8)[:39]


def test_elsewhere_one_line_per_event_and_no_control_codes() -> None:
    out = io.StringIO()
    progress = tracked(Progress(out, mode="max", total=8))
    for _ in range(3):
        progress.status(event=False)  # results, steps: no line
    progress.status(event=True)
    progress.status(event=True)
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("[") and "\x1b" not in line for line in lines)


def test_quiet_writes_nothing() -> None:
    out = Terminal()
    progress = Progress(out, quiet=True)
    progress.say("x")
    tracked(progress).status(event=True)
    progress.close()
    assert out.getvalue() == ""
