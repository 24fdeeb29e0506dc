"""NNI's PBT rules (nni2ray's searcher): generations, exploit, explore, and the plan side."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from nni2ray.errors import UnsupportedError
from nni2ray.experiment import load_experiment, parse_search_space
from nni2ray.runtime.searchers import PbtPopulation, PbtSearch, build_searcher
from nni2ray.translate import SchedulerKind, SearcherKind, runs_as, translate
from nni2ray.trials import FINAL, PARAMETERS_KEY, SEQUENCE_KEY

SPACE = {
    "lr": {"_type": "uniform", "_value": [0.0, 1.0]},
    "width": {"_type": "choice", "_value": [8, 16, 32, 64]},
}


def _population(space: dict[str, Any] = SPACE, **kwargs: Any) -> PbtPopulation:
    args: dict[str, Any] = {"population_size": 4, "fraction": 0.25, "seed": 1}
    args.update(kwargs)
    return PbtPopulation(parse_search_space(space, file=None), "/ckpt", **args)


def _generation(population: PbtPopulation) -> list[tuple[int, dict[str, Any]]]:
    handed = []
    while (item := population.next()) is not None:
        handed.append(item)
    return handed


def test_first_generation_is_random_with_fresh_folders_then_waits() -> None:
    population = _population()
    first = _generation(population)
    assert len(first) == 4 and population.next() is None  # the generation barrier
    folders = {params["save_checkpoint_dir"] for _, params in first}
    assert folders == {f"/ckpt/{i}/0" for i in range(4)}
    for _, params in first:
        assert params["load_checkpoint_dir"] == params["save_checkpoint_dir"]
        assert 0 <= params["lr"] <= 1 and params["width"] in (8, 16, 32, 64)
    assert len({params["lr"] for _, params in first}) == 4
    for token, _ in first[:3]:
        population.ended(token, 1.0)
        assert population.next() is None  # not until the last trial of it has ended


def test_bottom_loads_the_top_checkpoint_and_perturbs_its_parameters() -> None:
    population = _population(resample_probability=0.0, factor=0.2)
    first = _generation(population)
    scores = {token: float(token) for token, _ in first}  # the last handed out is the best
    for token, _ in first:
        population.ended(token, scores[token])
    second = {params["save_checkpoint_dir"]: params for _, params in _generation(population)}
    assert population.generation == 1
    assert set(second) == {f"/ckpt/{i}/1" for i in range(4)}
    top, bottom = first[3][1], first[0][1]
    child = second["/ckpt/0/1"]  # member 0 ranked last: it exploits member 3
    assert child["load_checkpoint_dir"] == top["save_checkpoint_dir"] == "/ckpt/3/0"
    assert child["lr"] in (
        pytest.approx(min(top["lr"] + 0.2, 1)),
        pytest.approx(max(top["lr"] - 0.2, 0)),
    )
    widths = [8, 16, 32, 64]
    index = widths.index(top["width"])
    assert child["width"] in (widths[min(index + 1, 3)], widths[max(index - 1, 0)])
    assert child["lr"] != bottom["lr"]
    for member in (1, 2, 3):  # the others continue from their own checkpoint, unchanged
        params = second[f"/ckpt/{member}/1"]
        assert params["load_checkpoint_dir"] == f"/ckpt/{member}/0"
        old = first[member][1]
        assert (params["lr"], params["width"]) == (old["lr"], old["width"])


def test_a_failed_trial_ranks_worst_and_minimize_ranks_low_first() -> None:
    population = _population(maximize=False, resample_probability=0.0)
    first = _generation(population)
    population.ended(first[0][0], None)  # failed
    for token, _ in first[1:]:
        population.ended(token, 10.0 + token)  # minimize: member 1 is the best
    second = {p["save_checkpoint_dir"]: p for _, p in _generation(population)}
    assert second["/ckpt/0/1"]["load_checkpoint_dir"] == "/ckpt/1/0"
    assert second["/ckpt/3/1"]["load_checkpoint_dir"] == "/ckpt/3/0"  # 13 is not the bottom


def test_the_same_seed_gives_the_same_generations() -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        population = _population(seed=seed, population_size=5, fraction=0.4)
        seen = []
        for _ in range(3):
            handed = _generation(population)
            for token, params in handed:
                population.ended(token, params["lr"])
            seen += [params for _, params in handed]
        return seen

    assert run(7) == run(7)
    assert run(7) != run(8)


@pytest.mark.parametrize(
    ("spec", "value", "up", "down"),
    [
        ({"_type": "uniform", "_value": [0, 10]}, 9.0, 10.0, 7.0),
        ({"_type": "randint", "_value": [2, 6]}, 5, 5, 4),
        ({"_type": "quniform", "_value": [0, 10, 2.5]}, 5.0, 7.5, 2.5),
        ({"_type": "qloguniform", "_value": [1, 100, 10]}, 10.0, 20.0, 1.0),
        ({"_type": "loguniform", "_value": [1e-4, 1]}, 1e-2, 1e-2 * 10**0.8, 1e-2 / 10**0.8),
        ({"_type": "normal", "_value": [0, 2]}, 1.0, 1.4, 0.6),
        ({"_type": "qnormal", "_value": [0, 1, 0.5]}, 1.0, 1.5, 0.5),
        ({"_type": "lognormal", "_value": [0, 1]}, 2.0, 2 * math.exp(0.2), 2 / math.exp(0.2)),
        ({"_type": "qlognormal", "_value": [0, 1, 1]}, 0.5, 1.5, 1e-10),
        ({"_type": "choice", "_value": ["a", "b", "c"]}, "a", "b", "a"),
    ],
)
def test_each_type_moves_one_step_within_its_range(
    spec: dict[str, Any], value: Any, up: Any, down: Any
) -> None:
    population = _population({"p": spec}, resample_probability=0.0, factor=0.2)
    parameter = parse_search_space({"p": spec}, file=None).parameters[0]
    moved = {_rounded(population.perturb(parameter, value)) for _ in range(60)}
    assert moved == {_rounded(up), _rounded(down)}


def _rounded(value: Any) -> Any:
    return round(value, 9) if isinstance(value, float) else value


def test_resampling_draws_from_the_whole_range() -> None:
    population = _population(resample_probability=1.0)
    parameter = parse_search_space(SPACE, file=None).parameters[0]
    drawn = [population.perturb(parameter, 0.5) for _ in range(200)]
    assert min(drawn) < 0.1 and max(drawn) > 0.9


def test_a_nested_choice_moves_to_a_neighbour_option_with_fresh_sub_parameters() -> None:
    space = {
        "opt": {
            "_type": "choice",
            "_value": [
                {"_name": "sgd", "lr": {"_type": "uniform", "_value": [0, 1]}},
                {"_name": "adam"},
            ],
        }
    }
    population = _population(space, resample_probability=0.0)
    parameter = parse_search_space(space, file=None).parameters[0]
    moved = [population.perturb(parameter, {"_name": "adam"}) for _ in range(40)]
    assert {m["_name"] for m in moved} == {"sgd", "adam"}
    assert all(0 <= m["lr"] <= 1 for m in moved if m["_name"] == "sgd")


def _final(value: float) -> dict[str, Any]:
    return {
        "nni_type": FINAL,
        "nni_sequence": 0,
        "nni_value": value,
        "nni_value_json": json.dumps(value),
        "default": value,
    }


def test_the_searcher_hands_out_nni_parameters_and_waits_for_the_generation() -> None:
    search = PbtSearch(_population(population_size=2, fraction=0.5, resample_probability=0.0))
    a, b = search.suggest("a"), search.suggest("b")
    assert a is not None and b is not None
    assert (a[SEQUENCE_KEY], b[SEQUENCE_KEY]) == (0, 1)
    assert search.suggest("c") is None
    search.on_trial_result("a", _final(5.0))
    search.on_trial_complete("a", result=_final(5.0))
    assert search.suggest("c") is None
    search.on_trial_complete("b", error=True)  # failed: ranks worst, exploits a
    c, d = search.suggest("c"), search.suggest("d")
    assert c is not None and d is not None and search.suggest("e") is None
    loads = {cfg[PARAMETERS_KEY]["load_checkpoint_dir"] for cfg in (c, d)}
    assert loads == {a[PARAMETERS_KEY]["save_checkpoint_dir"]}
    assert (c[SEQUENCE_KEY], d[SEQUENCE_KEY]) == (2, 3)
    # A trial that ended without a final result ranks worst too (NNI would wait forever).
    search.on_trial_complete("c", result=_final(1.0))
    search.on_trial_complete("d", result=dict(_final(9.0), nni_type="PERIODICAL"))
    e = search.suggest("e")
    assert e is not None
    assert e[PARAMETERS_KEY]["load_checkpoint_dir"] == c[PARAMETERS_KEY]["save_checkpoint_dir"]


def _folder(tmp_path: Path, class_args: dict[str, Any], assessor: bool = False) -> Path:
    config: dict[str, Any] = {
        "searchSpace": SPACE,
        "trialCommand": "python3 trial.py",
        "trialConcurrency": 2,
        "maxTrialNumber": 6,
        "tuner": {"name": "PBT", "classArgs": {"optimize_mode": "maximize", **class_args}},
        "trainingService": {"platform": "local"},
    }
    if assessor:
        config["assessor"] = {"name": "Medianstop", "classArgs": {"optimize_mode": "maximize"}}
    (tmp_path / "trial.py").write_text("import nni\n")
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config))
    return tmp_path


def test_plan_takes_nni_class_args_and_runs_without_early_stopping(tmp_path: Path) -> None:
    args = {"population_size": 3, "factor": 0.5, "fraction": 0.4, "all_checkpoint_dir": "/c"}
    plan = translate(load_experiment(_folder(tmp_path, args)), algorithm_backend="native")
    assert plan.searcher.kind == SearcherKind.PBT and plan.searcher.exact
    assert plan.searcher.kwargs == {
        "all_checkpoint_dir": "/c",
        "population_size": 3,
        "factor": 0.5,
        "resample_probability": 0.25,
        "fraction": 0.4,
        "seed": None,
    }
    assert plan.scheduler.kind == SchedulerKind.FIFO and plan.checkpoint_dirs
    assert not any("random search" in str(note) for note in plan.notes)
    lines = runs_as(plan)
    assert "tuner PBT: NNI's PBT generations and exploit/explore (nni2ray), exact" in lines[1]
    experiment = load_experiment(tmp_path)
    search = build_searcher(plan, experiment)
    first = search.suggest("t0")
    assert first is not None
    assert first[PARAMETERS_KEY]["save_checkpoint_dir"].startswith("/c/")


def test_an_assessor_in_the_config_still_applies(tmp_path: Path) -> None:
    plan = translate(load_experiment(_folder(tmp_path, {}, assessor=True)))
    assert plan.scheduler.kind == SchedulerKind.MEDIANSTOP


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"population_size": 0}, "population_size"),
        ({"fraction": 0}, "fraction"),
        ({"resample_probability": 1.5}, "resample_probability"),
        ({"factors": "big"}, "factors"),
        ({"all_checkpoint_dir": 3}, "all_checkpoint_dir"),
    ],
)
def test_bad_class_args_are_refused_with_the_field(
    args: dict[str, Any], field: str, tmp_path: Path
) -> None:
    with pytest.raises(UnsupportedError, match=f"tuner.classArgs.{field}"):
        translate(load_experiment(_folder(tmp_path, args)), algorithm_backend="native")


def test_a_converted_project_runs_pbt_as_seeded_random_search_and_says_so(
    tmp_path: Path,
) -> None:
    from nni2ray.convert.launcher._algorithms import SEARCHER_SOURCES
    from nni2ray.translate.tuners import pbt_without_nni2ray

    plan = translate(load_experiment(_folder(tmp_path, {"seed": 3})), algorithm_backend="native")
    converted = pbt_without_nni2ray(plan)
    assert converted.checkpoint_dirs and not converted.searcher.exact
    assert converted.scheduler.kind == SchedulerKind.FIFO and converted.scheduler.exact
    notes = [str(n) for n in converted.notes if n.field == "tuner.name"]
    assert len(notes) == 1 and "PBT runs as random search in the converted project" in notes[0]
    source = SEARCHER_SOURCES[converted.searcher.kind]
    imports, body = source.source(converted.searcher)
    assert "BasicVariantGenerator(random_state=3" in body
    assert "without PBT's generations" in source.fate(converted.searcher)


def test_a_resumed_run_breeds_from_the_last_complete_generation(tmp_path: Path) -> None:
    def population() -> PbtPopulation:
        return PbtPopulation(
            parse_search_space(SPACE, file=None),
            str(tmp_path),
            population_size=2,
            fraction=0.5,
            resample_probability=0.0,
            seed=3,
        )

    earlier = population()
    finished: list[tuple[Any, float | None]] = []
    for _ in range(2):
        for token, params in _generation(earlier):
            Path(params["save_checkpoint_dir"]).mkdir(parents=True)
            score = params["lr"]
            finished.append((params, score))
            earlier.ended(token, score)
    token, partial = earlier.next() or (0, {})  # generation 2 was cut short: not used
    finished.append((partial, None))
    resumed = population()
    search = PbtSearch(resumed)
    assert search.warm_start(finished, next_sequence=5) == 2
    handed = [search.suggest("a"), search.suggest("b")]
    assert search.suggest("c") is None
    loads = sorted(cfg[PARAMETERS_KEY]["load_checkpoint_dir"] for cfg in handed if cfg)
    saves = sorted(cfg[PARAMETERS_KEY]["save_checkpoint_dir"] for cfg in handed if cfg)
    best = max(finished[2:4], key=lambda item: item[1] or 0.0)[0]
    assert loads == [best["save_checkpoint_dir"]] * 2  # the bottom one exploits the best
    assert saves == [str(tmp_path / "0" / "2"), str(tmp_path / "1" / "2")]
    assert [cfg[SEQUENCE_KEY] for cfg in handed if cfg] == [5, 6]
    # Without the checkpoints on disk there is nothing to go on from: a fresh start.
    fresh = PbtPopulation(parse_search_space(SPACE, file=None), "/elsewhere", population_size=2)
    assert fresh.resume(finished) == 0 and fresh.next() is not None
