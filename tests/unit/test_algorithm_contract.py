"""Every tuner, advisor and assessor name NNI accepts, through every side of nni2ray.

For each name: ``translate`` gives the expected kind and note severity (or refuses it with a
reason), the run side and the convert side each have a registry entry for that kind, the
built searcher suggests exactly the search space's keys and takes NaN and inf results, and
the README's mapping table lists the name. A new algorithm is enrolled by being registered.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from nni2ray.convert.launcher._algorithms import SCHEDULER_SOURCES, SEARCHER_SOURCES
from nni2ray.errors import UnsupportedError
from nni2ray.experiment import BUILTINS, load_experiment
from nni2ray.notes import Severity
from nni2ray.runtime.schedulers import SCHEDULERS, build_scheduler
from nni2ray.runtime.searchers import SEARCHERS, build_searcher
from nni2ray.translate import (
    ASSESSORS,
    TUNERS,
    UNSUPPORTED_TUNERS,
    SchedulerKind,
    SearcherKind,
    translate,
)
from nni2ray.translate.tuners import advisor_without_nni2ray
from nni2ray.trials import FINAL, TrialContext, trial_parameters

README = Path(__file__).resolve().parents[2] / "README.md"

SPACE = {
    "lr": {"_type": "choice", "_value": [0.1, 0.01, 0.001]},
    "layers": {"_type": "randint", "_value": [1, 4]},
    "dropout": {"_type": "quniform", "_value": [0.0, 0.5, 0.25]},
}
BATCH_SPACE = {"combine": {"_type": "choice", "_value": [{"lr": 0.1 * n} for n in range(1, 5)]}}

#: NNI name -> (searcher kind, severity of the tuner's note; None: no note, exact).
TUNER_TABLE: dict[str, tuple[SearcherKind, Severity | None]] = {
    "TPE": (SearcherKind.TPE, Severity.APPROXIMATED),
    "TPE_legacy": (SearcherKind.TPE, Severity.APPROXIMATED),
    "Anneal": (SearcherKind.HYPEROPT, Severity.APPROXIMATED),
    "Random": (SearcherKind.RANDOM, None),
    "GridSearch": (SearcherKind.GRID, None),
    "Batch": (SearcherKind.BATCH, None),
    "Evolution": (SearcherKind.EVOLUTION, Severity.APPROXIMATED),
    "SMAC": (SearcherKind.TPE, Severity.APPROXIMATED),
    "Metis": (SearcherKind.GP, Severity.APPROXIMATED),
    "GP": (SearcherKind.GP, Severity.APPROXIMATED),
    "DNGO": (SearcherKind.GP, Severity.APPROXIMATED),
    "PBT": (SearcherKind.PBT, Severity.EXACT),
    "Hyperband": (SearcherKind.HYPERBAND, Severity.EXACT),
    "BOHB": (SearcherKind.BOHB, Severity.APPROXIMATED),
}
ASSESSOR_TABLE: dict[str, tuple[SchedulerKind, Severity | None]] = {
    "Medianstop": (SchedulerKind.MEDIANSTOP, None),
    "Curvefitting": (SchedulerKind.ASHA, Severity.APPROXIMATED),
}

TUNER_NAMES = [
    (builtin.name, alias)
    for builtin in BUILTINS
    if builtin.kind != "assessor"
    for alias in (builtin.name, *builtin.aliases)
]
ASSESSOR_NAMES = [
    (builtin.name, alias)
    for builtin in BUILTINS
    if builtin.kind == "assessor"
    for alias in (builtin.name, *builtin.aliases)
]


def _experiment(tmp_path: Path, tuner: str, assessor: str | None = None) -> Any:
    space = BATCH_SPACE if tuner.lower().startswith("batch") else SPACE
    section = "advisor" if tuner in ("Hyperband", "BOHB") else "tuner"
    config: dict[str, Any] = {
        "searchSpace": space,
        "trialCommand": "python3 trial.py",
        "trialConcurrency": 2,
        "maxTrialNumber": 4,
        section: {"name": tuner, "classArgs": {"optimize_mode": "maximize"}},
        "trainingService": {"platform": "local"},
    }
    if assessor is not None:
        config["assessor"] = {"name": assessor, "classArgs": {"optimize_mode": "maximize"}}
    (tmp_path / "trial.py").write_text("import nni\n")
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config))
    return load_experiment(tmp_path)


def test_the_tables_cover_every_name_nni_accepts() -> None:
    canonical = {name for name, _ in TUNER_NAMES}
    assert canonical == set(TUNER_TABLE) | set(UNSUPPORTED_TUNERS)
    assert set(TUNERS) == set(TUNER_TABLE)
    assert {name for name, _ in ASSESSOR_NAMES} == set(ASSESSORS) == set(ASSESSOR_TABLE)


def test_every_kind_has_a_run_and_a_convert_entry() -> None:
    assert set(SEARCHERS) == set(SearcherKind) == set(SEARCHER_SOURCES)
    assert set(SCHEDULERS) == set(SchedulerKind) == set(SCHEDULER_SOURCES)


@pytest.mark.parametrize(("canonical", "name"), TUNER_NAMES, ids=[n for _, n in TUNER_NAMES])
def test_tuner_translates_builds_and_converts(canonical: str, name: str, tmp_path: Path) -> None:
    experiment = _experiment(tmp_path, name)
    if canonical in UNSUPPORTED_TUNERS:
        with pytest.raises(UnsupportedError, match="has no Ray Tune equivalent: "):
            translate(experiment)
        return
    plan = translate(experiment)
    kind, severity = TUNER_TABLE[canonical]
    assert plan.searcher.kind == kind
    tuner_notes = [n for n in plan.notes if n.field in ("tuner.name", "advisor.name")]
    assert [n.severity for n in tuner_notes] == ([severity] if severity else [])
    assert plan.searcher.exact == (severity in (None, Severity.EXACT))
    _check_searcher(plan, experiment, tmp_path)
    converted = advisor_without_nni2ray(plan)
    imports, body = SEARCHER_SOURCES[converted.searcher.kind].source(converted.searcher)
    compile("\n".join([*imports, "def make_searcher():", body]), "<searcher>", "exec")
    assert SEARCHER_SOURCES[plan.searcher.kind].fate(plan.searcher)


def _check_searcher(plan: Any, experiment: Any, tmp_path: Path) -> None:
    searcher = build_searcher(plan, experiment)
    searcher.set_search_properties(plan.metric, plan.mode, {})
    context = TrialContext("exp", "true", str(tmp_path), str(tmp_path), plan.search_space)
    keys = set(BATCH_SPACE["combine"]["_value"][0]) if plan.searcher.kind == "batch" else None
    for number, value in enumerate((math.nan, math.inf, -math.inf, 0.5)):
        trial_id = f"t{number}"
        config = searcher.suggest(trial_id)
        assert isinstance(config, dict), config
        params = trial_parameters(context, config, tmp_path / trial_id)
        expected = keys or set(SPACE)
        assert set(params) - {"TRIAL_BUDGET", "load_checkpoint_dir", "save_checkpoint_dir"} == (
            expected
        )
        result = {
            "nni_type": FINAL,
            "nni_sequence": 0,
            "nni_step": 0,
            "nni_value": value,
            "nni_value_json": json.dumps(value),
            "default": value,
            "config": config,
        }
        searcher.on_trial_result(trial_id, result)
        searcher.on_trial_complete(trial_id, result=result)


@pytest.mark.parametrize(("canonical", "name"), ASSESSOR_NAMES, ids=[n for _, n in ASSESSOR_NAMES])
def test_assessor_translates_builds_and_converts(canonical: str, name: str, tmp_path: Path) -> None:
    plan = translate(_experiment(tmp_path, "Random", name))
    kind, severity = ASSESSOR_TABLE[canonical]
    assert plan.scheduler.kind == kind
    notes = [n for n in plan.notes if n.field == "assessor.name"]
    assert [n.severity for n in notes] == ([severity] if severity else [])
    assert build_scheduler(plan) is not None
    imports, body = SCHEDULER_SOURCES[plan.scheduler.kind].source(plan.scheduler)
    compile("\n".join([*imports, "def make_scheduler():", body]), "<scheduler>", "exec")
    assert SCHEDULER_SOURCES[plan.scheduler.kind].fate(plan.scheduler)


def _readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("| NNI | with `nni` installed")
    return text[start : text.index("\n\n", start)]


@pytest.mark.parametrize("name", [builtin.name for builtin in BUILTINS])
def test_readme_mapping_table_lists_the_name(name: str) -> None:
    rows = [line.split("|")[1] for line in _readme_table().splitlines()[2:]]
    assert any(name in row.replace(",", " ").replace("/", " ").split() for row in rows), name
