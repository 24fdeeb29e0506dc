"""`nni2ray view`, `list` and `show` on a real run: the page's data while the run goes on
and after it, checked against export.json, and the page drawn by headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nni2ray.cli import main
from tests.ray.conftest import REPO

SPACE = {
    "optimizer": {
        "_type": "choice",
        "_value": [
            {
                "_name": "sgd",
                "lr": {"_type": "loguniform", "_value": [0.0001, 0.1]},
                "momentum": {"_type": "uniform", "_value": [0, 1]},
            },
            {"_name": "adam", "lr": {"_type": "loguniform", "_value": [0.00001, 0.01]}},
        ],
    },
    "x": {"_type": "uniform", "_value": [0, 1]},
}

CONFIG = """\
experimentName: view_demo
searchSpaceFile: search_space.json
trialCommand: python3 trial.py
trialCodeDirectory: .
trialConcurrency: 2
maxTrialNumber: 5
maxExperimentDuration: 5m
tuner:
  name: Random
  classArgs:
    seed: 7
trainingService:
  platform: local
"""

TRIAL = """\
import sys
import time

import nni

params = nni.get_next_parameter()
x = params["x"]
print("trial", nni.get_trial_id(), "optimizer", params["optimizer"]["_name"], flush=True)
if nni.get_sequence_id() == 1:
    print("about to fail", file=sys.stderr)
    sys.exit("RuntimeError: sequence 1 fails on purpose")
for step in range(4):
    nni.report_intermediate_result({"default": x * (step + 1) / 4, "loss": 1 - x})
    time.sleep(0.6)
nni.report_final_result({"default": x, "loss": 1 - x})
"""

EXPORT_KEYS = ("trialJobId", "sequence", "status", "parameter", "value", "intermediate")


@dataclass
class Watched:
    """The run, the view server that watched it, and what the server said meanwhile."""

    output: Path
    url: str
    run_stdout: str
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def _start_view(output: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nni2ray", "view", str(output), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
    assert found, f"nni2ray view printed {line!r}"
    return proc, found.group(1)


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watched]:
    root = tmp_path_factory.mktemp("view")
    experiment = root / "experiment"
    experiment.mkdir()
    (experiment / "config.yml").write_text(CONFIG)
    (experiment / "search_space.json").write_text(json.dumps(SPACE))
    (experiment / "trial.py").write_text(TRIAL)
    output = root / "results" / "view_demo-1"
    run = subprocess.Popen(
        [sys.executable, "-m", "nni2ray", "run", str(experiment), "--output", str(output)]
        + ["--scheduler", "none"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
        cwd=root,
    )
    view = None
    try:
        deadline = time.monotonic() + 120
        while not (output / "experiment.json").exists():
            assert run.poll() is None, run.communicate()[0]
            assert time.monotonic() < deadline, "the run wrote no experiment.json"
            time.sleep(0.2)
        view, url = _start_view(output)
        snapshots = []
        while run.poll() is None:
            snapshots.append(_get(url + "api/data"))
            time.sleep(0.3)
        stdout = run.communicate(timeout=60)[0]
        assert run.returncode == 0, stdout
        yield Watched(output, url, stdout, snapshots, _get(url + "api/data"))
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
        if view is not None:
            view.terminate()
            view.communicate(timeout=10)


def _export(output: Path) -> list[dict[str, Any]]:
    return list(json.loads((output / "export.json").read_text()))


def test_view_updates_while_the_run_goes_on(watched: Watched) -> None:
    running = [s for s in watched.snapshots if s["experiment"]["status"] == "RUNNING"]
    assert running, "the view never saw the run running"
    live_curves = [
        t
        for s in running
        for t in s["trials"]
        if t["status"] == "RUNNING" and any(v is not None for v in t["curve"])
    ]
    assert live_curves, "no snapshot showed a running trial's intermediate results"
    ended = [sum(t["status"] != "RUNNING" for t in s["trials"]) for s in running]
    assert ended[-1] > ended[0]  # the page's data moved on as trials ended


def test_view_data_after_the_run_matches_export(watched: Watched) -> None:
    data, exported = watched.final, _export(watched.output)
    assert data["experiment"]["status"] == "DONE"
    assert [{k: t[k] for k in EXPORT_KEYS} for t in data["trials"]] == [
        {k: e[k] for k in EXPORT_KEYS} for e in exported
    ]
    statuses = [e["status"] for e in exported]
    assert data["counts"]["SUCCEEDED"] == statuses.count("SUCCEEDED") == 4
    assert data["counts"]["FAILED"] == statuses.count("FAILED") == 1
    best = max((e for e in exported if e["value"]), key=lambda e: e["value"]["default"])
    assert data["best"] == {"trial": best["trialJobId"], "value": best["value"]["default"]}
    assert data["bestSoFar"][-1]["trial"] == best["trialJobId"]
    for trial in data["trials"]:
        opt = trial["parameter"]["optimizer"]
        branch = {f"optimizer/{k}": v for k, v in opt.items() if k != "_name"}
        assert trial["params"] == {
            "optimizer": opt["_name"],
            **branch,
            "x": trial["parameter"]["x"],
        }
        if trial["status"] == "SUCCEEDED":
            assert trial["curve"] == [v["default"] for v in trial["intermediate"][:-1]]
            assert trial["metricColumns"] == trial["value"]
    failed = next(t for t in data["trials"] if t["status"] == "FAILED")
    assert "RuntimeError: sequence 1 fails on purpose" in failed["stderrTail"]
    assert data["experiment"]["maxTrials"] == 5
    assert data["experiment"]["maxDuration"] == 300


def test_html_report_embeds_the_same_data(watched: Watched, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    assert main(["view", str(watched.output), "--html", str(report)]) == 0
    page = report.read_text()
    assert "cdn" not in page.lower().split("<script>", 1)[0]  # no remote script in the head
    embedded = re.search(r'<script id="run-data" type="application/json">(.*?)</script>', page)
    assert embedded
    data = json.loads(embedded.group(1))
    assert [{k: t[k] for k in EXPORT_KEYS} for t in data["trials"]] == [
        {k: e[k] for k in EXPORT_KEYS} for e in _export(watched.output)
    ]


def test_list_and_show_match_export(watched: Watched, capsys: pytest.CaptureFixture[str]) -> None:
    exported = _export(watched.output)
    best = max((e for e in exported if e["value"]), key=lambda e: e["value"]["default"])
    assert main(["list", str(watched.output.parent), "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["name"] == "view_demo"
    assert listed["status"] == "DONE"
    assert listed["trials"] == len(exported)
    assert listed["counts"] == {"SUCCEEDED": 4, "FAILED": 1}
    assert listed["best"]["trialJobId"] == best["trialJobId"]
    assert main(["list", str(watched.output.parent)]) == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[1:6] == ["view_demo", "done", "5:", "4", "ok"]
    assert f"{best['value']['default']:.6g}" in row
    assert main(["show", str(watched.output)]) == 0
    shown = capsys.readouterr().out
    # The run's own summary, printed again (its elapsed time comes from experiment.json).
    run_summary = watched.run_stdout[watched.run_stdout.index("Best trials") :]
    assert run_summary.split("Results:")[0].splitlines()[1].split()[0] == best["trialJobId"]
    assert f"  {best['trialJobId']}  " in shown
    run_line = next(line for line in watched.run_stdout.splitlines() if " trials in " in line)
    assert shown.splitlines()[1] == run_line  # the same time as the run's own summary
    failed = next(e for e in exported if e["status"] == "FAILED")
    stderr = watched.output / "trials" / failed["trialJobId"] / "trial.stderr"
    assert f"  {failed['trialJobId']}  RuntimeError: sequence 1 fails on purpose" in shown
    assert str(stderr) in shown


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TABS = ("overview", "trials", "curves", "parallel", "durations", "trial")


def chromium(url: str, *extra: str) -> str:
    """Load ``url`` in headless Chromium, let its scripts run, return the DOM."""
    assert CHROMIUM
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"]
            + ["--no-first-run", "--disable-background-networking", "--disable-component-update"]
            + ["--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars"]
            + ["--window-size=1280,800", "--virtual-time-budget=8000", *extra, url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_every_view_draws_in_headless_chromium(watched: Watched, tmp_path: Path) -> None:
    exported = _export(watched.output)
    for tab in TABS:
        dom = chromium(f"{watched.url}#{tab}", "--dump-dom")
        assert f'data-rendered="{tab}"' in dom, tab
        if tab in ("overview", "curves", "parallel", "durations"):
            assert dom.count('class="main-svg"') >= 1, tab  # plotly drew its chart
        if tab == "trials":
            assert dom.count('<tr class="row"') == len(exported)
        if tab == "curves":
            assert dom.count('class="trace scatter') == 4  # the four trials that reported
        if tab == "parallel":
            assert "parcoords" in dom and "optimizer/lr" in dom
        if tab == "durations":
            assert dom.count('class="point"') >= len(exported)  # one bar per trial
        if tab == "trial":
            assert f"trial {exported[0]['trialJobId']} optimizer" in dom  # its stdout tail
        shot = tmp_path / f"{tab}.png"
        chromium(f"{watched.url}#{tab}", f"--screenshot={shot}")
        assert shot.stat().st_size > 10_000
    report = tmp_path / "report.html"
    assert main(["view", str(watched.output), "--html", str(report)]) == 0
    dom = chromium(report.as_uri() + "#parallel", "--dump-dom")  # offline: file://, no server
    assert 'data-rendered="parallel"' in dom and 'class="main-svg"' in dom


def test_tensorboard_tells_what_each_trial_received(watched: Watched) -> None:
    pytest.importorskip("tensorboard", reason="the tensorboard package is not installed")
    from tests.unit.test_view_tensorboard import INTERNAL, read_tensorboard

    logdir = watched.output / "tensorboard"
    assert f"TensorBoard: tensorboard --logdir {logdir}" in watched.run_stdout
    trials = read_tensorboard(logdir)
    exported = {e["trialJobId"]: e for e in _export(watched.output)}
    assert set(trials) == set(exported)
    ends = {"SUCCEEDED": "STATUS_SUCCESS", "FAILED": "STATUS_FAILURE"}
    for trial_id, trial in trials.items():
        row = exported[trial_id]
        opt = row["parameter"]["optimizer"]
        branch = {f"optimizer/{k}": v for k, v in opt.items() if k != "_name"}
        assert trial["hparams"] == pytest.approx(
            {
                "optimizer": opt["_name"],
                **branch,
                "x": row["parameter"]["x"],
                "status": row["status"],
            }
        )
        assert trial["status"] == ends[row["status"]]
        assert not set(trial["hparams"]) & set(INTERNAL)
        if row["status"] == "SUCCEEDED":
            curve = [v["default"] for v in row["intermediate"][:-1]]
            steps = trial["scalars"]["intermediate/default"]
            assert [s for s, _ in steps] == [1, 2, 3, 4]
            assert [v for _, v in steps] == pytest.approx(curve)
            assert trial["scalars"]["default"] == [(4, pytest.approx(row["value"]["default"]))]
            assert trial["scalars"]["loss"] == [(4, pytest.approx(row["value"]["loss"]))]
        else:
            assert trial["scalars"] == {}
    assert not list((watched.output / "tune").glob("*/events.out.tfevents.*"))


def test_run_output_without_a_terminal_is_one_line_per_event(watched: Watched) -> None:
    lines = watched.run_stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("nni2ray: running "))
    assert lines[first] == (
        "nni2ray: running view_demo: Random as NNI's random sampling (nni2ray); no early "
        "stopping; 5 trials, "
        "2 at a time, at most 5m00s; starting Ray"
    )
    assert lines[first + 1].startswith("nni2ray: Ray started (")
    status = [line for line in lines if line.startswith("[")]
    assert len(status) >= 5  # one per trial end (and one per 30 s without any)
    assert status[-1].endswith("| 0 trials left")
    assert "\r" not in watched.run_stdout and "\x1b" not in watched.run_stdout
    summary = r"5 trials in [0-9.]+s \(1 failed, 4 succeeded\)"
    assert any(re.fullmatch(summary, line) for line in lines)
