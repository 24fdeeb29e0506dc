"""Run a launcher script as ``__main__`` with the stand-in ``nni.experiment`` importable.

``python -m nni.experiment._bootstrap SCRIPT [ARGS...]`` (started by ``nni2ray run``).
"""

from __future__ import annotations

import builtins
import os
import runpy
import sys
import traceback
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
    try:
        runpy.run_path(script, run_name="__main__")
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - shown as `python script.py` would
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next  # drop the frames of this bootstrap and runpy
        traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
        sys.exit(1)


if __name__ == "__main__":
    main()
