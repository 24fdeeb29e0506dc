"""NNI's Hyperband/BOHB bracket schedule, and the searcher's call sequence with fake trials."""

from __future__ import annotations

from typing import Any

import pytest
from ray.tune.search import Searcher

from nni2ray.experiment.model import Parameter, SearchSpace
from nni2ray.runtime.searchers._hyperband import BracketSearch
from nni2ray.translate.tuners import bracket_rounds, s_max_of, schedule
from nni2ray.trials import PARAMETERS_KEY, SEQUENCE_KEY

# The schedules NNI's Hyperband implements, as (trials, budget) per round: bracket s starts
# n = ceil((s_max + 1) * eta**s / (s + 1)) trials at budget R / eta**s, and round i keeps
# floor(n / eta**i) of them at budget floor(r * eta**i).
REFERENCE = {
    (27, 3): {
        3: [(27, 1), (9, 3), (3, 9), (1, 27)],
        2: [(12, 3), (4, 9), (1, 27)],
        1: [(6, 9), (2, 27)],
        0: [(4, 27)],
    },
    (60, 3): {
        3: [(27, 2), (9, 6), (3, 20), (1, 60)],
        2: [(12, 6), (4, 20), (1, 60)],
        1: [(6, 20), (2, 60)],
        0: [(4, 60)],
    },
    (81, 3): {
        4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        3: [(34, 3), (11, 9), (3, 27), (1, 81)],
        2: [(15, 9), (5, 27), (1, 81)],
        1: [(8, 27), (2, 81)],
        0: [(5, 81)],
    },
    (9, 3): {2: [(9, 1), (3, 3), (1, 9)], 1: [(5, 3), (1, 9)], 0: [(3, 9)]},
}


@pytest.mark.parametrize(
    ("r", "eta"), list(REFERENCE), ids=[f"R{r}-eta{eta}" for r, eta in REFERENCE]
)
def test_hyperband_schedule_matches_reference_tables(r: int, eta: int) -> None:
    assert schedule(r, eta) == REFERENCE[(r, eta)]
    assert list(schedule(r, eta)) == sorted(REFERENCE[(r, eta)], reverse=True)  # s_max first


@pytest.mark.parametrize(
    ("max_budget", "eta", "min_budget", "expected"),
    [
        pytest.param(3, 3, 1, {1: [(3, 1), (1, 3)], 0: [(2, 3)]}, id="bohb-defaults"),
        pytest.param(
            27,
            3,
            3,
            {2: [(9, 3), (3, 9), (1, 27)], 1: [(5, 9), (1, 27)], 0: [(3, 27)]},
            id="bohb-min3-max27",
        ),
        pytest.param(1, 3, 1, {0: [(1, 1)]}, id="single-budget"),
    ],
)
def test_bohb_schedule(
    max_budget: float, eta: int, min_budget: float, expected: dict[int, list[tuple[int, int]]]
) -> None:
    assert schedule(max_budget, eta, min_budget) == expected


def test_s_max_tolerates_float_logs() -> None:
    # log(243, 3) is 4.999999... in floating point; NNI adds an epsilon before flooring.
    assert s_max_of(243, 3) == 5
    assert bracket_rounds(0, 5, 243, 3) == [(6, 243)]


SPACE = SearchSpace((Parameter("lr", "uniform", (0.0, 1.0)),))


def _finish(searcher: Searcher, trial_id: str, value: float, *, error: bool = False) -> None:
    result = {"nni_type": "FINAL", "nni_value_json": str(value), "nni_status": "SUCCEEDED"}
    searcher.on_trial_complete(trial_id, None if error else result, error=error)


def _suggest(searcher: Searcher, trial_id: str) -> dict[str, Any] | None:
    config = searcher.suggest(trial_id)
    if config is None:
        return None
    assert set(config) == {PARAMETERS_KEY, SEQUENCE_KEY}
    return config[PARAMETERS_KEY]


def test_serial_bracket_waits_for_its_round_and_promotes_the_best() -> None:
    searcher = BracketSearch(SPACE, max_budget=9, eta=3, serial=True, seed=0)
    first = [_suggest(searcher, f"t{i}") for i in range(9)]
    assert [p["TRIAL_BUDGET"] for p in first] == [1] * 9
    assert searcher.parameter_ids["t0"] == "0-2_0_0"
    assert searcher.parameter_ids["t8"] == "0-2_0_8"
    assert _suggest(searcher, "wait") is None  # round 0 still running: serial waits
    values = [0.5, 0.9, 0.1, 0.7, 0.2, 0.3, 0.8, 0.4, 0.6]
    for i, value in enumerate(values):
        _finish(searcher, f"t{i}", value)
    second = [_suggest(searcher, f"u{i}") for i in range(3)]
    # The 3 best of round 0 (0.9, 0.8, 0.7), best first, same hyperparameters, budget 3.
    assert [p["lr"] for p in second] == [first[i]["lr"] for i in (1, 6, 3)]
    assert [p["TRIAL_BUDGET"] for p in second] == [3, 3, 3]
    assert [searcher.parameter_ids[f"u{i}"] for i in range(3)] == ["0-2_1_1", "0-2_1_6", "0-2_1_3"]
    assert _suggest(searcher, "wait") is None
    for i, value in enumerate([0.2, 0.95, 0.5]):
        _finish(searcher, f"u{i}", value)
    last = _suggest(searcher, "v0")
    assert last == dict(first[6], TRIAL_BUDGET=9)
    assert _suggest(searcher, "wait") is None
    _finish(searcher, "v0", 0.99)
    # Bracket s=1 starts only now: 5 new configurations with budget 3.
    following = [_suggest(searcher, f"w{i}") for i in range(5)]
    assert [p["TRIAL_BUDGET"] for p in following] == [3] * 5
    assert searcher.parameter_ids["w0"] == "0-1_0_9"


def test_parallelism_starts_the_next_bracket_when_a_slot_is_free() -> None:
    searcher = BracketSearch(SPACE, max_budget=9, eta=3, serial=False, seed=0)
    budgets = [_suggest(searcher, f"t{i}")["TRIAL_BUDGET"] for i in range(9)]  # type: ignore[index]
    budgets += [_suggest(searcher, f"n{i}")["TRIAL_BUDGET"] for i in range(6)]  # type: ignore[index]
    # s=2 round 0 (9 x 1), then s=1 round 0 (5 x 3), then s=0 (3 x 9) ...
    assert budgets == [1] * 9 + [3] * 5 + [9]
    for i in range(9):
        _finish(searcher, f"t{i}", float(i))
    # Promotions queue behind what is already queued (NNI's single list): s=0's other 2.
    queued = [_suggest(searcher, f"p{i}")["TRIAL_BUDGET"] for i in range(5)]  # type: ignore[index]
    assert queued == [9, 9, 3, 3, 3]


def test_bracket_repeats_forever_with_a_new_iteration_index() -> None:
    searcher = BracketSearch(SPACE, max_budget=3, eta=3, serial=False, seed=0)
    for i in range(3 + 2):  # s=1 round 0 (3 configs) and s=0 (2 configs)
        _suggest(searcher, f"t{i}")
    _suggest(searcher, "again")
    assert searcher.parameter_ids["again"] == "1-1_0_5"


def test_minimize_ranks_lowest_first_and_final_beats_intermediate() -> None:
    searcher = BracketSearch(SPACE, max_budget=3, eta=3, maximize=False, serial=True, seed=1)
    configs = [_suggest(searcher, f"t{i}") for i in range(3)]
    # t0 reported a low intermediate value but a high final one: the final counts.
    searcher.on_trial_result(
        "t0", {"nni_type": "PERIODICAL", "nni_sequence": 0, "default": 0.0, "nni_value_json": "0.0"}
    )
    _finish(searcher, "t0", 5.0)
    _finish(searcher, "t1", 2.0)
    # t2 was stopped after one intermediate result: its latest metric ranks it.
    searcher.on_trial_complete(
        "t2", {"nni_type": "PERIODICAL", "nni_sequence": 0, "nni_value_json": "1.0"}
    )
    assert _suggest(searcher, "best") == dict(configs[2], TRIAL_BUDGET=3)


def test_trials_without_a_metric_are_not_promoted() -> None:
    searcher = BracketSearch(SPACE, max_budget=3, eta=3, serial=True, seed=2)
    for i in range(3):
        _suggest(searcher, f"t{i}")
    for i in range(3):
        _finish(searcher, f"t{i}", 0.0, error=True)
    # Nothing to promote: the bracket ends and the next one (s=0, 2 x budget 3) starts.
    assert [_suggest(searcher, f"n{i}")["TRIAL_BUDGET"] for i in range(2)] == [3, 3]  # type: ignore[index]
    assert searcher.parameter_ids["n0"] == "0-0_0_3"


def test_bohb_ids_and_sequence_numbers() -> None:
    searcher = BracketSearch(SPACE, max_budget=3, eta=3, serial=True, seed=0, id_style="bohb")
    configs = [searcher.suggest(f"t{i}") for i in range(3)]
    assert [c[SEQUENCE_KEY] for c in configs if c] == [0, 1, 2]
    assert searcher.parameter_ids["t2"] == "1_0_2"


def test_converted_projects_keep_the_asha_approximation() -> None:
    from pathlib import Path

    from nni2ray.experiment import load_experiment
    from nni2ray.notes import Severity
    from nni2ray.translate import translate
    from nni2ray.translate.tuners import advisor_without_nni2ray

    folder = Path(__file__).resolve().parents[2] / "fixtures" / "experiments" / "hyperband_advisor"
    plan = advisor_without_nni2ray(translate(load_experiment(folder)))
    assert (plan.searcher.kind, plan.searcher.exact) == ("random", False)
    assert plan.scheduler.kwargs == {"max_t": 9, "reduction_factor": 3, "grace_period": 1}
    assert plan.extra_parameters == {"TRIAL_BUDGET": 9}
    assert [n.severity for n in plan.notes if n.field == "advisor.name"] == [Severity.APPROXIMATED]
