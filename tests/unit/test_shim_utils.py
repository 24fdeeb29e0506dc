"""Tables for the stand-in's ``nni.utils``: merge_parameter and extract_scalar_reward."""

from __future__ import annotations

import argparse
import math

import pytest

from nni2ray.trials._shim.nni import utils  # standard library only; no Ray

OptimizeMode = utils.OptimizeMode
extract_scalar_history = utils.extract_scalar_history
extract_scalar_reward = utils.extract_scalar_reward
merge_parameter = utils.merge_parameter


@pytest.mark.parametrize(
    ("base", "override", "expected"),
    [
        pytest.param({"lr": 0.1}, {"lr": 0.2}, {"lr": 0.2}, id="float-float"),
        pytest.param({"lr": 0.1}, {"lr": 1}, {"lr": 1.0}, id="int-into-float-becomes-float"),
        pytest.param({"n": 1}, {"n": True}, {"n": True}, id="bool-into-int-accepted"),
        pytest.param({"x": None}, {"x": [1]}, {"x": [1]}, id="none-base-takes-anything"),
        pytest.param({"c": {}}, {"c": {"_name": "a"}}, {"c": {"_name": "a"}}, id="nested-dict"),
        pytest.param({"a": 1, "b": 2}, {"b": 3}, {"a": 1, "b": 3}, id="others-untouched"),
        pytest.param({"a": 1}, None, {"a": 1}, id="none-override"),
        pytest.param({"a": 1}, {}, {"a": 1}, id="empty-override"),
    ],
)
def test_merge_parameter_accepts(base, override, expected):
    result = merge_parameter(base, override)
    assert result is base
    assert result == expected
    assert [type(v) for v in result.values()] == [type(v) for v in expected.values()]


@pytest.mark.parametrize(
    ("base", "override", "message"),
    [
        pytest.param(
            {"lr": 0.1},
            {"bs": 1},
            "Key 'bs' not found in base parameters.",
            id="unknown-key",
        ),
        pytest.param(
            {"n": 1},
            {"n": 2.0},
            'Expected "n" in override parameters to have type int, but found float',
            id="quniform-float-into-int",
        ),
        pytest.param(
            {"flag": False},
            {"flag": 1},
            'Expected "flag" in override parameters to have type bool, but found int',
            id="int-into-bool",
        ),
        pytest.param(
            {"opt": "sgd"},
            {"opt": {"_name": "adam"}},
            'Expected "opt" in override parameters to have type str, but found dict',
            id="nested-choice-into-str",
        ),
    ],
)
def test_merge_parameter_refuses(base, override, message):
    with pytest.raises(ValueError) as caught:
        merge_parameter(base, override)
    assert str(caught.value) == message


def test_merge_parameter_on_namespace():
    args = argparse.Namespace(lr=0.1, epochs=3, resume=None)
    assert merge_parameter(args, {"lr": 1, "resume": "x"}) is args
    assert (args.lr, type(args.lr), args.resume) == (1.0, float, "x")
    with pytest.raises(ValueError, match="Key 'TRIAL_BUDGET' not found in base parameters."):
        merge_parameter(args, {"TRIAL_BUDGET": 9})


class _Float(float):
    pass


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(0.5, 0.5, id="float"),
        pytest.param(3, 3, id="int"),
        pytest.param(True, True, id="bool-is-int"),
        pytest.param(_Float(2.5), 2.5, id="float-subclass"),
        pytest.param({"default": 0.7, "loss": 1}, 0.7, id="dict-default"),
        pytest.param({"default": 2}, 2, id="dict-int-default"),
    ],
)
def test_extract_scalar_reward_accepts(value, expected):
    assert extract_scalar_reward(value) == expected


def test_extract_scalar_reward_nan_and_key():
    assert math.isnan(extract_scalar_reward(float("nan")))
    assert extract_scalar_reward({"acc": 0.3}, scalar_key="acc") == 0.3


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"loss": 0.1}, id="dict-without-default"),
        pytest.param({"default": "0.5"}, id="string-default"),
        pytest.param({"default": None}, id="none-default"),
        pytest.param("0.5", id="string"),
        pytest.param([0.5], id="list"),
        pytest.param(None, id="none"),
    ],
)
def test_extract_scalar_reward_refuses(value):
    with pytest.raises(RuntimeError) as caught:
        extract_scalar_reward(value)
    assert str(caught.value) == (
        "Incorrect final result: the final result should be float/int, "
        'or a dict which has a key named "default" whose value is float/int.'
    )


def test_extract_scalar_history():
    assert extract_scalar_history([1, {"default": 2.0}, 0.5]) == [1, 2.0, 0.5]
    with pytest.raises(RuntimeError):
        extract_scalar_history([1, {"x": 2}])


def test_optimize_mode():
    assert OptimizeMode("minimize") is OptimizeMode.Minimize
    assert OptimizeMode.Maximize.value == "maximize"
