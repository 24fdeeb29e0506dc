"""Ray Tune's own result files (``progress.csv``, ``result.json``) for an nni2ray run,
without the heartbeats.

Tune's TensorBoardX logger is left out: its HParams showed the searcher's internal values
(latent numbers, a nested choice's index with the branches not taken, nni2ray's own keys)
and marked every trial a success. nni2ray writes honest TensorBoard files itself from the
trial records (``RUN/tensorboard``, see ``nni2ray.view``); leaving the logger out also
spares the driver ``import tensorboardX``, which imports torch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ray.tune import Callback
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

from nni2ray.trials import MetricType, ResultKey


class TuneResultLoggers(Callback):
    """Tune's CSV and JSON loggers, fed every result but heartbeats."""

    def __init__(self, on_write_error: Callable[[OSError, Path], None] | None = None) -> None:
        self._loggers: list[Callback] = [
            CSVLoggerCallback(),
            JsonLoggerCallback(),
        ]
        #: Told of a failed write (a full disk stops the run there; anything else raises).
        self._on_write_error = on_write_error

    def _forward(self, name: str, **info: Any) -> None:
        for callback in self._loggers:
            try:
                getattr(callback, name)(**info)
            except OSError as exc:
                if self._on_write_error is None:
                    raise
                self._on_write_error(exc, Path(str(exc.filename or ".")))

    def setup(
        self,
        stop: Any = None,
        num_samples: int | None = None,
        total_num_samples: int | None = None,
        **info: Any,
    ) -> None:
        self._forward(
            "setup",
            stop=stop,
            num_samples=num_samples,
            total_num_samples=total_num_samples,
            **info,
        )

    def on_trial_result(
        self, iteration: int, trials: list[Any], trial: Any, result: dict[Any, Any], **info: Any
    ) -> None:
        if result.get(ResultKey.TYPE) != MetricType.HEARTBEAT:
            self._forward(
                "on_trial_result",
                iteration=iteration,
                trials=trials,
                trial=trial,
                result=result,
                **info,
            )

    def on_trial_start(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._forward("on_trial_start", iteration=iteration, trials=trials, trial=trial, **info)

    def on_trial_restore(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._forward("on_trial_restore", iteration=iteration, trials=trials, trial=trial, **info)

    def on_trial_save(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._forward("on_trial_save", iteration=iteration, trials=trials, trial=trial, **info)

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._forward("on_trial_complete", iteration=iteration, trials=trials, trial=trial, **info)

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._forward("on_trial_error", iteration=iteration, trials=trials, trial=trial, **info)

    def on_experiment_end(self, trials: list[Any], **info: Any) -> None:
        self._forward("on_experiment_end", trials=trials, **info)
