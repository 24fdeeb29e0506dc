"""What people look at after (or during) a run, with no Ray: ``list`` and ``show``, the web
view (``nni2ray view``) and TensorBoard files, all read from the run folder."""

from __future__ import annotations

from nni2ray.view._data import flatten_parameters, page_data
from nni2ray.view._run import RunInfo, find_runs, last_line, load_run, read_trial, tail
from nni2ray.view._summary import (
    failed_trials,
    list_entry,
    list_lines,
    show_json,
    show_lines,
    status_counts,
    summary_lines,
)

__all__ = [
    "RunInfo",
    "failed_trials",
    "find_runs",
    "flatten_parameters",
    "last_line",
    "list_entry",
    "list_lines",
    "load_run",
    "page_data",
    "read_trial",
    "show_json",
    "show_lines",
    "status_counts",
    "summary_lines",
    "tail",
]
