"""The run folder that ``run``, ``import`` and ``--resume`` share, with no Ray: per-trial
records, the nnictl-style exports, the folder's name and creation, what a stopped run or an
NNI history holds (the prior), and reading NNI's own database."""

from __future__ import annotations

from nni2ray.results._disk import (
    DISK_FULL_REASON,
    RESERVE_FILE,
    SpaceReserve,
    disk_full_error,
    failed_path,
    free_bytes,
    is_disk_full,
    low_on_space,
    size_text,
)
from nni2ray.results._failures import FailureReport, failure_report
from nni2ray.results._folder import (
    RESULTS_DIR,
    RunStatus,
    default_output,
    inside_output,
    latest_output,
    new_experiment_id,
    prepare_output,
    probe_output,
)
from nni2ray.results._lock import LOCK_FILE, FolderLock, lock_output
from nni2ray.results._nni_database import load_history
from nni2ray.results._nni_history import NniHistory, NniTrial
from nni2ray.results._nni_import import to_record, write_import, write_trial
from nni2ray.results._prior import (
    ABANDONED,
    RUN_STOPPED,
    SAFE_ID,
    Prior,
    is_finished,
    is_safe_id,
    load_prior,
    prior_from_nni,
    read_run_meta,
)
from nni2ray.results._records import (
    TrialRecord,
    append_metric,
    rank,
    status_counts,
    write_exports,
    write_json,
)
from nni2ray.results._supervisor import RUN_TOKEN_ENV, Supervisor, start_supervisor
from nni2ray.trials import FINISHED, RUNNING

__all__ = [
    "RUN_TOKEN_ENV",
    "DISK_FULL_REASON",
    "RESERVE_FILE",
    "SpaceReserve",
    "disk_full_error",
    "failed_path",
    "free_bytes",
    "is_disk_full",
    "low_on_space",
    "size_text",
    "ABANDONED",
    "FINISHED",
    "LOCK_FILE",
    "FolderLock",
    "RESULTS_DIR",
    "RUNNING",
    "RUN_STOPPED",
    "SAFE_ID",
    "FailureReport",
    "Supervisor",
    "NniHistory",
    "NniTrial",
    "Prior",
    "RunStatus",
    "TrialRecord",
    "append_metric",
    "default_output",
    "inside_output",
    "failure_report",
    "is_finished",
    "is_safe_id",
    "latest_output",
    "load_history",
    "load_prior",
    "lock_output",
    "new_experiment_id",
    "prepare_output",
    "prior_from_nni",
    "probe_output",
    "rank",
    "read_run_meta",
    "start_supervisor",
    "status_counts",
    "to_record",
    "write_exports",
    "write_import",
    "write_json",
    "write_trial",
]
