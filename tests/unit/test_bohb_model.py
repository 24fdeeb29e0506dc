"""BOHB's model: nni2ray's KDE model (NNI's rules), NNI's own CG_BOHB, and the plan side."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from nni2ray.errors import MissingDependencyError, UnsupportedError
from nni2ray.experiment import load_experiment
from nni2ray.experiment.model import Parameter, SearchSpace
from nni2ray.notes import Severity
from nni2ray.runtime.searchers._bohb_model import (
    MODEL,
    RANDOM,
    BohbArgs,
    KdeModel,
    NniBohbModel,
    RandomSource,
)
from nni2ray.runtime.searchers._hyperband import BracketSearch, bohb_source
from nni2ray.translate import runs_as, translate
from nni2ray.translate.tuners import brackets
from nni2ray.translate.tuners.brackets import nni_model_problem
from nni2ray.trials import FINAL, PARAMETERS_KEY, ResultKey

FIXTURE = Path(__file__).parents[2] / "fixtures" / "experiments" / "bohb_advisor"
SPACE = {
    "x": {"_type": "uniform", "_value": [-5, 10]},
    "y": {"_type": "uniform", "_value": [0, 15]},
}
MIXED = {
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "q": {"_type": "quniform", "_value": [0, 10, 0.5]},
    "k": {"_type": "randint", "_value": [1, 10]},
    "n": {"_type": "normal", "_value": [0, 1]},
    "c": {"_type": "choice", "_value": [1, "a", [2, 3]]},
    "opt": {
        "_type": "choice",
        "_value": [
            {"_name": "sgd", "m": {"_type": "uniform", "_value": [0, 1]}},
            {"_name": "adam"},
        ],
    },
}


def _loss(p: dict[str, Any]) -> float:
    return (p["x"] - 2) ** 2 + (p["y"] - 3) ** 2


def _run(model: Any, n: int, budget: float = 1) -> list[Any]:
    proposals = []
    for _ in range(n):
        proposal = model.propose(budget)
        proposals.append(proposal)
        model.observe(proposal.token, budget, _loss(proposal.params))
    return proposals


def test_random_below_min_points_in_model_then_the_model() -> None:
    model = KdeModel(SPACE, BohbArgs(min_points_in_model=6, random_fraction=0), seed=1)
    assert model.min_points == 6
    # n_good = max(6, 15% of n) = 6; the bad points (the rest, up to max(6, 85% of n)) need
    # more rows than dimensions (2): the model comes with the 9th point.
    first = _run(model, 8)
    assert [p.source for p in first] == [RANDOM] * 8
    assert model.model_budget() is None
    assert _run(model, 1)[0].source == RANDOM
    assert model.model_budget() == 0  # NNI 3.0 pools every budget as budget 0
    assert {p.source for p in _run(model, 5)} == {MODEL}


def test_min_points_is_at_least_dimensions_plus_one() -> None:
    assert KdeModel(SPACE, BohbArgs(min_points_in_model=1)).min_points == 3
    assert KdeModel(SPACE, BohbArgs()).min_points == 3


def test_good_bad_split_follows_top_n_percent() -> None:
    model = KdeModel(SPACE, BohbArgs(top_n_percent=30, random_fraction=1), seed=2)
    proposals = _run(model, 40)
    split = model.good_bad(0)
    assert split is not None
    good, bad = split
    # n_good = max(3, 30 * 40 // 100) = 12; n_bad = max(3, 70 * 40 // 100) = 28.
    assert (len(good), len(bad)) == (12, 28)
    losses = sorted(_loss(p.params) for p in proposals)
    worst_good = max(_loss(model._decode(row)) for row in good)
    best_bad = min(_loss(model._decode(row)) for row in bad)
    assert worst_good == pytest.approx(losses[11]) and best_bad == pytest.approx(losses[12])


def test_random_fraction_one_never_uses_the_model() -> None:
    model = KdeModel(SPACE, BohbArgs(random_fraction=1), seed=3)
    assert {p.source for p in _run(model, 30)} == {RANDOM}
    assert model.model_budget() == 0  # fitted, but never asked


def test_every_budget_goes_into_one_model_as_nni_feeds_it() -> None:
    model = KdeModel(SPACE, BohbArgs(random_fraction=0), seed=4)
    _run(model, 4, budget=1)
    _run(model, 5, budget=9)
    assert model.model_budget() == 0 and len(model._observed[0]) == 9


def test_per_budget_the_largest_budget_with_a_model_proposes() -> None:
    model = KdeModel(SPACE, BohbArgs(random_fraction=0), seed=4, per_budget=True)
    _run(model, 8, budget=1)
    _run(model, 8, budget=9)
    assert model.model_budget() == 9
    before = len(model._observed[1])
    _run(model, 3, budget=1)  # a smaller budget than the modelled one: not kept (NNI's rule)
    assert len(model._observed[1]) == before


def test_proposals_concentrate_near_the_optimum() -> None:
    # The model's proposals land nearer the optimum (2, 3) than random draws do.
    model = KdeModel(SPACE, BohbArgs(random_fraction=0), seed=5)
    _run(model, 20)
    late = _run(model, 30)
    assert {p.source for p in late} == {MODEL}
    model_median = statistics.median(_loss(p.params) for p in late)
    rand = KdeModel(SPACE, BohbArgs(random_fraction=1), seed=5)
    random_median = statistics.median(_loss(p.params) for p in _run(rand, 30))
    assert model_median < random_median / 5


def test_every_nni_type_decodes_to_valid_values_from_the_model() -> None:
    model = KdeModel(MIXED, BohbArgs(random_fraction=0), seed=6)
    seen_model = 0
    for i in range(60):
        proposal = model.propose(1)
        p = proposal.params
        seen_model += proposal.source == MODEL
        assert 1e-4 <= p["lr"] <= 1e-1
        assert p["q"] % 0.5 == 0 and 0 <= p["q"] <= 10 and isinstance(p["q"], float)
        assert isinstance(p["k"], int) and 1 <= p["k"] <= 9
        assert math.isfinite(p["n"])
        assert p["c"] in (1, "a", [2, 3])
        assert p["opt"]["_name"] in ("sgd", "adam")
        if p["opt"]["_name"] == "sgd":
            assert 0 <= p["opt"]["m"] <= 1
        else:
            assert set(p["opt"]) == {"_name"}
        model.observe(proposal.token, 1, abs(p["n"]) + p["q"] + (i % 3))
    assert seen_model > 20


def test_same_seed_same_proposals() -> None:
    a = [p.params for p in _run(KdeModel(SPACE, seed=7), 30)]
    b = [p.params for p in _run(KdeModel(SPACE, seed=7), 30)]
    assert a == b


def test_nni_cg_bohb_supplies_configurations() -> None:
    pytest.importorskip("ConfigSpace", reason="pip install ConfigSpace statsmodels")
    pytest.importorskip("nni", reason="pip install 'nni2ray[nni]'")
    model = NniBohbModel(SPACE, BohbArgs(random_fraction=0), seed=8)
    proposals = _run(model, 25)
    assert [p.source for p in proposals[:3]] == [RANDOM] * 3  # no model yet
    assert {p.source for p in proposals[-5:]} == {MODEL}
    assert all(isinstance(v, float) for p in proposals for v in p.params.values())
    again = _run(NniBohbModel(SPACE, BohbArgs(random_fraction=0), seed=8), 25)
    assert [p.params for p in again] == [p.params for p in proposals]  # its own numpy state


def test_nni_model_problem_names_what_nni_cannot_convert() -> None:
    assert nni_model_problem(SPACE) is None
    assert "quniform" in (nni_model_problem(MIXED) or "")
    nested = {"opt": MIXED["opt"]}
    assert "nested choice 'opt'" in (nni_model_problem(nested) or "")


# -- the searcher ---------------------------------------------------------------------------


def _final(value: float, iteration: int = 1) -> dict[str, Any]:
    return {
        ResultKey.TYPE: FINAL,
        ResultKey.VALUE_JSON: str(value),
        "training_iteration": iteration,
    }


def test_bracket_search_feeds_each_final_result_once_and_records_sources() -> None:
    space = SearchSpace((Parameter("x", "uniform", (-5.0, 10.0)),))
    model = KdeModel({"x": SPACE["x"]}, BohbArgs(random_fraction=0), seed=9)
    search = BracketSearch(
        space, max_budget=3, eta=3, serial=True, id_style="bohb", maximize=False, source=model
    )
    learned: list[float] = []
    observe = model.observe
    model.observe = lambda token, budget, loss: (
        learned.append(budget),
        observe(token, budget, loss),
    )  # type: ignore[method-assign]
    for n in range(30):
        trial = f"t{n}"
        config = search.suggest(trial)
        if config is None:
            break
        x = config[PARAMETERS_KEY]["x"]
        search.on_trial_result(trial, _final((x - 2) ** 2))
        search.on_trial_complete(trial, _final((x - 2) ** 2))  # the same result again
    assert len(learned) == 30  # each final result once, with its TRIAL_BUDGET
    assert set(learned) == {1, 3}
    report = search.run_report()["bohbModel"]
    assert report["generator"] == "native"
    assert report["model"] > 0 and report["model"] + report["random"] == len(search.sources)
    assert set(report["sources"].values()) <= {MODEL, RANDOM}


def test_hyperband_keeps_random_formulas_and_reports_nothing() -> None:
    space = SearchSpace((Parameter("x", "uniform", (-5.0, 10.0)),))
    search = BracketSearch(space, max_budget=9, eta=3, seed=1)
    assert isinstance(search.source, RandomSource)
    assert search.run_report() == {}


# -- the plan -------------------------------------------------------------------------------


def test_plan_native_model_with_classargs() -> None:
    plan = translate(load_experiment(FIXTURE), algorithm_backend="native")
    kwargs = plan.searcher.kwargs
    assert kwargs["model"] == "native"
    assert kwargs["model_args"] == {
        "min_points_in_model": None,
        "top_n_percent": 15,
        "num_samples": 64,
        "random_fraction": 0.2,
        "bandwidth_factor": 3.0,
        "min_bandwidth": 1e-3,
    }
    messages = [n.message for n in plan.notes]
    assert brackets.BOHB_NATIVE_MODEL in messages and brackets.BOHB_SAMPLING not in messages
    lines = runs_as(plan, "native")
    assert "configurations from nni2ray's BOHB model" in lines[1]
    assert "backend native (--algorithm-backend native)" in lines[-1]


def test_plan_without_statsmodels_is_random_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = brackets.installed
    monkeypatch.setattr(brackets, "installed", lambda p: p != "statsmodels" and real(p))
    plan = translate(load_experiment(FIXTURE), algorithm_backend="native")
    assert plan.searcher.kwargs["model"] == "random"
    warning = [n for n in plan.notes if n.severity == Severity.WARNING]
    assert "pip install 'nni2ray[bohb]'" in warning[0].message
    assert brackets.BOHB_SAMPLING in [n.message for n in plan.notes]


def test_plan_nni_backend_uses_cg_bohb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(brackets, "installed", lambda p: True)
    plan = translate(load_experiment(FIXTURE), algorithm_backend="auto")
    assert plan.searcher.kwargs["model"] == "nni" and plan.searcher.exact
    assert [n.severity for n in plan.notes if "BOHB" in n.message][0] == Severity.EXACT
    lines = runs_as(plan, "auto")
    assert "configurations from NNI's own BOHB model (CG_BOHB" in lines[1]
    assert lines[-1].startswith("  backend nni (--algorithm-backend auto)")


def test_nni_backend_errors_and_auto_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(brackets, "installed", lambda p: p != "ConfigSpace")
    with pytest.raises(MissingDependencyError, match="needs ConfigSpace"):
        translate(load_experiment(FIXTURE), algorithm_backend="nni")
    plan = translate(load_experiment(FIXTURE), algorithm_backend="auto")
    assert plan.searcher.kwargs["model"] == "native"
    assert any("needs ConfigSpace" in n.message for n in plan.notes)


def test_bad_model_classarg_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "exp"
    folder.mkdir()
    for name in ("main.py", "search_space.json"):
        (folder / name).write_text((FIXTURE / name).read_text())
    config = (
        (FIXTURE / "config.yml").read_text().replace("random_fraction: 0.2", "top_n_percent: 100")
    )
    (folder / "config.yml").write_text(config)
    with pytest.raises(UnsupportedError, match=r"top_n_percent must be an integer in \[1, 99\]"):
        translate(load_experiment(folder))


def test_fallback_source_when_the_model_cannot_be_built(capsys: pytest.CaptureFixture[str]) -> None:
    plan = translate(load_experiment(FIXTURE), algorithm_backend="native")
    experiment = load_experiment(FIXTURE)
    assert experiment.search_space is not None
    kwargs = dict(plan.searcher.kwargs, model="nni", backend="auto")
    quantized = {"q": {"_type": "quniform", "_value": [0, 1, 0.5]}}
    from dataclasses import replace

    odd = replace(plan, searcher=replace(plan.searcher, kwargs=kwargs), search_space=quantized)
    source = bohb_source(odd, experiment.search_space)
    assert isinstance(source, KdeModel)  # NNI's conversion rejects quniform on ConfigSpace 1.x
    assert "NNI's BOHB model (CG_BOHB) is not used" in capsys.readouterr().err
