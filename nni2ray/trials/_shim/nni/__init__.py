"""nni2ray's stand-in for the ``nni`` package: NNI's trial API over nni2ray's channel.

Importing it does no work: no file is read and nothing is connected until the first call.
"""

from __future__ import annotations

from . import smartparam, trial, utils
from ._serializer import dump, load, trace
from .smartparam import *  # noqa: F403  (NNI 2.x annotation helpers: choice, uniform, ...)
from .trial import *  # noqa: F403  (the trial API, as NNI's own package does)
from .utils import ClassArgsValidator

__version__ = "3.0+nni2ray"  # the NNI API level it mirrors, marked as a stand-in


class NoMoreTrialError(Exception):
    """Raised by a tuner's ``generate_parameters`` when it has nothing to suggest."""

    def __init__(self, ErrorInfo: str = "Search space fully explored") -> None:  # noqa: N803
        super().__init__(ErrorInfo)
        self.errorinfo = ErrorInfo


if __name__ == "nni":  # as the trial's `nni`, not when nni2ray imports this as its own module
    from . import _fallback

    _fallback.install()

__all__ = [
    "ClassArgsValidator",
    "NoMoreTrialError",
    "dump",
    "load",
    "trace",
    "utils",
    *smartparam.__all__,
    *trial.__all__,
]
