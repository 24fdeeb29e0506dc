"""``nni2ray view``'s local web server: the page, plotly.js, and the run's data as JSON,
read from the run folder on every request so that a running run updates."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from nni2ray.errors import Nni2RayError
from nni2ray.view._data import page_data
from nni2ray.view._page import plotly_js_path, script_json, served_page
from nni2ray.view._run import load_run


def make_server(folder: Path, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """A server for the run in ``folder`` (not yet serving); port 0 picks a free one.

    Raises:
        OutputError: ``folder`` is not a run.
        MissingDependencyError: plotly is not installed.
        Nni2RayError: the port is taken.
    """
    load_run(folder)  # refuse a folder that is not a run before listening
    plotly_js = plotly_js_path().read_bytes()
    page = served_page().encode("utf-8")
    handler = _handler(folder.expanduser().resolve(), page, plotly_js)
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise Nni2RayError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})",
            field="--port",
            hint="pass another --port N (0 picks a free one)",
        ) from None


def _handler(folder: Path, page: bytes, plotly_js: bytes) -> Callable[..., Any]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(200, "text/html; charset=utf-8", page)
            elif path == "/plotly.min.js":
                self._send(200, "text/javascript; charset=utf-8", plotly_js, cache=True)
            elif path == "/api/data":
                self._send_data()
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found\n")

        def _send_data(self) -> None:
            try:
                body = script_json(page_data(load_run(folder))).encode("utf-8")
            except Nni2RayError as exc:
                message = json.dumps({"error": str(exc)}).encode("utf-8")
                self._send(500, "application/json", message)
                return
            self._send(200, "application/json", body)

        def _send(self, code: int, kind: str, body: bytes, cache: bool = False) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # no line per request on the terminal

    return Handler


def serve(folder: Path, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until Ctrl-C."""
    server = make_server(folder, host, port)
    bound_port = server.server_address[1]
    print(
        f"nni2ray view: {folder} at http://{host}:{bound_port}/ (Ctrl-C to stop)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("", file=sys.stderr)
    finally:
        server.server_close()
