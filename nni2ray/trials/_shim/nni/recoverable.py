"""NNI's ``Recoverable``: the checkpoint hooks shared by tuners and assessors."""

from __future__ import annotations

import os


class Recoverable:
    """Base of Tuner and Assessor; NNI calls ``load_checkpoint`` when an experiment resumes."""

    def load_checkpoint(self) -> None:
        """Restore state from :meth:`get_checkpoint_path`; does nothing by default."""

    def save_checkpoint(self) -> None:
        """Save state to :meth:`get_checkpoint_path`; does nothing by default."""

    def get_checkpoint_path(self) -> str | None:
        """``$NNI_CHECKPOINT_DIRECTORY`` if it names an existing directory, else None."""
        path = os.getenv("NNI_CHECKPOINT_DIRECTORY")
        if path is not None and os.path.isdir(path):
            return path
        return None
