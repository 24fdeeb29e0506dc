"""Warm start on Ray: every trial actor of a run forks its trials from ONE template process
(the run's, on this node), and the run's end ends it."""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest

from tests.ray.conftest import run_folder

pytestmark = pytest.mark.usefixtures("ray_session")

TRIAL = textwrap.dedent(
    """
    import json, os, time
    from pathlib import Path
    import nni

    params = nni.get_next_parameter()
    start = time.time()
    parent = Path(f"/proc/{os.getppid()}/cmdline").read_bytes()
    time.sleep(2.0)
    # A warm trial's parent is its reaper, forked by the template: the grandparent.
    grand = int(Path(f"/proc/{os.getppid()}/stat").read_text().rsplit(") ", 1)[1].split()[1])
    info = {"ppid": grand, "template": b"_template.py" in parent,
            "start": start, "end": time.time()}
    (Path(os.environ["NNI_OUTPUT_DIR"]) / "info.json").write_text(json.dumps(info))
    nni.report_final_result(params["x"])
    """
)

CONFIG = """\
searchSpace: {x: {_type: choice, _value: [0, 1, 2, 3, 4, 5, 6, 7]}}
trialCommand: python3 trial.py
trialConcurrency: 2
maxTrialNumber: 8
tuner: {name: GridSearch}
trainingService: {platform: local}
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] not in "ZX"
    except OSError:
        return False


def test_concurrent_warm_trials_of_two_actors_share_one_template(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "trial.py").write_text(TRIAL)
    (exp / "config.yml").write_text(CONFIG)
    out = tmp_path / "out"
    summary = run_folder(exp, out, scheduler="none")
    assert len(summary.records) == 8
    infos = [json.loads(p.read_text()) for p in (out / "trials").glob("*/info.json")]
    assert len(infos) == 8
    warm = [i for i in infos if i["template"]]
    assert len(warm) >= 2, infos  # the first trials start cold while the template imports
    assert len({i["ppid"] for i in warm}) == 1, warm  # one template for the whole run
    # Two warm trials that ran at the same time ran in two different actors.
    overlapping = [
        (a, b)
        for a in warm
        for b in warm
        if a is not b and a["start"] < b["end"] and b["start"] < a["end"]
    ]
    assert overlapping, f"no two warm trials ran at once: {warm}"
    template = warm[0]["ppid"]
    deadline = time.monotonic() + 10
    while _alive(template) and time.monotonic() < deadline:  # the run's end ends it
        time.sleep(0.1)
    assert not _alive(template), "the shared template outlived the run"
    assert os.getpid() != template
