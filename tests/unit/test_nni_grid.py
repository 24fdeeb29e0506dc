"""NNI 3.0 GridSearch's exact sequence of points (nni2ray/translate/nni_grid.py).

The expected points are derived by hand from NNI's algorithm (the epochs of
``nni/algorithms/hpo/gridsearch_tuner.py``: medians first, then the midpoints of the
intervals whose two ends still give different values, vectors with the last parameter
fastest, vectors of earlier epochs skipped); the derivation is written next to each case.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nni2ray.translate import nni_grid, nni_space
from nni2ray.translate.nni_grid import grid_points

Z25 = 0.6744897501960818  # the normal quantile of 3/4


def _first(space: dict[str, Any], count: int) -> list[dict[str, Any]]:
    return list(itertools.islice(grid_points(space), count))


def _log_point(low: float, high: float, p: float) -> float:
    return math.exp(math.log(low) + (math.log(high) - math.log(low)) * p)


def test_uniform_is_halved_again_and_again() -> None:
    # epoch 1: 1/2; epoch 2 adds 1/4, 3/4; epoch 3 adds 1/8, 3/8, 5/8, 7/8; then 1/16 ...
    space = {"lr": {"_type": "uniform", "_value": [0, 1]}}
    expected = [0.5, 0.25, 0.75, 0.125, 0.375, 0.625, 0.875, 0.0625]
    assert _first(space, 8) == [{"lr": x} for x in expected]


def test_nni_docstring_example_choice_normal_quniform() -> None:
    # epoch 1: x in {5, 7}, y = mu = 0, z = round(2.5) = 2 -> (5,0,2), (7,0,2).
    # epoch 2: y adds the quartiles -0.674, +0.674; z adds 3/4 -> round(2.75) = 3 (its 1/4
    # gives 2 again and is dropped); vectors (x, y, z) last fastest, (0, 0, 0)-type vectors
    # of epoch 1 skipped.
    space = {
        "x": {"_type": "choice", "_value": [5, 7]},
        "y": {"_type": "normal", "_value": [0, 1]},
        "z": {"_type": "quniform", "_value": [2, 3, 1]},
    }
    expected = [
        (5, 0.0, 2.0), (7, 0.0, 2.0),
        (5, 0.0, 3.0), (5, -Z25, 2.0), (5, -Z25, 3.0), (5, Z25, 2.0), (5, Z25, 3.0),
        (7, 0.0, 3.0), (7, -Z25, 2.0), (7, -Z25, 3.0), (7, Z25, 2.0), (7, Z25, 3.0),
    ]  # fmt: skip
    got = [value for p in _first(space, 12) for value in (p["x"], p["y"], p["z"])]
    assert got == pytest.approx([v for row in expected for v in row], rel=1e-14, abs=1e-15)


def test_loguniform_starts_at_the_geometric_median() -> None:
    # the positions 1/2, 1/4, 3/4, 1/8 in log space, each with both batch sizes.
    space = {
        "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
        "bs": {"_type": "choice", "_value": [16, 32]},
    }
    got = _first(space, 8)
    lrs = [_log_point(1e-4, 1e-1, p) for p in (0.5, 0.25, 0.75, 0.125)]
    assert got == [{"lr": lr, "bs": bs} for lr in lrs for bs in (16, 32)]
    assert got[0]["lr"] == pytest.approx(10**-2.5)


def test_q_types_are_finite_and_reach_their_clipped_bounds_last() -> None:
    # q = clip(round((2 + 8p) / 5) * 5, 2, 10): p=1/2 -> 5, 3/4 -> 10; 2 needs p <= 1/16.
    # r = round(10p / 2.5) * 2.5: 1/2 -> 5, 1/4 -> 2.5, 3/4 -> 7.5, then 1/8 -> 0, 7/8 -> 10.
    space = {
        "q": {"_type": "quniform", "_value": [2, 10, 5]},
        "r": {"_type": "quniform", "_value": [0, 10, 2.5]},
    }
    expected = [
        (5.0, 5.0),
        (5.0, 2.5), (5.0, 7.5), (10.0, 5.0), (10.0, 2.5), (10.0, 7.5),
        (5.0, 0.0), (5.0, 10.0), (10.0, 0.0), (10.0, 10.0),
        (2.0, 5.0), (2.0, 2.5), (2.0, 7.5), (2.0, 0.0), (2.0, 10.0),
    ]  # fmt: skip
    assert [(p["q"], p["r"]) for p in grid_points(space)] == expected  # and then it ends


def test_nested_choice_moves_only_the_chosen_option() -> None:
    # "none" has no sub-parameter, so after epoch 1 only sgd's lr brings new points.
    space = {
        "opt": {
            "_type": "choice",
            "_value": [
                {"_name": "sgd", "lr": {"_type": "uniform", "_value": [0, 1]}},
                {"_name": "none"},
            ],
        },
        "bs": {"_type": "choice", "_value": [16, 32]},
    }
    sgd = [{"opt": {"_name": "sgd", "lr": lr}, "bs": bs} for lr in (0.5,) for bs in (16, 32)]
    none = [{"opt": {"_name": "none"}, "bs": bs} for bs in (16, 32)]
    later = [
        {"opt": {"_name": "sgd", "lr": lr}, "bs": bs} for lr in (0.25, 0.75) for bs in (16, 32)
    ]
    assert _first(space, 8) == sgd + none + later


def test_finite_categorical_space_is_the_plain_product() -> None:
    space = {
        "a": {"_type": "choice", "_value": [1, "b", 3]},
        "n": {"_type": "randint", "_value": [2, 4]},
    }
    assert list(grid_points(space)) == [{"a": a, "n": n} for a in (1, "b", 3) for n in (2, 3)]


def test_a_degenerate_interval_is_one_point() -> None:
    space = {"u": {"_type": "uniform", "_value": [3, 3]}}
    assert list(grid_points(space)) == [{"u": 3.0}]


def test_empty_space_is_one_empty_point() -> None:
    assert list(grid_points({})) == [{}]


def test_without_scipy_the_normal_quantile_agrees_to_the_last_bits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(nni_grid, "_ERFINV", [None])
    space = {"y": {"_type": "lognormal", "_value": [1, 2]}}
    got = [p["y"] for p in _first(space, 3)]
    assert got == pytest.approx([math.e, math.exp(1 - 2 * Z25), math.exp(1 + 2 * Z25)], rel=1e-14)


def _spec(kind: str, *value: float) -> dict[str, Any]:
    return {"_type": kind, "_value": list(value)}


@pytest.mark.parametrize(
    "space",
    [
        {"lr": _spec("loguniform", 1e-5, 1), "m": _spec("normal", 1, 3)},
        {"k": _spec("qlognormal", 0, 1, 1), "u": _spec("qloguniform", 1, 100, 10)},
        {"n": _spec("lognormal", 0, 1), "q": _spec("qnormal", 0, 1, 0.5)},
    ],
)
def test_grid_points_survive_the_latent_round_trip(space: dict[str, Any]) -> None:
    for point in _first(space, 60):  # what the GridSearcher hands to Tune and the trial sees
        assert nni_space.decode(space, nni_space.encode(space, point)) == point


def test_points_are_never_repeated() -> None:
    space = {"q": {"_type": "qloguniform", "_value": [1, 1000, 1]}}
    points = [p["q"] for p in _first(space, 300)]
    assert len(set(points)) == len(points) == 300


def test_a_continuous_grid_is_translated_not_refused(
    make_experiment: Callable[..., Path], config_v2: str
) -> None:
    from nni2ray.experiment import load_experiment
    from nni2ray.translate import translate

    folder = make_experiment(config_v2.replace("name: TPE", "name: GridSearch"))
    plan = translate(load_experiment(folder))  # lr is loguniform
    assert plan.searcher.kind == "grid" and plan.searcher.exact
    assert plan.num_samples == 10  # maxTrialNumber ends the endless grid


def test_convert_carries_the_endless_grid_into_the_launcher(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nni2ray.cli import main
    from tests.conftest import EXPERIMENTS

    out = tmp_path / "out"
    assert main(["convert", str(EXPERIMENTS / "continuous_grid"), "-o", str(out)]) == 0
    assert "error" not in capsys.readouterr().err
    launcher = (out / "tune_experiment.py").read_text()
    assert "class NniGridSearch(Searcher)" in launcher and "nni_grid.grid_points" in launcher
    compile(launcher, "tune_experiment.py", "exec")
    # The copied module is nni2ray's, and yields NNI's order on its own (no nni2ray import).
    copied = (out / "nni_grid.py").read_text()
    assert copied == Path(nni_grid.__file__).read_text()
    assert "nni2ray" not in copied.replace("nni2ray/", "")
    spec = importlib.util.spec_from_file_location("copied_nni_grid", out / "nni_grid.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        space = json.loads((EXPERIMENTS / "continuous_grid" / "search_space.json").read_text())
        assert list(itertools.islice(module.grid_points(space), 6)) == _first(space, 6)
    finally:
        del sys.modules[spec.name]
