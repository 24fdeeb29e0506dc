"""The metric channel under a trial that floods it: every message, in order, in time;
oversized and hostile lines end only as protocol errors of that trial."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

from nni2ray.trials import SHIM_DIR, LaunchSpec, TrialRun


def _run(tmp_path: Path, script: str, max_duration_s: float | None = None) -> TrialRun:
    (tmp_path / "trial.py").write_text(textwrap.dedent(script))
    record = {"parameter_id": 0, "parameter_source": "algorithm", "parameters": {}}
    (tmp_path / "parameter.cfg").write_text(json.dumps(record))
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(SHIM_DIR),
        NNI_PLATFORM="local",
        NNI_TRIAL_JOB_ID="flood",
        NNI2RAY_PARAMETER_FILE=str(tmp_path / "parameter.cfg"),
    )
    spec = LaunchSpec(f"{sys.executable} trial.py", tmp_path, env, tmp_path / "logs")
    return TrialRun(spec, max_duration_s=max_duration_s, heartbeat_s=30)


def _results(run: TrialRun) -> list[dict]:
    results = []
    while True:
        result = run.next_result()
        results.append(result)
        if result.get("done"):
            return results


FLOOD = """
    import nni
    nni.get_next_parameter()
    for step in range(10_000):
        nni.report_intermediate_result(step)
    nni.report_final_result(-1)
"""


def test_ten_thousand_reports_arrive_in_order(tmp_path: Path) -> None:
    run = _run(tmp_path, FLOOD)
    results = _results(run)
    assert [r["nni_value"] for r in results] == [*range(10_000), -1]
    assert [r["nni_type"] for r in results[-2:]] == ["PERIODICAL", "FINAL"]
    assert results[-1]["nni_status"] == "SUCCEEDED"


def test_a_slow_reader_does_not_hold_the_trial_back(tmp_path: Path) -> None:
    # The trial ends its 10,000 reports while the first result is still unread: the
    # channel drains the pipe on its own.
    run = _run(tmp_path, FLOOD)
    deadline = time.monotonic() + 30
    while run.process.returncode is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.process.returncode == 0
    assert len(_results(run)) == 10_001


def test_reports_made_before_max_trial_duration_still_count(tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        """
        import time
        import nni
        nni.get_next_parameter()
        for step in range(2_000):
            nni.report_intermediate_result(step)
        nni.report_final_result(0.5)
        time.sleep(600)
        """,
        max_duration_s=3,
    )
    results = _results(run)
    assert [r["nni_value"] for r in results] == [*range(2_000), 0.5]
    assert results[-1]["nni_status"] == "EARLY_STOPPED"
    assert results[-1]["nni_end_reason"] == "maxTrialDuration"


def test_hostile_lines_are_protocol_errors_of_the_trial(tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        """
        import os
        import nni
        nni.get_next_parameter()
        fd = int(os.environ["NNI2RAY_METRIC_FD"])
        def raw(data):
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        deep = b"[" * 200_000 + b"]" * 200_000
        raw(b'{"type": "PERIODICAL", "sequence": 0, "value": ' + deep + b'}\\n')
        raw(b'{"type": "PERIODICAL", "sequence": 0, "value": "' + b"x" * 100_000_000 + b'"}\\n')
        raw(b"not json\\n")
        nni.report_intermediate_result(2**64)
        nni.report_intermediate_result(10**400)
        nni.report_intermediate_result(float("nan"))
        nni.report_final_result({"default": float("inf"), "other": 1})
        """,
    )
    start = time.monotonic()
    results = _results(run)
    assert time.monotonic() - start < 20  # 100 MB is skipped in linear time
    errors = results[-1]["nni_protocol_errors"]
    assert len(errors) == 3
    assert "nested more than 64 levels deep" in errors[0]
    assert "larger than 1000000 bytes" in errors[1]
    assert results[-1]["nni_status"] == "SUCCEEDED"
    values = [json.loads(r["nni_value_json"]) for r in results]
    assert values[:2] == [2**64, 10**400]
    assert values[2] != values[2]  # NaN
    assert values[3] == {"default": float("inf"), "other": 1}
    # What Tune's loggers get: no integer beyond 64 bits.
    assert [r["nni_value"] for r in results[:2]] == [float(2**64), str(10**400)]
    assert "default" not in results[1]  # beyond float range: no tuned number


def test_the_first_final_result_counts(tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        """
        import nni
        nni.get_next_parameter()
        nni.report_final_result(0.1)
        nni.report_final_result({"default": 0.7})
        nni.report_final_result(0.9)
        """,
    )
    results = _results(run)
    assert [(r["nni_type"], r.get("default")) for r in results] == [("FINAL", 0.1)]
    assert results[-1]["nni_ignored_finals"] == ['{"default": 0.7}', "0.9"]


ESCAPES = """
    import os, subprocess, sys, time
    import nni
    nni.get_next_parameter()
    token = sys.argv[1]
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)", token]
    subprocess.Popen(sleeper)                           # a child in the trial's session
    subprocess.Popen(sleeper, start_new_session=True)   # a setsid daemon
    if os.fork() == 0:                                  # a double fork
        if os.fork() == 0:
            os.execv(sys.executable, sleeper)
        os._exit(0)
    time.sleep(1)
    nni.report_final_result(1)
"""


def _with_token(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if token.encode() in cmdline.split(b"\0") and state != "Z":
            found.append(int(entry))
    return found


def test_ending_a_trial_ends_its_daemons_and_double_forks(tmp_path: Path) -> None:
    import uuid

    token = f"escape-{uuid.uuid4().hex}"
    (tmp_path / "trial.py").write_text(textwrap.dedent(ESCAPES))
    record = {"parameter_id": 0, "parameter_source": "algorithm", "parameters": {}}
    (tmp_path / "parameter.cfg").write_text(json.dumps(record))
    env = dict(os.environ, PYTHONPATH=str(SHIM_DIR), NNI_PLATFORM="local")
    env.update(NNI2RAY_PARAMETER_FILE=str(tmp_path / "parameter.cfg"))
    env["NNI_SYS_DIR"] = str(tmp_path / "trials" / "t1")
    spec = LaunchSpec(
        f"{sys.executable} trial.py {token}", tmp_path, env, tmp_path / "trials" / "t1"
    )
    run = TrialRun(spec, max_duration_s=None, heartbeat_s=30)
    results = _results(run)
    assert results[-1]["nni_status"] == "SUCCEEDED"
    # The trial's reaper ended what it started when the trial exited (see test_orphans.py).
    assert _with_token(token) == []
    run.stop()  # what the trainable does when a trial ends
    assert _with_token(token) == []
