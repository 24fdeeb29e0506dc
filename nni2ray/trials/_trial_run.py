"""Turn one running trial process into the sequence of results Tune sees (no Ray import).

The result rows' keys, metric types and statuses are named in :mod:`nni2ray.trials.keys`.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from typing import Any

from nni2ray.trials._process import LaunchSpec, TrialProcess
from nni2ray.trials._shim.nni import _wire
from nni2ray.trials._warm import Template, WarmCommand
from nni2ray.trials.keys import MetricType, ResultKey, TrialStatus


def finite_scalar(value: Any) -> float | None:
    """The tuned number of a metric (:func:`_wire.scalar_of`) if it is finite, else None."""
    scalar = _wire.scalar_of(value)
    return scalar if scalar is not None and math.isfinite(scalar) else None


_INT64 = 1 << 63


def reported_value(result: dict[str, Any]) -> Any:
    """The metric of a result row exactly as the trial reported it (the inverse of the
    row :class:`TrialRun` yields).

    ``nni_value`` is made safe for Tune's loggers, and searchers and schedulers receive it
    flattened (``{"nni_value/default": ...}``); the JSON text survives both.
    """
    text = result.get(ResultKey.VALUE_JSON)
    if isinstance(text, str):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            pass
    if ResultKey.VALUE in result:
        return result[ResultKey.VALUE]
    prefix = ResultKey.VALUE + "/"
    flat = {k[len(prefix) :]: v for k, v in result.items() if k.startswith(prefix)}
    return _unflatten(flat) if flat else None


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, last = key.split("/")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return nested


def tune_safe(value: Any) -> Any:
    """``value`` with every integer outside the signed 64-bit range made a float, or its
    decimal text when it is beyond float range too (``10**400``); the rest unchanged."""
    if isinstance(value, bool) or value is None or isinstance(value, (float, str)):
        return value
    if isinstance(value, int):
        if -_INT64 <= value < _INT64:
            return value
        try:
            return float(value)
        except OverflowError:
            return str(value)
    if isinstance(value, dict):
        return {key: tune_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [tune_safe(item) for item in value]
    return value


class TrialRun:
    """One trial: its process plus the bookkeeping that orders its results.

    A final result is held back until the process exits (NNI lets a trial go on working
    after ``report_final_result``), so that it is the trial's last result. While nothing
    arrives, a heartbeat result is returned every ``heartbeat_s`` so that Tune can deliver
    a stop to the actor.
    """

    def __init__(
        self,
        spec: LaunchSpec,
        *,
        max_duration_s: float | None,
        heartbeat_s: float = 2.0,
        warm: tuple[Template, WarmCommand] | None = None,
    ) -> None:
        self.process = TrialProcess(spec, warm)
        start = time.monotonic()
        self._deadline = start + max_duration_s if max_duration_s else math.inf
        self._heartbeat_s = heartbeat_s
        self._pending_final: dict[str, Any] | None = None
        self._out: deque[dict[str, Any]] = deque()
        self._periodical = 0
        self.end_result: dict[str, Any] | None = None
        self._ending: tuple[TrialStatus, str] | None = None
        self._final_seen = False
        self.ignored_finals: list[str] = []

    def next_result(self) -> dict[str, Any]:
        """Block until the next result for Tune is ready and return it."""
        heartbeat_at = time.monotonic() + self._heartbeat_s
        while True:
            if self._out:
                return self._out.popleft()
            if self.end_result is not None:
                return dict(self.end_result)
            if self._ending is not None:  # every message before the end was returned
                return self._end(*self._ending)
            if self.process.finished():
                return self._end(self._exit_status())
            now = time.monotonic()
            if now >= self._deadline:
                self.process.kill_tree()
                # What the trial reported before it was ended still counts, in order.
                for taken in self.process.take_all():
                    self._accept(taken)
                self._ending = (TrialStatus.EARLY_STOPPED, "maxTrialDuration")
                continue
            wait = min(heartbeat_at, self._deadline) - now
            if now >= heartbeat_at:
                return {ResultKey.TYPE: MetricType.HEARTBEAT, ResultKey.STEP: self._periodical}
            message = self.process.next_message(wait)
            if message is not None:
                self._accept(message)

    def stop(self) -> None:
        """End the trial's whole process tree (early stop, reuse, shutdown)."""
        self.process.kill_tree()

    def _accept(self, message: dict[str, Any]) -> None:
        if message["type"] == MetricType.PERIODICAL:
            self._periodical += 1
            self._flush_final()
            self._out.append(self._metric_result(message))
        elif self._final_seen:
            # NNI keeps a trial's first final result; later ones are kept aside and
            # reported as ignored, never given to the tuner.
            self.ignored_finals.append(json.dumps(message.get("value"), allow_nan=True))
        else:
            self._final_seen = True
            self._flush_final()
            self._pending_final = self._metric_result(message)

    def _flush_final(self) -> None:
        if self._pending_final is not None:
            self._out.append(self._pending_final)
            self._pending_final = None

    def _metric_result(self, message: dict[str, Any]) -> dict[str, Any]:
        value = message.get("value")
        result: dict[str, Any] = {
            ResultKey.TYPE: MetricType(message["type"]),
            ResultKey.SEQUENCE: message["sequence"],
            ResultKey.STEP: self._periodical,
            # What Tune's loggers see: integers beyond 64 bits as floats (or text when even a
            # float cannot hold them), which TensorBoard's and numpy's code can take.
            ResultKey.VALUE: tune_safe(value),
            # Tune flattens dict values in what searchers and schedulers see; the JSON text
            # keeps the metric exactly as reported for custom tuners and assessors.
            ResultKey.VALUE_JSON: json.dumps(value, allow_nan=True),
        }
        scalar = _wire.scalar_of(value)
        if scalar is not None:
            result[ResultKey.METRIC] = scalar
        return result

    def _exit_status(self) -> TrialStatus:
        return TrialStatus.SUCCEEDED if self.process.returncode == 0 else TrialStatus.FAILED

    def _end(self, status: TrialStatus, reason: str | None = None) -> dict[str, Any]:
        result = self._pending_final or {
            ResultKey.TYPE: MetricType.END,
            ResultKey.STEP: self._periodical,
        }
        self._pending_final = None
        result = dict(result)
        result[ResultKey.DONE] = True
        result[ResultKey.STATUS] = status
        result[ResultKey.EXIT_CODE] = self.process.returncode
        if reason:
            result[ResultKey.END_REASON] = reason
        if self.process.protocol_errors:
            result[ResultKey.PROTOCOL_ERRORS] = list(self.process.protocol_errors)
        if self.ignored_finals:
            result[ResultKey.IGNORED_FINALS] = list(self.ignored_finals)
        self.end_result = result
        return dict(result)
