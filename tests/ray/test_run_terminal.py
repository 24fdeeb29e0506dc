"""`nni2ray run` on a terminal (a real pseudo-terminal): the first line at once, a line
when Ray is up, one status line redrawn in place, and the run's wall time in the summary."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.ray.conftest import REPO
from tests.ray.test_view import CONFIG, SPACE, TRIAL


def run_on_a_terminal(args: list[str], cwd: Path) -> tuple[list[tuple[float, str]], float]:
    """Run ``python -m nni2ray ARGS`` with a pty as its terminal; what it wrote, with the
    second each piece arrived, and the whole command's wall time."""
    env = dict(os.environ, COLUMNS="250", LINES="40")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    master, slave = pty.openpty()
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nni2ray", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=cwd,
        close_fds=True,
    )
    os.close(slave)
    pieces: list[tuple[float, str]] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                assert time.monotonic() - start < 300, "the run did not end"
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not data:
                break
            pieces.append((time.monotonic() - start, data.decode("utf-8", "replace")))
        proc.wait(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, "".join(p for _, p in pieces)[-3000:]
    return pieces, time.monotonic() - start


def test_run_on_a_terminal_shows_one_live_status_line(tmp_path: Path) -> None:
    experiment = tmp_path / "experiment"
    experiment.mkdir()
    (experiment / "config.yml").write_text(CONFIG)
    (experiment / "search_space.json").write_text(json.dumps(SPACE))
    (experiment / "trial.py").write_text(TRIAL)
    output = tmp_path / "out"
    args = ["run", str(experiment), "--output", str(output), "--max-trials", "3"]
    pieces, wall = run_on_a_terminal(args, tmp_path)
    text = "".join(p for _, p in pieces).replace("\r\n", "\n")

    first = next(t for t, p in pieces if "nni2ray: running view_demo" in p)
    ray_up = next(t for t, p in pieces if "nni2ray: Ray started" in p)
    assert first < ray_up
    assert first < 15  # before Ray starts, not after
    assert (
        "nni2ray: running view_demo: Random as NNI's random sampling (nni2ray); ASHA early "
        "stopping (the config has no "
        "assessor; --scheduler none to turn it off); 3 trials, 2 at a time, at most 5m00s; "
        "starting Ray\n"
    ) in text

    live = text[
        text.index("; starting trials\n") + len("; starting trials\n") : text.index("trials in ")
    ]
    redraws = live.split("\r\x1b[2K")
    assert len(redraws) >= 3, live  # the line was drawn again in place, several times
    assert live.count("\n") == 2, live  # the live line's end, and the summary's blank line
    assert any(re.search(r" \| \w+ step \d: [0-9.]+", r) for r in redraws)  # intermediate
    last = redraws[-1].split("\n")[0]
    assert re.match(r"\[ +\d+s\] \d+ done, 0 running, 1 failed, \d+ early-stopped", last), last
    assert "| 0 trials left" in last and "| best " in last

    summary = re.search(r"\n3 trials in ([0-9.]+)s \(", text)
    assert summary, text[-2000:]
    elapsed = float(summary.group(1))
    last_elapsed = float(re.match(r"\[ *(\d+)s\]", last).group(1))  # type: ignore[union-attr]
    assert last_elapsed - 1 <= elapsed <= wall  # wall time of the run, from the command's start
    assert wall - elapsed < 8  # not the time of tuner.fit() alone: Ray's start is in it
    assert elapsed > ray_up - 2
