"""Find and read ``db/nni.sqlite``: replay the trials' events, join metrics by parameterId.

The schema and the replay rules are NNI's: a trial's last event is its status, its first
FINAL row is its result, and metrics find their parameters by parameterId. The database is
opened read-only and every value is checked before use: a hostile or damaged file gives one
located :class:`HistoryError`, never a traceback and never a write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nni2ray.errors import HistoryError
from nni2ray.limits import TOO_DEEP, check_size
from nni2ray.results._nni_history import NniHistory, NniTrial
from nni2ray.results._prior import is_safe_id
from nni2ray.trials import FINAL, TERMINAL, MetricType, TrialStatus

SQLITE_MAGIC = b"SQLite format 3\x00"

#: Columns nni2ray reads; NNI 1.x-2.0 lack TrialJobEvent.message/environmentId (not read).
REQUIRED = {
    "TrialJobEvent": ("timestamp", "trialJobId", "event", "data", "logPath", "sequenceId"),
    "MetricData": ("timestamp", "trialJobId", "parameterId", "type", "sequence", "data"),
    "ExperimentProfile": ("params", "id", "startTime", "endTime", "nextSequenceId", "revision"),
}

#: TrialJobEvent.event values: a status, or one of NNI's bookkeeping events.
STATUSES = frozenset(TrialStatus) | {"ADD_RESUMED"}
SPECIAL = frozenset({"USER_TO_CANCEL", "ADD_CUSTOMIZED", "ADD_HYPERPARAMETER", "IMPORT_DATA"})
METRIC_TYPES = frozenset({MetricType.PERIODICAL, MetricType.FINAL})

#: Rows read from one table at most (the query has a LIMIT); more is refused.
MAX_ROWS = 5_000_000
#: Bytes of one text or blob value at most (SQLite's own length limit on the connection).
MAX_VALUE_BYTES = 16 * 1024 * 1024


def locate_database(path: Path) -> Path:
    """``path`` itself (a database file), or ``path/db/nni.sqlite``.

    Raises:
        HistoryError: there is no database there.
    """
    if path.is_file():
        return path
    for candidate in (path / "db" / "nni.sqlite", path / "nni.sqlite"):
        if candidate.is_file():
            return candidate
    raise HistoryError(
        "no NNI experiment database here (tried db/nni.sqlite)",
        file=path,
        hint="pass an NNI experiment folder such as ~/nni-experiments/<id>",
    )


def load_history(path: Path) -> NniHistory:
    """Read an NNI experiment folder (or its ``nni.sqlite``) into an :class:`NniHistory`.

    Raises:
        HistoryError: the folder or database cannot be read as NNI's history.
    """
    database = locate_database(path)
    _check_magic(database)
    try:
        with _connect(database) as db:
            for table, columns in REQUIRED.items():
                _check_table(db, database, table, columns)
            history = _profile(db, database)
            _replay_events(db, database, history)
            _attach_metrics(db, database, history)
    except sqlite3.Error as exc:
        raise HistoryError(
            f"cannot read the database ({exc})", file=database, hint="is it an NNI nni.sqlite?"
        ) from None
    history.trials.sort(key=lambda t: (t.sequence, t.trial_id))
    return history


def _check_magic(database: Path) -> None:
    try:
        with open(database, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise HistoryError(f"cannot read the file ({exc.strerror})", file=database) from None
    if head != SQLITE_MAGIC:
        raise HistoryError("not an SQLite database", file=database, hint="pass NNI's db/nni.sqlite")


class _connect:
    """A read-only connection to a file treated as immutable (``mode=ro&immutable=1``: no
    lock, no ``-wal``/``-shm`` file is created beside it, even for a WAL-mode database)."""

    def __init__(self, database: Path) -> None:
        uri = database.resolve().as_uri() + "?mode=ro&immutable=1"
        self.db = sqlite3.connect(uri, uri=True)
        self.db.row_factory = sqlite3.Row
        self.db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        self.db.execute("PRAGMA query_only = ON")
        self.db.execute("PRAGMA temp_store = MEMORY")  # no temp files beside anything

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()


def _check_table(
    db: sqlite3.Connection, database: Path, table: str, columns: tuple[str, ...]
) -> None:
    kinds = db.execute(
        "SELECT type, sql FROM sqlite_master WHERE name = ? COLLATE NOCASE LIMIT 2", (table,)
    ).fetchall()
    if kinds and (kinds[0]["type"] != "table" or "VIRTUAL" in str(kinds[0]["sql"]).upper()):
        raise HistoryError(
            f"{table} is a {kinds[0]['type']}, not a plain table (NNI writes tables only)",
            file=database,
            field=table,
            hint="pass the nni.sqlite NNI wrote",
        )
    found = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
    if not found:
        raise HistoryError(f"table {table} is missing", file=database, hint="is it NNI's?")
    missing = [c for c in columns if c not in found]
    if missing:
        raise HistoryError(
            f"table {table} has no column {', '.join(missing)}", file=database, field=table
        )


def _rows(db: sqlite3.Connection, database: Path, table: str) -> Iterator[sqlite3.Row]:
    """The table's rows in order, at most :data:`MAX_ROWS` (one more is an error)."""
    query = f"SELECT rowid, * FROM {table} ORDER BY rowid LIMIT ?"  # noqa: S608 (fixed names)
    for count, row in enumerate(db.execute(query, (MAX_ROWS + 1,)), 1):
        if count > MAX_ROWS:
            raise HistoryError(
                f"{table} has more than {MAX_ROWS:,} rows (the limit is {MAX_ROWS:,})",
                file=database,
                field=table,
            )
        yield row


def _profile(db: sqlite3.Connection, database: Path) -> NniHistory:
    best = None
    for row in _rows(db, database, "ExperimentProfile"):
        where = _Where(database, "ExperimentProfile", row["rowid"])
        revision = where.integer(row, "revision")
        if best is None or (revision or 0) >= best[0]:
            best = (revision or 0, row)
    if best is None:
        raise HistoryError("ExperimentProfile has no row", file=database, field="ExperimentProfile")
    row = best[1]
    where = _Where(database, "ExperimentProfile", row["rowid"])
    config = where.json(row, "params")
    if not isinstance(config, dict):
        raise where.error("params", "is not a JSON object")
    experiment_id = where.text(row, "id") or database.parent.parent.name
    return NniHistory(
        database=database,
        experiment_id=experiment_id,
        config=config,
        trials=[],
        next_sequence=where.integer(row, "nextSequenceId") or 0,
        start_time=_seconds(where.integer(row, "startTime")),
        end_time=_seconds(where.integer(row, "endTime")),
    )


def _replay_events(db: sqlite3.Connection, database: Path, history: NniHistory) -> None:
    trials: dict[str, NniTrial] = {}
    for row in _rows(db, database, "TrialJobEvent"):
        where = _Where(database, "TrialJobEvent", row["rowid"])
        trial_id = where.text(row, "trialJobId")
        event = where.text(row, "event")
        if event not in STATUSES | SPECIAL:
            raise where.error("event", f"unknown event {event!r}")
        if not trial_id:  # IMPORT_DATA / ADD_CUSTOMIZED rows: no trial
            continue
        trial = trials.get(trial_id) or trials.setdefault(trial_id, _new_trial(where, trial_id))
        _apply_event(trial, event, where.integer(row, "timestamp"))
        data = where.text(row, "data")
        if data and trial.recorded_parameter_id is None:
            record = where.json(row, "data")
            if not isinstance(record, dict) or "parameters" not in record:
                raise where.error("data", "is not an NNI parameter record")
            trial.recorded_parameter_id = str(record.get("parameter_id"))
            trial.parameter_id, trial.parameters = trial.recorded_parameter_id, record["parameters"]
        sequence = where.integer(row, "sequenceId")
        if trial.sequence < 0 and sequence is not None:
            trial.sequence = sequence
        trial.log_path = trial.log_path or where.text(row, "logPath")
    history.trials = list(trials.values())


def _new_trial(where: _Where, trial_id: str) -> NniTrial:
    if not is_safe_id(trial_id):
        raise where.error(
            "trialJobId", f"{trial_id[:40]!r} cannot be used as a folder name (unsafe characters)"
        )
    return NniTrial(trial_id)


def _apply_event(trial: NniTrial, event: str, timestamp: int | None) -> None:
    # NNI's getTrialJobsByReplayEvents: the last event wins, with these renames.
    if event == "USER_TO_CANCEL":
        trial.status = TrialStatus.USER_CANCELED
    elif event == "ADD_CUSTOMIZED":
        trial.status = TrialStatus.WAITING
    elif event != "ADD_HYPERPARAMETER":
        trial.status = event
    when = _seconds(timestamp)
    if event == TrialStatus.RUNNING or (event == TrialStatus.WAITING and trial.start_time is None):
        trial.start_time = when
    if event in TERMINAL:
        trial.end_time = when
        trial.start_time = trial.start_time if trial.start_time is not None else when


def _attach_metrics(db: sqlite3.Connection, database: Path, history: NniHistory) -> None:
    by_id = {t.trial_id: t for t in history.trials}
    params_by_id = {
        t.recorded_parameter_id: t.parameters
        for t in history.trials
        if t.recorded_parameter_id is not None
    }
    for row in _rows(db, database, "MetricData"):
        where = _Where(database, "MetricData", row["rowid"])
        trial_id = where.text(row, "trialJobId")
        if not trial_id:
            raise where.error("trialJobId", "is empty")
        trial = by_id.get(trial_id)
        if trial is None:  # metrics of a trial without events: keep them, status unknown
            trial = by_id[trial_id] = _new_trial(where, trial_id)
            history.trials.append(trial)
        kind = where.text(row, "type")
        if kind not in METRIC_TYPES:
            raise where.error("type", f"must be PERIODICAL or FINAL (got {kind!r})")
        value = _metric_value(where, row)
        if not trial.metrics:
            _join_parameters(trial, where.scalar(row, "parameterId"), params_by_id)
        if kind == FINAL and any(m["type"] == FINAL for m in trial.metrics):
            history.dropped_finals += 1  # NNI keeps only the first final result
            continue
        trial.metrics.append(
            {
                "type": kind,
                "sequence": where.integer(row, "sequence") or 0,
                "value": value,
                "time": _seconds(where.integer(row, "timestamp")),
            }
        )


def _join_parameters(trial: NniTrial, parameter_id: Any, params_by_id: dict[str, Any]) -> None:
    # NNI 3.0 local hands parameters to whichever trial asks first: the
    # metric's parameterId names the set the trial really ran with.
    if parameter_id is None:
        return
    key = str(parameter_id)
    if key in params_by_id:
        trial.parameter_id, trial.parameters = key, params_by_id[key]


def _metric_value(where: _Where, row: sqlite3.Row) -> Any:
    # Stored JSON-encoded twice: a JSON string literal holding the nni.dump of the value.
    value = where.json(row, "data")
    if isinstance(value, str):
        try:
            value = _loads(value)
        except ValueError as exc:
            raise where.error("data", f"is not an NNI metric ({exc})") from None
    return value


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000.0


def _loads(text: str) -> Any:
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    check_size(data)
    return data


class _Where:
    """One row of one table: typed reads that fail with a located HistoryError."""

    def __init__(self, database: Path, table: str, rowid: int) -> None:
        self.database, self.table, self.rowid = database, table, rowid

    def error(self, column: str, message: str) -> HistoryError:
        return HistoryError(
            message,
            file=self.database,
            field=f"{self.table} row {self.rowid}: {column}",
            hint="the database is damaged or not NNI's",
        )

    def text(self, row: sqlite3.Row, column: str) -> str | None:
        value = row[column]
        if value is not None and not isinstance(value, str):
            raise self.error(column, f"must be text (got {type(value).__name__})")
        return value

    def integer(self, row: sqlite3.Row, column: str) -> int | None:
        value = row[column]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.error(column, f"must be an integer (got {_show(value)})")
        if value is not None and abs(value) > 2**53:
            raise self.error(column, f"is out of range (got {value})")
        return value

    def scalar(self, row: sqlite3.Row, column: str) -> str | int | None:
        value = row[column]
        if value is not None and not isinstance(value, (str, int)):
            raise self.error(column, f"must be text or an integer (got {_show(value)})")
        return value

    def json(self, row: sqlite3.Row, column: str) -> Any:
        text = self.text(row, column)
        if text is None:
            raise self.error(column, "is empty")
        try:
            return _loads(text)
        except ValueError as exc:
            reason = str(exc).split(":")[0]
            raise self.error(column, f"is not valid JSON ({reason})") from None


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return f"{len(value)}-byte blob"
    return type(value).__name__
