"""Translating NNI search spaces to Tune latent domain calls, and import hygiene."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from nni2ray.experiment import _search_space as experiment_search_space
from nni2ray.experiment import nni_space, sampling
from nni2ray.experiment._search_space import parse_search_space
from nni2ray.translate.param_space import (
    DomainCall,
    param_space_source,
    search_space_to_json,
    search_space_to_param_space,
)


def spec(kind: str, *value: Any) -> dict[str, Any]:
    return {"_type": kind, "_value": list(value)}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            spec("choice", 16, 32), {"p": DomainCall("choice", ((16, 32),))}, id="choice-scalars"
        ),
        pytest.param(
            spec("choice", [1], {"a": 2}),
            {"p": DomainCall("choice", ((0, 1),))},
            id="choice-by-index",
        ),
        pytest.param(
            spec("randint", 0.5, 3.5), {"p": DomainCall("randint", (1, 4))}, id="randint-ceil"
        ),
        pytest.param(spec("uniform", 0, 1), {"p": DomainCall("uniform", (0.0, 1.0))}, id="uniform"),
        pytest.param(
            spec("quniform", 2, 10, 5),
            {"p": DomainCall("uniform", (2.0, 10.0))},
            id="quniform-rounded-in-decode",
        ),
        pytest.param(
            spec("loguniform", 1e-4, 0.1),
            {"p": DomainCall("loguniform", (1e-4, 0.1))},
            id="loguniform",
        ),
        pytest.param(
            spec("qloguniform", 1, 100, 10),
            {"p": DomainCall("loguniform", (1.0, 100.0))},
            id="qloguniform",
        ),
        pytest.param(spec("normal", 0, 2), {"p": DomainCall("randn", (0.0, 2.0))}, id="normal"),
        pytest.param(
            spec("qnormal", 0, 2, 1), {"p": DomainCall("randn", (0.0, 2.0))}, id="qnormal"
        ),
        pytest.param(
            spec("lognormal", 0, 2),
            {"p": DomainCall("randn", (0.0, 2.0))},
            id="lognormal-exp-in-decode",
        ),
        pytest.param(
            spec("qlognormal", 0, 2, 1), {"p": DomainCall("randn", (0.0, 2.0))}, id="qlognormal"
        ),
        pytest.param(
            spec(
                "choice", {"_name": "sgd", "lr": spec("loguniform", 1e-4, 0.1)}, {"_name": "none"}
            ),
            {
                "p": DomainCall("choice", ((0, 1),)),
                "p/sgd/lr": DomainCall("loguniform", (1e-4, 0.1)),
            },
            id="nested-choice",
        ),
    ],
)
def test_search_space_to_param_space(raw: dict[str, Any], expected: dict[str, DomainCall]) -> None:
    assert search_space_to_param_space({"p": raw}) == expected
    assert search_space_to_param_space(parse_search_space({"p": raw}, file=None)) == expected


def test_domain_source_and_param_space_source() -> None:
    param_space = search_space_to_param_space(
        {"lr": spec("loguniform", 0.001, 0.1), "act": spec("choice", "relu", None, True)}
    )
    assert param_space["lr"].source() == "tune.loguniform(0.001, 0.1)"
    assert param_space_source(param_space) == (
        "{\n    'lr': tune.loguniform(0.001, 0.1),\n"
        "    'act': tune.choice(['relu', None, True]),\n}"
    )
    from ray import tune

    namespace = {"tune": tune}
    built = eval(param_space_source(param_space), namespace)  # the source is valid Python
    assert built["act"].categories == ["relu", None, True]


def test_search_space_to_json_normalises_numbers() -> None:
    raw = {"p": spec("quniform", "2", 10, 5), "o": spec("choice", {"_name": "a", "k": 1})}
    assert search_space_to_json(raw) == {
        "p": {"_type": "quniform", "_value": [2.0, 10.0, 5.0]},
        "o": {"_type": "choice", "_value": [{"_name": "a", "k": 1}]},
    }


def test_importing_translate_search_space_does_not_import_ray() -> None:
    code = (
        "import sys, nni2ray.translate.param_space, nni2ray.experiment.sampling\n"
        "print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _runtime_imports(module: ModuleType) -> set[str]:
    """Top-level modules imported when ``module`` runs (``if TYPE_CHECKING:`` blocks skipped)."""
    tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nni2ray."):
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add((node.module or "").split(".")[0])
    return found


def test_sampling_runs_on_the_standard_library_and_nni_space_only() -> None:
    # nni_space holds NNI's formulas and is itself standard library only (test_latent_space).
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    assert _runtime_imports(sampling) <= stdlib | {"nni2ray.experiment.nni_space"}
    assert _runtime_imports(nni_space) <= stdlib


def test_jsonschema_is_imported_lazily() -> None:
    assert "jsonschema" not in _runtime_imports(experiment_search_space)
