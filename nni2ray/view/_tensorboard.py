"""TensorBoard files that tell what each trial received and did, for runs and imports.

``RUN/tensorboard/<trial id>/`` holds one trial: its HParams session (the parameters the
trial received, nested choices as ``optimizer`` = ``adam`` and ``optimizer/lr`` with only
the branch taken; its real status), every intermediate result as ``intermediate/<key>`` per
step, and the final result under ``<key>`` (the tuned metric, ``default``, and the user's
other dict keys). ``RUN/tensorboard/`` itself holds the HParams experiment: which columns
exist. Nothing internal to Ray Tune or nni2ray is written.

The files are written with the ``tensorboard`` package's own protos and event writer (no
torch, no TensorFlow), the package needed to look at them anyway.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from nni2ray.errors import MissingDependencyError
from nni2ray.results import TrialRecord
from nni2ray.trials import FINAL, TrialStatus
from nni2ray.view._data import flatten_parameters
from nni2ray.view._run import RunInfo

#: The folder under the run, and the hyperparameter column that carries the trial's status.
TENSORBOARD_DIR = "tensorboard"
STATUS_COLUMN = "status"

_INSTALL_HINT = "pip install 'nni2ray[tensorboard]' (or pip install tensorboard)"


def tensorboard_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None


def _protos() -> Any:
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2  # type: ignore[import-untyped]
        from tensorboard.plugins.hparams import (  # type: ignore[import-untyped]
            api_pb2,
            metadata,
            plugin_data_pb2,
        )
        from tensorboard.summary.writer.event_file_writer import (  # type: ignore[import-untyped]
            EventFileWriter,
        )
    except ImportError:
        raise MissingDependencyError(
            "TensorBoard files need the tensorboard package, which is not installed",
            hint=_INSTALL_HINT,
        ) from None

    class Protos:
        event = event_pb2
        summary = summary_pb2
        api = api_pb2
        meta = metadata
        plugin = plugin_data_pb2
        writer = EventFileWriter

    return Protos


def hparam_value(value: Any) -> Any:
    """A parameter as TensorBoard keeps it: bool, number or string (others as JSON)."""
    if isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, sort_keys=True)


def trial_hparams(record: TrialRecord, status_column: str = STATUS_COLUMN) -> dict[str, Any]:
    """The trial's parameters as HParams columns, plus its status."""
    hparams = {k: hparam_value(v) for k, v in flatten_parameters(record.parameters).items()}
    hparams[status_column] = record.status
    return hparams


def metric_values(value: Any, metric: str) -> dict[str, float]:
    """A reported value as scalars: a dict's numeric keys, or the number under ``metric``."""
    mapping = value if isinstance(value, dict) else {metric: value}
    return {
        str(k): float(v)
        for k, v in mapping.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def write_tensorboard(info: RunInfo) -> Path:
    """Write (again, from scratch) ``RUN/tensorboard`` for every trial of the run.

    Raises:
        MissingDependencyError: the tensorboard package is not installed.
    """
    pb = _protos()
    logdir = info.folder / TENSORBOARD_DIR
    if logdir.exists():
        shutil.rmtree(logdir)  # nni2ray's own folder: rebuilt from the records
    logdir.mkdir()
    names = {k for r in info.records for k in flatten_parameters(r.parameters)}
    status_column = STATUS_COLUMN if STATUS_COLUMN not in names else f"trial {STATUS_COLUMN}"
    metric_keys: list[str] = []
    hparams: list[dict[str, Any]] = []
    for record in info.records:
        hparams.append(trial_hparams(record, status_column))
        for row in record.metrics:
            for key in metric_values(row["value"], info.metric):
                if key not in metric_keys:
                    metric_keys.append(key)
    _write(pb, logdir, [_experiment(pb, hparams, metric_keys, info)], info.start_time)
    for record, trial_hparams_ in zip(info.records, hparams, strict=True):
        _write_trial(pb, logdir / record.trial_id, record, trial_hparams_, info.metric)
    return logdir


def _write(pb: Any, folder: Path, events: list[Any], wall_time: float | None) -> None:
    writer = pb.writer(str(folder))
    for event in events:
        if not event.wall_time:
            event.wall_time = wall_time or 0.0
        writer.add_event(event)
    writer.close()


def _plugin_summary(pb: Any, tag: str, data: Any) -> Any:
    summary = pb.summary.Summary()
    summary.value.add(
        tag=tag, metadata=pb.meta.create_summary_metadata(data), tensor=pb.meta.NULL_TENSOR
    )
    return summary


def _experiment(
    pb: Any, hparams: list[dict[str, Any]], metric_keys: list[str], info: RunInfo
) -> Any:
    experiment = pb.api.Experiment(time_created_secs=info.start_time or 0.0)
    for name in sorted({k for h in hparams for k in h}):
        values = [h[name] for h in hparams if name in h]
        info_pb = experiment.hparam_infos.add(name=name)
        if all(isinstance(v, bool) for v in values):
            info_pb.type = pb.api.DATA_TYPE_BOOL
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            info_pb.type = pb.api.DATA_TYPE_FLOAT64
        else:
            info_pb.type = pb.api.DATA_TYPE_STRING
            info_pb.domain_discrete.extend(sorted({str(v) for v in values}))
    for key in metric_keys:
        experiment.metric_infos.add(name=pb.api.MetricName(tag=key), display_name=key)
    data = pb.plugin.HParamsPluginData(experiment=experiment)
    return pb.event.Event(summary=_plugin_summary(pb, pb.meta.EXPERIMENT_TAG, data))


def _status(pb: Any, status: str) -> int:
    """TensorBoard knows success, failure and running; the exact status is a column."""
    known: dict[str, Any] = {
        TrialStatus.SUCCEEDED: pb.api.STATUS_SUCCESS,
        TrialStatus.FAILED: pb.api.STATUS_FAILURE,
        TrialStatus.RUNNING: pb.api.STATUS_RUNNING,
    }
    return int(known.get(status, pb.api.STATUS_UNKNOWN))


def _write_trial(
    pb: Any, folder: Path, record: TrialRecord, hparams: dict[str, Any], metric: str
) -> None:
    start = pb.plugin.SessionStartInfo(
        group_name=record.trial_id, start_time_secs=record.start_time
    )
    for name, value in hparams.items():
        if isinstance(value, bool):
            start.hparams[name].bool_value = value
        elif isinstance(value, (int, float)):
            start.hparams[name].number_value = value
        else:
            start.hparams[name].string_value = str(value)
    start_data = pb.plugin.HParamsPluginData(session_start_info=start)
    events = [
        pb.event.Event(
            wall_time=record.start_time,
            summary=_plugin_summary(pb, pb.meta.SESSION_START_INFO_TAG, start_data),
        )
    ]
    step = 0
    for row in record.metrics:
        final = row["type"] == FINAL
        step += 0 if final else 1
        prefix = "" if final else "intermediate/"
        summary = pb.summary.Summary()
        for key, value in metric_values(row["value"], metric).items():
            summary.value.add(tag=prefix + key, simple_value=value)
        wall = row.get("time") if isinstance(row.get("time"), (int, float)) else record.start_time
        if summary.value:
            events.append(pb.event.Event(wall_time=wall, step=step, summary=summary))
    if record.status != "RUNNING":
        end = pb.plugin.SessionEndInfo(
            status=_status(pb, record.status), end_time_secs=record.end_time or 0.0
        )
        end_data = pb.plugin.HParamsPluginData(session_end_info=end)
        events.append(
            pb.event.Event(
                wall_time=record.end_time or record.start_time,
                step=step,
                summary=_plugin_summary(pb, pb.meta.SESSION_END_INFO_TAG, end_data),
            )
        )
    _write(pb, folder, events, record.start_time)


def tensorboard_for(folder: Path) -> str:
    """Write the run's TensorBoard files; the line that says how to open them (or, when
    the tensorboard package is missing, how to install it)."""
    if not tensorboard_available():
        return f"TensorBoard: files not written (needs the tensorboard package: {_INSTALL_HINT})"
    from nni2ray.view._run import load_run

    logdir = write_tensorboard(load_run(folder))
    return f"TensorBoard: tensorboard --logdir {logdir}"
