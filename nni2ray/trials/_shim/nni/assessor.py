"""NNI's ``Assessor`` base class and ``AssessResult``, so custom assessors import unchanged."""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any

from .recoverable import Recoverable

__all__ = ["AssessResult", "Assessor"]

_logger = logging.getLogger(__name__)


class AssessResult(Enum):
    """An assessor's verdict on a running trial: keep it (Good) or stop it early (Bad)."""

    Good = True
    Bad = False


class Assessor(Recoverable):
    """Decides from a trial's intermediate results whether it should stop early."""

    def assess_trial(self, trial_job_id: str, trial_history: list[Any]) -> AssessResult:
        """Judge a trial from its intermediate results so far, in sequence order."""
        raise NotImplementedError("Assessor: assess_trial not implemented")

    def trial_end(self, trial_job_id: str, success: bool) -> None:
        """Called when a trial that reported intermediate results ends; no-op by default."""

    def load_checkpoint(self) -> None:
        """Log that the checkpoint is ignored, as NNI's default does."""
        path = self.get_checkpoint_path()
        _logger.info("Load checkpoint ignored by assessor, checkpoint path: %s", path)

    def save_checkpoint(self) -> None:
        """Log that the checkpoint is ignored, as NNI's default does."""
        path = self.get_checkpoint_path()
        _logger.info("Save checkpoint ignored by assessor, checkpoint path: %s", path)

    def _on_exit(self) -> None:
        pass

    def _on_error(self) -> None:
        pass
