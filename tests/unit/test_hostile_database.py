"""Hostile input, NNI databases: reads are bounded and only plain tables are read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from nni2ray.errors import HistoryError
from nni2ray.results import _nni_database, load_history
from tests.unit.test_nni_import import TRIALS, build_nni_experiment


def test_a_table_over_the_row_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = build_nni_experiment(tmp_path / "nni", TRIALS)
    monkeypatch.setattr(_nni_database, "MAX_ROWS", 3)
    with pytest.raises(
        HistoryError, match=r"TrialJobEvent has more than 3 rows \(the limit is 3\)"
    ):
        load_history(folder)


@pytest.mark.parametrize("table", ["TrialJobEvent", "ExperimentProfile"])
def test_views_are_refused_by_their_type(tmp_path: Path, table: str) -> None:
    folder = build_nni_experiment(tmp_path / "nni", TRIALS)
    db = sqlite3.connect(folder / "db" / "nni.sqlite")
    db.executescript(
        f"ALTER TABLE {table} RENAME TO Old; CREATE VIEW {table} AS SELECT * FROM Old;"
    )
    db.close()
    with pytest.raises(HistoryError, match=f"{table} is a view, not a plain table"):
        load_history(folder)


def test_an_oversized_value_is_refused_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = build_nni_experiment(tmp_path / "nni", TRIALS)
    db = sqlite3.connect(folder / "db" / "nni.sqlite")
    db.execute("UPDATE MetricData SET data = ? WHERE rowid = 1", ("x" * 100_000,))
    db.commit()
    db.close()
    monkeypatch.setattr(_nni_database, "MAX_VALUE_BYTES", 50_000)
    with pytest.raises(HistoryError, match="cannot read the database"):
        load_history(folder)
