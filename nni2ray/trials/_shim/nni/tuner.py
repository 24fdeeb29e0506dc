"""NNI's ``Tuner`` base class, so that custom tuner files import unchanged."""

from __future__ import annotations

import logging
from typing import Any

from .recoverable import Recoverable

__all__ = ["Tuner"]

_logger = logging.getLogger(__name__)


class Tuner(Recoverable):
    """Generates parameter sets and learns from the final results of the trials that ran them.

    Subclasses implement :meth:`update_search_space`, :meth:`generate_parameters` and
    :meth:`receive_trial_result`; the other methods have NNI's defaults.
    """

    _accept_customized = False

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> Any:
        """Return one JSON-serialisable parameter set, or raise ``nni.NoMoreTrialError``."""
        raise NotImplementedError("Tuner: generate_parameters not implemented")

    def generate_multiple_parameters(
        self, parameter_id_list: list[Any], **kwargs: Any
    ) -> list[Any]:
        """Call :meth:`generate_parameters` per id; stop early at ``nni.NoMoreTrialError``."""
        from . import NoMoreTrialError

        result = []
        for parameter_id in parameter_id_list:
            try:
                _logger.debug("generating param for %s", parameter_id)
                result.append(self.generate_parameters(parameter_id, **kwargs))
            except NoMoreTrialError:
                return result
        return result

    def receive_trial_result(
        self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any
    ) -> None:
        """Learn from one final result (``value`` as the trial reported it)."""
        raise NotImplementedError("Tuner: receive_trial_result not implemented")

    def _accept_customized_trials(self, accept: bool = True) -> None:
        self._accept_customized = accept

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        """Called when a trial ends; does nothing by default."""

    def update_search_space(self, search_space: Any) -> None:
        """Receive the experiment's search space (first call, and on every update)."""
        raise NotImplementedError("Tuner: update_search_space not implemented")

    def load_checkpoint(self) -> None:
        """Log that the checkpoint is ignored, as NNI's default does."""
        path = self.get_checkpoint_path()
        _logger.info("Load checkpoint ignored by tuner, checkpoint path: %s", path)

    def save_checkpoint(self) -> None:
        """Log that the checkpoint is ignored, as NNI's default does."""
        path = self.get_checkpoint_path()
        _logger.info("Save checkpoint ignored by tuner, checkpoint path: %s", path)

    def import_data(self, data: list[Any]) -> None:
        """Receive earlier results (``[{"parameter": ..., "value": ...}]``); ignored by default."""

    def _on_exit(self) -> None:
        pass

    def _on_error(self) -> None:
        pass
