"""Python experiment-API launchers: run the user's script in a child process with the
stand-in ``nni.experiment`` and serve the experiments it starts (no Ray here).

The child sends each config it builds over a pipe; the caller (``nni2ray run``/``check``)
loads it, runs it and answers. See :class:`LauncherSession`.
"""

from __future__ import annotations

from nni2ray.pyapi._session import (
    DEFAULT_GRACE_S,
    LauncherSession,
    StartRequest,
    is_launcher,
    launcher_error,
    launcher_of,
)

__all__ = [
    "DEFAULT_GRACE_S",
    "LauncherSession",
    "StartRequest",
    "is_launcher",
    "launcher_error",
    "launcher_of",
]
