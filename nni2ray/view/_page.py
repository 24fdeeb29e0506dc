"""The web view's page: one HTML file, its charts drawn by plotly.js in the browser.

plotly.js comes from the installed ``plotly`` wheel (``nni2ray[view]``), never from a CDN:
the served page loads it from the local server, and ``--html`` embeds it, so the report
opens offline.
"""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path
from typing import Any

from nni2ray.errors import MissingDependencyError, OutputError
from nni2ray.view._data import page_data
from nni2ray.view._run import RunInfo

_INSTALL_HINT = "pip install 'nni2ray[view]' (or pip install plotly)"


def plotly_js_path() -> Path:
    """The ``plotly.min.js`` the installed plotly package ships (plotly is not imported).

    Raises:
        MissingDependencyError: plotly is not installed.
    """
    spec = importlib.util.find_spec("plotly")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    raise MissingDependencyError(
        "nni2ray view draws its charts with plotly, which is not installed",
        hint=_INSTALL_HINT,
    )


def _template() -> str:
    return resources.files("nni2ray.view").joinpath("page.html").read_text(encoding="utf-8")


def script_json(data: Any) -> str:
    """JSON that can sit inside a ``<script>`` element."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def served_page() -> str:
    """The page as the server sends it: data fetched from ``api/data``, plotly from it too."""
    page = _template().replace("/*DATA*/", "null")
    return page.replace("<!--PLOTLY-->", '<script src="plotly.min.js"></script>')


def report_page(info: RunInfo) -> str:
    """The page as one self-contained file: the data and plotly.js embedded."""
    script = plotly_js_path().read_text(encoding="utf-8").replace("</script", "<\\/script")
    page = _template().replace("/*DATA*/", script_json(page_data(info)))
    return page.replace("<!--PLOTLY-->", f"<script>{script}</script>")


def write_report(info: RunInfo, path: Path) -> Path:
    """Write :func:`report_page` to ``path`` atomically.

    Raises:
        OutputError: the file cannot be written.
    """
    path = path.expanduser().resolve()
    page = report_page(info)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"cannot write the report ({exc.strerror or exc})",
            file=path,
            hint="choose a writable path for --html",
        ) from None
    return path
