"""What people look at after (or during) a run, with no Ray: ``list`` and ``show``, the web
view (``nni2ray view``) and TensorBoard files, all read from the run folder."""

from __future__ import annotations

from nni2ray.view._data import flatten_parameters, page_data
from nni2ray.view._page import plotly_js_path, report_page, write_report
from nni2ray.view._run import RunInfo, find_runs, last_line, load_run, read_trial, tail
from nni2ray.view._server import make_server, serve
from nni2ray.view._summary import (
    failed_trials,
    list_entry,
    list_lines,
    show_json,
    show_lines,
    status_counts,
    summary_lines,
)
from nni2ray.view._tensorboard import TENSORBOARD_DIR, tensorboard_for, write_tensorboard

__all__ = [
    "TENSORBOARD_DIR",
    "RunInfo",
    "failed_trials",
    "find_runs",
    "flatten_parameters",
    "last_line",
    "list_entry",
    "list_lines",
    "load_run",
    "make_server",
    "page_data",
    "plotly_js_path",
    "report_page",
    "serve",
    "read_trial",
    "show_json",
    "show_lines",
    "status_counts",
    "summary_lines",
    "tail",
    "tensorboard_for",
    "write_report",
    "write_tensorboard",
]
