"""Ray Tune's own result files (CSV, JSON, TensorBoard) for an nni2ray run, without the
heartbeats, and without TensorBoardX delaying the first trial.

Tune adds these three loggers by itself, but its TensorBoardX logger is built before the
first trial starts, and ``import tensorboardX`` imports torch when torch is installed: about
3 s and 250 MB in the driver. Here the TensorBoardX logger is built in a background thread;
the events it misses meanwhile are replayed to it, in order, once it exists.
"""

from __future__ import annotations

import threading
from typing import Any

from ray.tune import Callback
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

from nni2ray.trials import MetricType, ResultKey

#: Seconds to wait at the end of a run for a TensorBoardX logger still being built.
TBX_WAIT_S = 120.0


def _build_tbx() -> Callback | None:
    try:
        from ray.tune.logger import TBXLoggerCallback

        return TBXLoggerCallback()
    except ImportError:  # no tensorboardX: Tune itself only warns in that case
        return None


class TuneResultLoggers(Callback):
    """CSV and JSON loggers at once, the TensorBoardX logger as soon as it has loaded.

    Tune calls every hook with keyword arguments only; the hooks take them as ``**info``
    and forward them unchanged (hence the ``override`` ignores).
    """

    def __init__(self) -> None:
        self._now: list[Callback] = [CSVLoggerCallback(), JsonLoggerCallback()]
        self._tbx: Callback | None = None
        self._pending: list[tuple[str, dict[str, Any]]] | None = []
        self._setup_info: dict[str, Any] = {}
        self._thread: threading.Thread | None = None
        self._built: list[Callback | None] = []

    def setup(self, **info: Any) -> None:  # type: ignore[override]
        for callback in self._now:
            callback.setup(**info)
        self._setup_info = info
        self._thread = threading.Thread(
            target=lambda: self._built.append(_build_tbx()), name="nni2ray-tbx", daemon=True
        )
        self._thread.start()

    def _forward(self, name: str, info: dict[str, Any]) -> None:
        for callback in self._now:
            getattr(callback, name)(**info)
        if self._pending is not None and not self._built:
            self._pending.append((name, info))  # the TensorBoardX logger is still loading
            return
        self._flush()
        if self._tbx is not None:
            getattr(self._tbx, name)(**info)

    def _flush(self) -> None:
        # Runs in Tune's loop thread only: build the logger's state, then replay in order.
        if self._pending is None:
            return
        pending, self._pending = self._pending, None
        self._tbx = self._built[0] if self._built else None
        if self._tbx is None:
            return
        self._tbx.setup(**self._setup_info)
        for name, info in pending:
            getattr(self._tbx, name)(**info)

    def on_trial_result(self, **info: Any) -> None:  # type: ignore[override]
        if info["result"].get(ResultKey.TYPE) != MetricType.HEARTBEAT:
            self._forward("on_trial_result", info)

    def on_trial_start(self, **info: Any) -> None:  # type: ignore[override]
        self._forward("on_trial_start", info)

    def on_trial_restore(self, **info: Any) -> None:  # type: ignore[override]
        self._forward("on_trial_restore", info)

    def on_trial_save(self, **info: Any) -> None:  # type: ignore[override]
        self._forward("on_trial_save", info)

    def on_trial_complete(self, **info: Any) -> None:  # type: ignore[override]
        self._forward("on_trial_complete", info)

    def on_trial_error(self, **info: Any) -> None:  # type: ignore[override]
        self._forward("on_trial_error", info)

    def on_experiment_end(self, **info: Any) -> None:  # type: ignore[override]
        if self._thread is not None:
            self._thread.join(TBX_WAIT_S)
        if self._built or self._pending is not None:
            self._flush()
        for callback in [*self._now, self._tbx]:
            if callback is not None:
                callback.on_experiment_end(**info)

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks with the experiment state; a thread does not pickle.
        return dict(self.__dict__, _thread=None, _built=[], _tbx=None, _pending=[])
