"""Run a launcher script as ``__main__`` with the stand-in ``nni.experiment`` importable.

``python -m nni.experiment._bootstrap SCRIPT [ARGS...]`` (started by ``nni2ray run``).
"""

from __future__ import annotations

import builtins
import os
import runpy
import sys
from typing import Any


def _input(prompt: Any = "") -> str:
    # nni2ray runs the launcher without a terminal: a script that waits for Enter (a
    # common "press Enter to stop the experiment") gets an empty line at once.
    sys.stdout.write(str(prompt))
    sys.stdout.write("\n")
    sys.stdout.flush()
    print("nni2ray: input() in the launcher answered with an empty line", file=sys.stderr)
    return ""


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m nni.experiment._bootstrap SCRIPT [ARGS...]")
    script = os.path.abspath(sys.argv[1])
    sys.argv = [sys.argv[1], *sys.argv[2:]]
    sys.path[0] = os.path.dirname(script)
    builtins.input = _input
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
