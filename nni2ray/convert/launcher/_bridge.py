"""The text of ``tune_trial_bridge/sitecustomize.py``, copied into converted projects whose
trial command runs in a shell (standard library only)."""

from __future__ import annotations

#: Where the bridge goes in a converted project (a folder put first on the trial's PYTHONPATH).
BRIDGE_FILE = "tune_trial_bridge/sitecustomize.py"

BRIDGE_SOURCE = '''"""Forward a subprocess trial's `tune.report` calls to the launcher (stdlib).

Written by nni2ray. tune_experiment.py runs a shell trial command with this folder first on
PYTHONPATH and a pipe's write end in TUNE_BRIDGE_FD. When the trial's Python code imports
`ray.tune`, its `report` is replaced by one that writes each metrics dict as a JSON line to
the pipe; the launcher reads the lines and calls the real `tune.report` in the Tune trial.
Without TUNE_BRIDGE_FD (any other Python started with this folder on the path) it does nothing.
"""

import importlib.util
import json
import os
import sys

_FD = os.environ.get("TUNE_BRIDGE_FD")


def _plain(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def report(metrics, *args, **kwargs):
    """Ray Tune's `tune.report(metrics)`, sent to the launcher instead."""
    line = json.dumps(dict(metrics), default=_plain) + "\\n"
    os.write(int(_FD), line.encode("utf-8"))


class _PatchRayTune:
    """Import hook: once `ray.tune` is loaded, its `report` becomes :func:`report`."""

    def find_spec(self, name, path=None, target=None):
        if name != "ray.tune":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            module.report = report

        spec.loader.exec_module = exec_module
        return spec


if _FD is not None:
    sys.meta_path.insert(0, _PatchRayTune())
'''
