"""The view's server and report on hand-made run folders; the hint when plotly is missing."""

from __future__ import annotations

import importlib.util
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nni2ray.cli import main
from nni2ray.results import write_json
from nni2ray.view import make_server
from tests.unit.test_view_list_show import record, write_run

pytest.importorskip("plotly", reason="plotly is not installed (pip install 'nni2ray[view]')")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    run = write_run(
        tmp_path / "run",
        [record("r1", 0, "SUCCEEDED", 0.5, x=1), record("r2", 1, "RUNNING", None, x=2)],
        status="RUNNING",
    )
    server = make_server(run, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", run
    finally:
        server.shutdown()
        server.server_close()


def get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers["Content-Type"], response.read()


def test_server_sends_page_script_and_fresh_data(served: tuple[str, Path]) -> None:
    url, run = served
    kind, page = get(url)
    assert kind.startswith("text/html") and b'<script src="plotly.min.js">' in page
    assert b"https://" not in page  # nothing from the network
    kind, script = get(url + "plotly.min.js")
    assert kind.startswith("text/javascript") and len(script) > 1_000_000
    data: Any = json.loads(get(url + "api/data")[1])
    assert [t["status"] for t in data["trials"]] == ["SUCCEEDED", "RUNNING"]
    assert data["trials"][1]["curve"] == [0.1]
    # The trial ends: the next request reads the folder again.
    ended = record("r2", 1, "SUCCEEDED", 0.8, x=2)
    write_json(run / "trials" / "r2" / "trial.json", ended.to_record_json())
    data = json.loads(get(url + "api/data")[1])
    assert [t["status"] for t in data["trials"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert data["best"] == {"trial": "r2", "value": 0.8}
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(url + "nothing")
    assert missing.value.code == 404


def test_server_is_bound_to_this_machine_only(served: tuple[str, Path]) -> None:
    url, _ = served
    assert url.startswith("http://127.0.0.1:")


def test_a_taken_port_is_an_error_with_a_hint(
    served: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, run = served
    port = url.rsplit(":", 1)[1].strip("/")
    assert main(["view", str(run), "--port", port]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err


def test_missing_plotly_gives_an_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_run(tmp_path / "run", [record("r1", 0, "SUCCEEDED", 0.5, x=1)])
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "plotly" else real(name, *a)
    )
    assert main(["view", str(run), "--html", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err
    assert "plotly, which is not installed" in err and "pip install 'nni2ray[view]'" in err
    assert not (tmp_path / "r.html").exists()
