"""``python -m nni2ray``: the command line."""

from __future__ import annotations

import sys

from nni2ray.cli import main

if __name__ == "__main__":
    sys.exit(main())
