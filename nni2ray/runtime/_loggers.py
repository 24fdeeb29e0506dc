"""Ray Tune's own result files (``progress.csv``, ``result.json``) for an nni2ray run,
without the heartbeats.

Tune's TensorBoardX logger is left out: its HParams showed the searcher's internal values
(latent numbers, a nested choice's index with the branches not taken, nni2ray's own keys)
and marked every trial a success. nni2ray writes honest TensorBoard files itself from the
trial records (``RUN/tensorboard``, see ``nni2ray.view``); leaving the logger out also
spares the driver ``import tensorboardX``, which imports torch.
"""

from __future__ import annotations

from typing import Any

from ray.tune import Callback
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

from nni2ray.trials import HEARTBEAT


class TuneResultLoggers(Callback):
    """Tune's CSV and JSON loggers, fed every result but heartbeats."""

    def __init__(self) -> None:
        self._loggers: list[Callback] = [CSVLoggerCallback(), JsonLoggerCallback()]

    def setup(self, **info: Any) -> None:
        for callback in self._loggers:
            callback.setup(**info)

    def _forward(self, name: str, info: dict[str, Any]) -> None:
        for callback in self._loggers:
            getattr(callback, name)(**info)

    def on_trial_result(self, **info: Any) -> None:
        if info["result"].get("nni_type") != HEARTBEAT:
            self._forward("on_trial_result", info)

    def on_trial_start(self, **info: Any) -> None:
        self._forward("on_trial_start", info)

    def on_trial_restore(self, **info: Any) -> None:
        self._forward("on_trial_restore", info)

    def on_trial_save(self, **info: Any) -> None:
        self._forward("on_trial_save", info)

    def on_trial_complete(self, **info: Any) -> None:
        self._forward("on_trial_complete", info)

    def on_trial_error(self, **info: Any) -> None:
        self._forward("on_trial_error", info)

    def on_experiment_end(self, **info: Any) -> None:
        for callback in self._loggers:
            callback.on_experiment_end(**info)
