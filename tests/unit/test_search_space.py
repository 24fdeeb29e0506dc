"""Parsing and validating NNI search spaces into the SearchSpace model."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nni2ray.errors import Problem, SearchSpaceError
from nni2ray.experiment._search_space import parse_search_space
from nni2ray.experiment.model import PARAMETER_TYPES, NestedOption, Parameter, SearchSpace


def spec(kind: str, *value: Any) -> dict[str, Any]:
    return {"_type": kind, "_value": list(value)}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            spec("choice", 1, "a", None, [1], {"x": 1}),
            Parameter("p", "choice", options=(1, "a", None, [1], {"x": 1}), path="p"),
            id="choice",
        ),
        pytest.param(
            spec("choice", "1e-4", "2"),
            Parameter("p", "choice", options=("1e-4", "2"), path="p"),
            id="choice-numeric-strings-stay-strings",
        ),
        pytest.param(
            spec("randint", 2, 5),
            Parameter("p", "randint", values=(2.0, 5.0), path="p"),
            id="randint",
        ),
        pytest.param(
            spec("randint", 1.2, 2.5),
            Parameter("p", "randint", values=(1.2, 2.5), path="p"),
            id="randint-one-integer-after-ceil",
        ),
        pytest.param(
            spec("uniform", 0, 1),
            Parameter("p", "uniform", values=(0.0, 1.0), path="p"),
            id="uniform",
        ),
        pytest.param(
            spec("quniform", 2, 10, 5),
            Parameter("p", "quniform", values=(2.0, 10.0, 5.0), path="p"),
            id="quniform-bounds-off-grid",
        ),
        pytest.param(
            spec("loguniform", "1e-4", "1e-1"),
            Parameter("p", "loguniform", values=(1e-4, 0.1), path="p"),
            id="loguniform-numeric-strings",
        ),
        pytest.param(
            spec("qloguniform", 1, 100, 10),
            Parameter("p", "qloguniform", values=(1.0, 100.0, 10.0), path="p"),
            id="qloguniform",
        ),
        pytest.param(
            spec("normal", -1, 2),
            Parameter("p", "normal", values=(-1.0, 2.0), path="p"),
            id="normal",
        ),
        pytest.param(
            spec("qnormal", 0, 1, 0.5),
            Parameter("p", "qnormal", values=(0.0, 1.0, 0.5), path="p"),
            id="qnormal",
        ),
        pytest.param(
            spec("lognormal", 0, 1),
            Parameter("p", "lognormal", values=(0.0, 1.0), path="p"),
            id="lognormal",
        ),
        pytest.param(
            spec("qlognormal", 0, 1, 1),
            Parameter("p", "qlognormal", values=(0.0, 1.0, 1.0), path="p"),
            id="qlognormal",
        ),
        pytest.param(
            spec(
                "choice",
                {"_name": "sgd", "lr": spec("uniform", 0, 1), "k": 3, "d": {"z": 1}},
                {"_name": "none"},
            ),
            Parameter(
                "p",
                "choice",
                path="p",
                options=(
                    NestedOption(
                        "sgd",
                        (Parameter("lr", "uniform", (0.0, 1.0), path="p[0].lr"),),
                        (("k", 3), ("d", {"z": 1})),
                    ),
                    NestedOption("none"),
                ),
            ),
            id="nested-choice-with-constants",
        ),
        pytest.param(
            spec(
                "choice",
                {"_name": "a", "inner": spec("choice", {"_name": "b", "x": spec("randint", 0, 2)})},
            ),
            Parameter(
                "p",
                "choice",
                path="p",
                options=(
                    NestedOption(
                        "a",
                        (
                            Parameter(
                                "inner",
                                "choice",
                                path="p[0].inner",
                                options=(
                                    NestedOption(
                                        "b",
                                        (
                                            Parameter(
                                                "x", "randint", (0.0, 2.0), path="p[0].inner[0].x"
                                            ),
                                        ),
                                    ),
                                ),
                            ),
                        ),
                    ),
                ),
            ),
            id="nested-two-levels",
        ),
    ],
)
def test_parse_valid(raw: dict[str, Any], expected: Parameter) -> None:
    assert parse_search_space({"p": raw}, file="s.json") == SearchSpace((expected,))


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        pytest.param(
            3, "p", "must be a mapping with _type and _value (got 3)", id="spec-not-mapping"
        ),
        pytest.param(
            {"_value": [1]}, "p._type", "missing (got {'_value': [1]})", id="missing-type"
        ),
        pytest.param(
            {"_type": "uniform"},
            "p._value",
            "missing (got {'_type': 'uniform'})",
            id="missing-value",
        ),
        pytest.param(
            spec("gauss", 0, 1), "p._type", "unknown _type (got 'gauss')", id="unknown-type"
        ),
        pytest.param(
            {"_type": "uniform", "_value": 1},
            "p._value",
            "must be a list (got 1)",
            id="value-not-list",
        ),
        pytest.param(
            spec("choice"),
            "p._value",
            "choice needs at least one option (got [])",
            id="choice-empty",
        ),
        pytest.param(
            spec("randint", 3, 3),
            "p._value",
            "randint needs at least one integer in [ceil(low), ceil(high)) (got [3, 3])",
            id="randint-empty",
        ),
        pytest.param(
            spec("randint", 1.2, 1.9),
            "p._value",
            "randint needs at least one integer in [ceil(low), ceil(high)) (got [1.2, 1.9])",
            id="randint-empty-after-ceil",
        ),
        pytest.param(
            spec("randint", 0),
            "p._value",
            "randint needs [low, high] (got [0])",
            id="randint-one-value",
        ),
        pytest.param(
            spec("uniform", 1, 0),
            "p._value",
            "uniform needs low < high (got [1, 0])",
            id="uniform-reversed",
        ),
        pytest.param(
            spec("uniform", 1, 1),
            "p._value",
            "uniform needs low < high (got [1, 1])",
            id="uniform-equal",
        ),
        pytest.param(
            spec("uniform", 0, 1, 0.1),
            "p._value",
            "uniform needs [low, high] (got [0, 1, 0.1])",
            id="uniform-three-values",
        ),
        pytest.param(
            spec("uniform", "a", 1),
            "p._value",
            "uniform needs numbers [low, high] (got ['a', 1])",
            id="uniform-not-numeric",
        ),
        pytest.param(
            spec("uniform", True, 2),
            "p._value",
            "uniform needs numbers [low, high] (got [True, 2])",
            id="uniform-bool",
        ),
        pytest.param(
            spec("uniform", float("nan"), 1),
            "p._value",
            "uniform needs finite numbers (got [nan, 1])",
            id="uniform-nan",
        ),
        pytest.param(
            spec("uniform", 0, "inf"),
            "p._value",
            "uniform needs finite numbers (got [0, 'inf'])",
            id="uniform-inf-string",
        ),
        pytest.param(
            spec("quniform", 0, 1),
            "p._value",
            "quniform needs [low, high, q] (got [0, 1])",
            id="quniform-two-values",
        ),
        pytest.param(
            spec("quniform", 0.001, 0.1, 0),
            "p._value",
            "quniform needs q > 0 (got [0.001, 0.1, 0])",
            id="quniform-zero-q",
        ),
        pytest.param(
            spec("quniform", 5, 1, 1),
            "p._value",
            "quniform needs low < high (got [5, 1, 1])",
            id="quniform-reversed",
        ),
        pytest.param(
            spec("loguniform", 0, 1),
            "p._value",
            "loguniform needs low > 0 (got [0, 1])",
            id="loguniform-zero-low",
        ),
        pytest.param(
            spec("qloguniform", -1, 10, 1),
            "p._value",
            "qloguniform needs low > 0 (got [-1, 10, 1])",
            id="qloguniform-negative-low",
        ),
        pytest.param(
            spec("qloguniform", 1, 10, -1),
            "p._value",
            "qloguniform needs q > 0 (got [1, 10, -1])",
            id="qloguniform-negative-q",
        ),
        pytest.param(
            spec("normal", 0, 0),
            "p._value",
            "normal needs sigma > 0 (got [0, 0])",
            id="normal-zero-sigma",
        ),
        pytest.param(
            spec("qnormal", 0, 1, 0),
            "p._value",
            "qnormal needs q > 0 (got [0, 1, 0])",
            id="qnormal-zero-q",
        ),
        pytest.param(
            spec("lognormal", 0, -1),
            "p._value",
            "lognormal needs sigma > 0 (got [0, -1])",
            id="lognormal-negative-sigma",
        ),
        pytest.param(
            spec("qlognormal", 0, 1),
            "p._value",
            "qlognormal needs [mu, sigma, q] (got [0, 1])",
            id="qlognormal-two-values",
        ),
        pytest.param(
            spec("choice", {"_name": "a"}, 3),
            "p._value[1]",
            "option 1 of a nested choice is not a dict with _name (got 3)",
            id="nested-mixed-scalar",
        ),
        pytest.param(
            spec("choice", {"x": 1}, {"_name": "a"}),
            "p._value[0]",
            "option 0 of a nested choice is not a dict with _name (got {'x': 1})",
            id="nested-missing-name",
        ),
        pytest.param(
            spec("choice", {"_name": "a", "lr": spec("uniform", 1, 0)}),
            "p._value[0].lr._value",
            "uniform needs low < high (got [1, 0])",
            id="nested-sub-parameter",
        ),
        pytest.param(
            spec("choice", {"_name": "a", "lr": {"_value": [0, 1]}}),
            "p._value[0].lr._type",
            "missing (got {'_value': [0, 1]})",
            id="nested-sub-missing-type",
        ),
    ],
)
def test_parse_invalid(raw: Any, field: str, message: str) -> None:
    with pytest.raises(SearchSpaceError) as caught:
        parse_search_space({"p": raw}, file="s.json")
    assert [(p.field, p.message) for p in caught.value.problems] == [(field, message)]
    assert all(p.file == "s.json" and p.hint for p in caught.value.problems)


def test_parse_reports_every_problem_with_lines_and_prefix() -> None:
    lines = {("a",): 2, ("a", "_value"): 3, ("b",): 5, ("c", "_value", 0): 9}
    raw = {
        "a": spec("uniform", 1, 0),
        "b": spec("quniform", 0, 1, 0),
        "ok": spec("uniform", 0, 1),
        "c": spec("choice", 1, {"_name": "x"}),
        "d": spec("loguniform", 0, -1),
    }
    with pytest.raises(SearchSpaceError) as caught:
        parse_search_space(raw, file="exp/s.yml", line_of=lines.get, field_prefix="searchSpace.")
    assert [(p.field, p.line) for p in caught.value.problems] == [
        ("searchSpace.a._value", 3),
        ("searchSpace.b._value", 5),  # no line for the _value: the spec's line
        ("searchSpace.c._value[0]", 9),
        ("searchSpace.d._value", None),
        ("searchSpace.d._value", None),
    ]
    assert str(caught.value).splitlines()[0] == (
        "exp/s.yml:3: searchSpace.a._value: uniform needs low < high (got [1, 0]); "
        "swap the bounds; for a fixed value use a one-element choice"
    )


@pytest.mark.parametrize(
    ("raw", "got"),
    [([], "[]"), ("x", "text of 1 characters"), (None, "None"), (1, "1")],
    ids=["list", "string-not-quoted", "null", "number"],
)
def test_parse_top_level_must_be_a_mapping(raw: Any, got: str) -> None:
    with pytest.raises(SearchSpaceError) as caught:
        parse_search_space(raw, file="s.json", field_prefix="searchSpace.")
    (problem,) = caught.value.problems
    assert problem == Problem(
        f"search space must be a mapping of parameter names to specs (got {got})",
        "s.json",
        "searchSpace",
        None,
        'write {"name": {"_type": "choice", "_value": [...]}, ...}',
    )


def test_parse_empty_space_has_no_parameters() -> None:
    assert parse_search_space({}, file=None) == SearchSpace(())


def test_uniform_third_value_hint_names_the_q_type() -> None:
    with pytest.raises(SearchSpaceError) as caught:
        parse_search_space({"p": spec("uniform", 0, 1, 0.1)}, file=None)
    assert (
        caught.value.hint
        == "NNI ignores a third value for uniform; remove it, or use quniform for steps of q"
    )


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
_specs = st.fixed_dictionaries(
    {"_type": st.sampled_from([*PARAMETER_TYPES, "gauss"]), "_value": st.lists(_json, max_size=4)}
)
_nested = st.fixed_dictionaries(
    {
        "_type": st.just("choice"),
        "_value": st.lists(
            st.fixed_dictionaries({"_name": _json}, optional={"x": _specs | _json}), max_size=3
        ),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=3), _specs | _nested | _json, max_size=4) | _json)
def test_parse_never_fails_with_anything_but_search_space_error(raw: Any) -> None:
    try:
        space = parse_search_space(raw, file="s.json")
    except SearchSpaceError as error:
        assert all(problem.file == "s.json" and problem.message for problem in error.problems)
    else:
        assert space.names == tuple(str(name) for name in raw)
