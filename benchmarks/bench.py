#!/usr/bin/env python3
"""Benchmark nni2ray against NNI 3.0 on the experiments in fixtures/benchmarks/.

Runs each benchmark experiment with ``nni2ray run`` (warm trial starts, cold ones, or both)
and, when ``--nni-python`` names a Python that has ``nni`` installed, with NNI's own
``nnictl create`` on the same folder, one after the other, then prints one table:

    wall       command start -> the last trial's end (s)
    1st trial  command start -> the first trial's start (s)
    done       trials that ended / trials started
    compute    sum of the trials' own compute time, as each trial reports it ("compute_s",
               time spent after its imports) (s)
    ovh/trial  per-trial overhead: (wall - compute / concurrency) / trials (ms)
    ovh steady the same without the start-up: (wall - 1st trial - compute / concurrency)
               / trials (ms)
    best       best final "default" metric
    epochs     (torch_epochs) epochs trained in all, counted from the intermediate results
    driver MB  peak RSS of the driver: the nni2ray process; NNI's manager (node) plus its
               dispatcher (python -m nni) (VmHWM from /proc/<pid>/status)
    tree MB    peak of the summed PSS of the whole process tree (Ray's gcs/raylet/workers or
               NNI's processes, and the running trials), sampled every 0.2 s. PSS counts a
               page shared by N processes 1/N in each, so the sum is the memory the run
               occupies; summed RSS would count a page a warm-start template shares with
               its forked trials once per trial (falls back to RSS without smaps_rollup)

    1st line   command start -> the first line the command prints (s)

and checks the targets of the issue (PASS / MISS). ``--long`` adds 10,000 trivial trials and
reports the driver's memory growth and how fast the last 1,000 trials complete against the
first 1,000. ``--concurrency-table`` runs the trivial benchmark at concurrency 1, 2, 4 and 8
and prints the peak memory of all the run's processes at each. Every run also times
``write_exports`` (export.json + export.csv) on 1,000 and 10,000 synthetic trial records.
``--quick`` is the part that needs no NNI and little time: exports, the trivial benchmark
and the concurrency table. Standard library only (nni2ray itself for the export timing);
run it with the Python that has nni2ray's dependencies:

    .venv/bin/python benchmarks/bench.py --nni-python /work/nni-venv/bin/python
    .venv/bin/python benchmarks/bench.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures" / "benchmarks"
SAMPLE_S = 0.2

# Published figures (the issue): NNI 3.0 on a 2-core machine.
PUBLISHED = {
    "sklearn_short": "NNI 3.0: 31-70 s for 20 two-second scikit-learn trials at concurrency 2; "
    "plain Ray Tune, one subprocess per trial: 57 s (30 s with actor reuse)",
    "trivial": "NNI 3.0: about 2.6 s per trial on 100 trivial trials",
}
PUBLISHED_NNI_SKLEARN_WALL_S = 31.0  # the low (fast) end of NNI's published range
# NNI 3.0 measured on an idle 2-core machine (issue 17), used when NNI is not run here.
PUBLISHED_NNI_FIRST_TRIAL_S = 4.0  # first trial started: 4.0-4.3 s
PUBLISHED_NNI_DRIVER_MB = 225.0  # manager + dispatcher peak: 222-224 MB
PUBLISHED_NNI_TRIVIAL_OVERHEAD_MS = 1056.0  # per trivial trial, 100 trials at concurrency 2
FIRST_LINE_S = 0.5
LONG_WINDOW = 1000  # --long compares the first and the last this many trials


@dataclass
class Bench:
    name: str
    folder: str
    trials: int
    concurrency: int
    runners: tuple[str, ...]  # which nni2ray variants, besides warm/cold, e.g. "noasha"
    nni: bool = True
    timeout_s: float = 1800.0


BENCHES = {
    "sklearn_short": Bench("sklearn_short", "sklearn_short", 20, 2, ()),
    "torch_epochs": Bench("torch_epochs", "torch_epochs", 16, 2, ("noasha",)),
    "trivial": Bench("trivial", "trivial", 100, 2, ()),
    # --long: 10,000 trivial trials, nni2ray only (NNI would need about 7 hours).
    "trivial_long": Bench("trivial_long", "trivial", 10000, 2, (), nni=False, timeout_s=7200),
}


@dataclass
class Result:
    bench: str
    runner: str  # "nni2ray warm", "nni2ray cold", "nni2ray no-ASHA", "NNI 3.0"
    ok: bool = True
    error: str | None = None
    trials_started: int = 0
    trials_done: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    concurrency: int = 2
    wall_s: float | None = None
    exit_s: float | None = None  # command start -> command (or nnictl stop) done
    first_trial_s: float | None = None
    first_script_s: float | None = None  # command start -> first trial script running (t0)
    first_line_s: float | None = None  # command start -> first line the command printed
    engine_start_s: float | None = None  # nni2ray: command start -> experiment startTime
    compute_s: float = 0.0
    overhead_ms: float | None = None
    steady_overhead_ms: float | None = None  # same, from the first trial's start
    best: float | None = None
    epochs: int | None = None
    driver_peak_mb: float | None = None
    tree_peak_mb: float | None = None
    driver_growth_mb: float | None = None
    rate_window: int | None = None  # LONG_WINDOW trials, or a tenth of a shorter run
    rate_first100: float | None = None  # trials/s over the first rate_window
    rate_last100: float | None = None  # ... and over the last as many
    rate_ratio: float | None = None
    output: str | None = None


# --------------------------------------------------------------------------- /proc sampling


def _proc_table() -> dict[int, int]:
    """pid -> ppid for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2 :].split()
        table[int(entry)] = int(rest[1])
    return table


def _status_kb(pid: int) -> dict[str, int]:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def _pss_kb(pid: int) -> int:
    """Proportional set size (``/proc/<pid>/smaps_rollup``), or VmRSS where it is missing."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return _status_kb(pid).get("VmRSS", 0)


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _run_processes(output: Path) -> set[int]:
    """Processes of the run that are not the command's descendants: its shared warm-start
    template (orphaned on purpose, so no Ray worker owns it) and the trials it forked, found
    by their ``NNI_SYS_DIR`` under ``output/trials/``."""
    wanted = b"NNI_SYS_DIR=" + os.fsencode(str(output.resolve() / "trials")) + b"/"
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                environ = fh.read()
        except OSError:
            continue
        if any(var.startswith(wanted) for var in environ.split(b"\0")):
            found.add(int(entry))
    return found


def _descendants(table: dict[int, int], roots: set[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in table.items():
        children.setdefault(ppid, []).append(pid)
    seen, todo = set(), [r for r in roots if r in table]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(children.get(pid, ()))
    return seen


class Monitor(threading.Thread):
    """Samples the driver's RSS / VmHWM and the whole tree's summed PSS every SAMPLE_S."""

    def __init__(self, driver_pids: Any, tree_roots: Any) -> None:
        super().__init__(daemon=True)
        self._driver_pids = driver_pids  # callable -> set[int]
        self._tree_roots = tree_roots  # callable -> set[int]
        self._halt = threading.Event()
        self.hwm_kb: dict[int, int] = {}
        self.samples: list[tuple[float, float]] = []  # (time, driver RSS MB)
        self.tree_peak_kb = 0

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(SAMPLE_S)

    def sample(self) -> None:
        now = time.time()
        drivers = self._driver_pids()
        rss = 0
        for pid in drivers:
            st = _status_kb(pid)
            if st:
                rss += st.get("VmRSS", 0)
                self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), st.get("VmHWM", 0))
        if drivers:
            self.samples.append((now, rss / 1024))
        roots = self._tree_roots()
        if roots:
            tree = _descendants(_proc_table(), roots)
            total = sum(_pss_kb(pid) for pid in tree)
            self.tree_peak_kb = max(self.tree_peak_kb, total)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    @property
    def driver_peak_mb(self) -> float | None:
        return sum(self.hwm_kb.values()) / 1024 if self.hwm_kb else None

    def rss_at(self, when: float) -> float | None:
        """Driver RSS at the first sample taken at or after ``when``."""
        for t, mb in self.samples:
            if t >= when:
                return mb
        return self.samples[-1][1] if self.samples else None


# --------------------------------------------------------------------------- shared analysis


@dataclass
class Trial:
    status: str
    start: float | None
    end: float | None
    final: Any
    rows: list[tuple[str, Any]]  # (PERIODICAL | FINAL, value) in report order


def _default(value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("default")
    return float(value) if isinstance(value, (int, float)) else None


def _compute(trial: Trial) -> float:
    seen = [v.get("compute_s", 0.0) for _, v in trial.rows if isinstance(v, dict)]
    return max(seen, default=0.0)


def analyse(res: Result, trials: list[Trial], t_start: float, concurrency: int) -> None:
    res.trials_started = len(trials)
    ended = [t for t in trials if t.end is not None]
    res.trials_done = len(ended)
    for t in trials:
        res.statuses[t.status] = res.statuses.get(t.status, 0) + 1
    starts = [t.start for t in trials if t.start is not None]
    if starts:
        res.first_trial_s = min(starts) - t_start
    t0s = [v["t0"] for t in trials for _, v in t.rows if isinstance(v, dict) and "t0" in v]
    if t0s:
        res.first_script_s = min(t0s) - t_start
    if ended:
        res.wall_s = max(t.end for t in ended) - t_start
        res.compute_s = sum(_compute(t) for t in ended)
        res.overhead_ms = 1000 * (res.wall_s - res.compute_s / concurrency) / len(ended)
        if res.first_trial_s is not None:
            steady = res.wall_s - res.first_trial_s - res.compute_s / concurrency
            res.steady_overhead_ms = 1000 * steady / len(ended)
    finals = [_default(t.final) for t in trials if t.final is not None]
    finals = [f for f in finals if f is not None]
    res.best = max(finals) if finals else None
    res.epochs = sum(1 for t in trials for kind, _ in t.rows if kind == "PERIODICAL")
    ends = sorted(t.end for t in ended)
    if len(ends) >= 200:
        window = res.rate_window = min(LONG_WINDOW, len(ends) // 10)
        res.rate_first100 = (window - 1) / max(ends[window - 1] - ends[0], 1e-9)
        res.rate_last100 = (window - 1) / max(ends[-1] - ends[-window], 1e-9)
        res.rate_ratio = res.rate_last100 / res.rate_first100


# --------------------------------------------------------------------------- nni2ray


def _copy_output(stream: Any, log: Any, first_line: list[float]) -> None:
    """Copy the command's output to its log; note when its first line came."""
    for line in stream:
        if not first_line and line.strip():
            first_line.append(time.time())
        log.write(line)


def run_nni2ray(
    bench: Bench,
    variant: str,
    trials: int,
    work: Path,
    quiet: bool,
    concurrency: int | None = None,
    tag: str = "",
) -> Result:
    label = {"warm": "nni2ray warm", "cold": "nni2ray cold", "noasha": "nni2ray no-ASHA"}[variant]
    concurrency = concurrency or bench.concurrency
    res = Result(bench.name, label, concurrency=concurrency)
    out = work / f"{bench.name}-{variant}-c{concurrency}{tag}"
    res.output = str(out)
    cmd = [
        sys.executable,
        "-m",
        "nni2ray",
        "run",
        str(FIXTURES / bench.folder),
        "--output",
        str(out),
        "--max-trials",
        str(trials),
        "--concurrency",
        str(concurrency),
    ]
    if variant == "cold":
        cmd.append("--no-warm-start")
    if variant == "noasha":
        cmd += ["--scheduler", "none"]
    env = dict(os.environ)
    # nni2ray from this checkout; trials find this interpreter first on PATH (warm starts
    # need the trial command's python3 to be the interpreter that runs nni2ray).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    log = open(work / f"{bench.name}-{variant}-c{concurrency}{tag}.log", "w")
    if not quiet:
        print(f"  {label}: {' '.join(cmd[1:])}", flush=True)
    t_start = time.time()
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    first_line: list[float] = []
    copier = threading.Thread(target=_copy_output, args=(proc.stdout, log, first_line))
    copier.start()
    mon = Monitor(lambda: {proc.pid}, lambda: {proc.pid} | _run_processes(out))
    mon.start()
    try:
        rc = proc.wait(timeout=bench.timeout_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=60)
        res.error = f"timed out after {bench.timeout_s:.0f} s"
    finally:
        res.exit_s = time.time() - t_start
        mon.stop()
        copier.join(timeout=10)
        log.close()
    if first_line:
        res.first_line_s = first_line[0] - t_start
    if rc != 0 and res.error is None:
        res.error = f"exit code {rc}; see {log.name}"
    try:
        export = json.loads((out / "export.json").read_text())
        started = json.loads((out / "experiment.json").read_text()).get("startTime")
    except (OSError, ValueError) as exc:
        res.ok = False
        res.error = res.error or f"no export.json: {exc}"
        return res
    if isinstance(started, (int, float)):
        res.engine_start_s = started - t_start
    trials_ = []
    for rec in export:
        rows = []
        metrics = out / "trials" / str(rec["trialJobId"]) / "metrics.jsonl"
        if metrics.is_file():
            for line in metrics.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    rows.append((row.get("type", "PERIODICAL"), row.get("value")))
        trials_.append(
            Trial(
                rec.get("status", "?"),
                rec.get("startTime"),
                rec.get("endTime"),
                rec.get("value"),
                rows,
            )
        )
    analyse(res, trials_, t_start, concurrency)
    res.driver_peak_mb = mon.driver_peak_mb
    res.tree_peak_mb = mon.tree_peak_kb / 1024 or None
    ends = sorted(t.end for t in trials_ if t.end is not None)
    if ends:
        at_first = mon.rss_at(ends[0])
        if at_first is not None and res.driver_peak_mb is not None:
            res.driver_growth_mb = res.driver_peak_mb - at_first
    res.ok = res.error is None
    return res


# --------------------------------------------------------------------------- NNI (nnictl)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/nni/{path}", timeout=20) as r:
        return json.loads(r.read().decode())


def _nni_config(bench: Bench, trials: int, work: Path) -> Path:
    """The fixture's config with absolute paths, a temporary working directory and the
    trial count; everything else unchanged."""
    yaml = __import__("yaml")
    folder = FIXTURES / bench.folder
    config = yaml.safe_load((folder / "config.yml").read_text())
    config["trialCodeDirectory"] = str((folder / config.get("trialCodeDirectory", ".")).resolve())
    if "searchSpaceFile" in config:
        config["searchSpaceFile"] = str((folder / config["searchSpaceFile"]).resolve())
    config["maxTrialNumber"] = trials
    config["trialConcurrency"] = bench.concurrency
    config["experimentWorkingDirectory"] = str(work / "nni-experiments")
    path = work / f"{bench.name}-nni.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_nni(bench: Bench, trials: int, work: Path, nni_python: str, quiet: bool) -> Result:
    res = Result(bench.name, "NNI 3.0", concurrency=bench.concurrency)
    bindir = Path(nni_python).parent
    nnictl = (
        [str(bindir / "nnictl")]
        if (bindir / "nnictl").exists()
        else [nni_python, "-m", "nni.tools.nnictl.nnictl"]
    )
    config = _nni_config(bench, trials, work)
    port = _free_port()
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # Trials' `python3` must be the NNI venv's; NNI's manifest (~/nni-experiments/.experiment)
    # goes to a throw-away HOME so nothing is left in the real one.
    env["PATH"] = os.pathsep.join([str(bindir), env.get("PATH", "")])
    env["HOME"] = str(work / "nni-home")
    os.makedirs(env["HOME"], exist_ok=True)
    res.output = str(work / "nni-experiments")
    log = open(work / f"{bench.name}-nni.log", "w")
    if not quiet:
        print(f"  NNI 3.0: nnictl create --config {config} --port {port}", flush=True)
    manager: set[int] = set()
    dispatcher: set[int] = set()
    exp_id = None

    def find_processes() -> None:
        if not exp_id:
            return
        table = _proc_table()
        if not manager:
            for pid in table:
                line = _cmdline(pid)
                if "main.js" in line and f"--experiment-id {exp_id}" in line:
                    manager.add(pid)
        if manager and not dispatcher:
            for pid in _descendants(table, manager) - manager:
                line = _cmdline(pid)
                if " -m nni " in f"{line} " and "--exp_params" in line and "/bin/sh" not in line:
                    dispatcher.add(pid)

    t_start = time.time()
    mon = Monitor(lambda: manager | dispatcher, lambda: set(manager))
    try:
        created = subprocess.run(
            [*nnictl, "create", "--config", str(config), "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        log.write(created.stdout)
        if created.returncode != 0:
            raise RuntimeError(
                f"nnictl create exited {created.returncode}: "
                f"{created.stdout.strip().splitlines()[-1:]}"
            )
        try:
            exp_id = _get(port, "experiment")["id"]
        except Exception as exc:  # noqa: BLE001
            raise RuntimeError(f"NNI REST API on port {port} did not answer: {exc}") from exc
        find_processes()
        mon.start()
        deadline = t_start + bench.timeout_s
        while time.time() < deadline:
            find_processes()
            status = _get(port, "check-status")
            if status.get("status") == "ERROR":
                raise RuntimeError(f"NNI experiment ERROR: {status.get('errors')}")
            if status.get("status") in ("DONE", "NO_MORE_TRIAL", "STOPPED"):
                jobs = _get(port, "trial-jobs")
                if not any(j.get("status") in ("RUNNING", "WAITING", "UNKNOWN") for j in jobs):
                    break
            time.sleep(0.5)
        else:
            res.error = f"timed out after {bench.timeout_s:.0f} s"
        jobs = _get(port, "trial-jobs")
        metrics = _get(port, "metric-data")
    except Exception as exc:  # noqa: BLE001
        res.ok = False
        res.error = str(exc)
        jobs, metrics = [], []
    finally:
        mon.sample()
        mon.stop()
        if exp_id:
            stop = subprocess.run(
                [*nnictl, "stop", exp_id],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=120,
            )
            log.write(stop.stdout)
        res.exit_s = time.time() - t_start
        log.close()
    rows: dict[str, list[tuple[int, str, Any]]] = {}
    for m in metrics:
        value = m.get("data")
        try:
            value = json.loads(json.loads(value))  # stored JSON-encoded twice
        except (TypeError, ValueError):
            pass
        rows.setdefault(m["trialJobId"], []).append((m.get("timestamp", 0), m.get("type"), value))
    trials_ = []
    for job in jobs:
        mine = sorted(rows.get(job["trialJobId"], []), key=lambda r: r[0])
        final = next((v for _, kind, v in mine if kind == "FINAL"), None)
        start = job.get("startTime")
        end = job.get("endTime")
        trials_.append(
            Trial(
                job.get("status", "?"),
                start / 1000 if start else None,
                end / 1000 if end else None,
                final,
                [(kind, v) for _, kind, v in mine],
            )
        )
    if trials_:
        analyse(res, trials_, t_start, bench.concurrency)
    res.driver_peak_mb = mon.driver_peak_mb
    res.tree_peak_mb = mon.tree_peak_kb / 1024 or None
    res.ok = res.ok and res.error is None
    return res


def check_nni(nni_python: str) -> str | None:
    """None if ``nni_python`` can run nnictl, else the reason."""
    try:
        probe = subprocess.run(
            [nni_python, "-c", "import nni, nni.tools.nnictl.nnictl; print(nni.__version__)"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if probe.returncode != 0:
        return probe.stdout.strip().splitlines()[-1] if probe.stdout.strip() else "import failed"
    return None


# --------------------------------------------------------------------------- exports


def time_exports(counts: tuple[int, ...] = (1000, 10000)) -> dict[int, float]:
    """Seconds ``write_exports`` takes (best of three) to write export.json + export.csv for
    ``n`` synthetic finished trials (three parameters, ten intermediate results and a final
    dict each)."""
    sys.path.insert(0, str(REPO))
    from nni2ray.results import TrialRecord, write_exports

    timings = {}
    for n in counts:
        records = []
        for i in range(n):
            metrics = [{"type": "PERIODICAL", "sequence": k, "value": i + k} for k in range(10)]
            metrics.append({"type": "FINAL", "sequence": 10, "value": {"default": i / n}})
            records.append(
                TrialRecord(
                    trial_id=f"trial{i:06d}",
                    sequence=i,
                    parameters={"lr": 1e-3 * i, "layers": i % 4, "act": "relu"},
                    status="SUCCEEDED",
                    start_time=1e9 + i,
                    end_time=1e9 + i + 1,
                    metrics=metrics,
                )
            )
        with tempfile.TemporaryDirectory(prefix="bench-exports-") as folder:
            best = float("inf")
            for _ in range(3):  # the best of three: a busy machine adds noise, never speed
                start = time.perf_counter()
                write_exports(Path(folder), records)
                best = min(best, time.perf_counter() - start)
            timings[n] = best
    return timings


# --------------------------------------------------------------------------- report


def _f(value: Any, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


COLUMNS = [
    "benchmark",
    "runner",
    "done",
    "wall s",
    "1st line s",
    "1st trial s",
    "compute s",
    "ovh/trial ms",
    "ovh steady ms",
    "best",
    "epochs",
    "driver MB",
    "tree MB",
]


def table_rows(results: list[Result]) -> list[list[str]]:
    rows = []
    for r in results:
        if not r.ok and r.wall_s is None:
            rows.append([r.bench, r.runner, "FAILED: " + (r.error or "?")[:80]])
            continue
        rows.append(
            [
                r.bench,
                r.runner,
                f"{r.trials_done}/{r.trials_started}",
                _f(r.wall_s),
                _f(r.first_line_s, "{:.2f}"),
                _f(r.first_trial_s),
                _f(r.compute_s),
                _f(r.overhead_ms, "{:.0f}"),
                _f(r.steady_overhead_ms, "{:.0f}"),
                _f(r.best, "{:.4f}"),
                _f(r.epochs if r.bench.startswith("torch") else None, "{}"),
                _f(r.driver_peak_mb, "{:.0f}"),
                _f(r.tree_peak_mb, "{:.0f}"),
            ]
        )
    return rows


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row[: len(header)]):
            widths[i] = max(widths[i], len(cell))
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        if len(row) < len(header):
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)))
        else:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def _row(target: str, measured: str, met: bool) -> list[str]:
    """One row of the targets table: what is asked, what was measured, PASS or MISS."""
    return [target, measured, "PASS" if met else "MISS"]


def _nni_ref(nni: Result | None, attr: str, published: float) -> tuple[float | None, str]:
    measured = getattr(nni, attr) if nni is not None else None
    if measured is not None:
        return measured, "NNI measured"
    return published, "NNI published, idle machine"


def targets(results: list[Result], exports: dict[int, float] | None = None) -> list[list[str]]:
    """[target, measured, verdict] rows."""
    out = []

    def get(bench: str, runner: str) -> Result | None:
        return next(
            (
                r
                for r in results
                if r.bench == bench and r.runner == runner and r.wall_s is not None
            ),
            None,
        )

    nni_sk = get("sklearn_short", "NNI 3.0")
    for runner in ("nni2ray warm", "nni2ray cold"):
        mine = get("sklearn_short", runner)
        if mine is None:
            continue
        if nni_sk is not None:
            ref, src = nni_sk.wall_s, "NNI measured"
        else:
            ref, src = PUBLISHED_NNI_SKLEARN_WALL_S, "NNI published low end"
        ratio = mine.wall_s / ref
        out.append(
            _row(
                f"sklearn_short {runner}: wall <= 0.5x NNI",
                f"{mine.wall_s:.1f} s / {ref:.1f} s ({src}) = {ratio:.2f}x",
                ratio <= 0.5,
            )
        )
    for runner in ("nni2ray warm", "nni2ray cold"):
        mine = get("trivial", runner)
        if mine is not None and mine.overhead_ms is not None:
            out.append(
                _row(
                    f"trivial {runner}: overhead <= 100 ms/trial",
                    f"{mine.overhead_ms:.0f} ms ({mine.trials_done} trials)",
                    mine.overhead_ms <= 100,
                )
            )
    # Issue 17 keeps the lead: warm overhead per trivial trial at most 1/10 of NNI's.
    mine = get("trivial", "nni2ray warm")
    ref, src = _nni_ref(get("trivial", "NNI 3.0"), "overhead_ms", PUBLISHED_NNI_TRIVIAL_OVERHEAD_MS)
    if mine is not None and mine.overhead_ms is not None and ref is not None:
        out.append(
            _row(
                "trivial nni2ray warm: overhead <= 1/10 of NNI's",
                f"{mine.overhead_ms:.0f} ms vs {ref:.0f} ms ({src})"
                f" = {mine.overhead_ms / ref:.3f}x",
                mine.overhead_ms <= ref / 10,
            )
        )
    for runner in ("nni2ray warm", "nni2ray cold"):
        firsts = [
            (r.first_trial_s, r.bench)
            for r in results
            if r.runner == runner and r.first_trial_s is not None
        ]
        if firsts:
            worst, where = max(firsts)
            out.append(
                _row(
                    f"{runner}: first trial started <= 5 s (worst run)",
                    f"{worst:.1f} s ({where})",
                    worst <= 5,
                )
            )
    for runner in ("nni2ray warm", "nni2ray cold"):
        mine = get("trivial_long", runner)
        if mine is None:
            continue
        if mine.rate_ratio is not None:
            out.append(
                _row(
                    f"trivial_long {runner}: last {LONG_WINDOW:,} >= 90% as fast as first",
                    f"{mine.rate_last100:.2f} vs {mine.rate_first100:.2f} trials/s "
                    f"= {100 * mine.rate_ratio:.1f}%",
                    mine.rate_ratio >= 0.9,
                )
            )
    # Issue 17: the first line within 0.5 s, the first trial script no later than NNI's,
    # the driver no heavier than NNI's manager + dispatcher, all processes <= 1.5x NNI's.
    for r in results:
        if r.runner == "NNI 3.0" or r.concurrency != 2:
            continue
        nni = get(r.bench, "NNI 3.0")
        where = f"{r.bench} {r.runner}"
        if r.first_line_s is not None:
            out.append(
                _row(
                    f"{where}: first line on screen <= {FIRST_LINE_S} s",
                    f"{r.first_line_s:.2f} s",
                    r.first_line_s <= FIRST_LINE_S,
                )
            )
        ref, src = _nni_ref(nni, "first_script_s", PUBLISHED_NNI_FIRST_TRIAL_S)
        if r.first_script_s is not None and ref is not None:
            out.append(
                _row(
                    f"{where}: first trial script running <= NNI's",
                    f"{r.first_script_s:.1f} s vs {ref:.1f} s ({src})",
                    r.first_script_s <= ref,
                )
            )
        ref, src = _nni_ref(nni, "driver_peak_mb", PUBLISHED_NNI_DRIVER_MB)
        if r.driver_peak_mb is not None and ref is not None:
            out.append(
                _row(
                    f"{where}: driver peak <= NNI's manager + dispatcher",
                    f"{r.driver_peak_mb:.0f} MB vs {ref:.0f} MB ({src})",
                    r.driver_peak_mb <= ref,
                )
            )
        if r.tree_peak_mb is not None:
            if nni is not None and nni.tree_peak_mb is not None:
                ratio = r.tree_peak_mb / nni.tree_peak_mb
                measured = f"{r.tree_peak_mb:.0f} MB / {nni.tree_peak_mb:.0f} MB = {ratio:.2f}x"
                verdict = "PASS" if ratio <= 1.5 else "MISS"
            else:
                measured = f"{r.tree_peak_mb:.0f} MB (NNI not run: no figure for this benchmark)"
                verdict = "n/a"
            out.append([f"{where}: all processes peak <= 1.5x NNI's", measured, verdict])
    for runner in ("nni2ray warm", "nni2ray cold"):
        mine = get("trivial_long", runner)
        if mine is None:
            continue
        if mine.driver_growth_mb is not None:
            out.append(
                _row(
                    f"trivial_long {runner}: driver grows <= 300 MB",
                    f"{mine.driver_growth_mb:.0f} MB ({mine.trials_done} trials)",
                    mine.driver_growth_mb <= 300,
                )
            )
    if exports and 1000 in exports and 10000 in exports:
        ratio = exports[10000] / max(exports[1000], 1e-9)
        out.append(
            _row(
                "exports linear: 10,000 trials <= 15x the time of 1,000",
                f"{exports[1000]:.2f} s / {exports[10000]:.2f} s = {ratio:.1f}x",
                ratio <= 15,
            )
        )
    # NNI's Random draws other configurations than nni2ray's (same seed, other stream), so
    # the no-ASHA run of nni2ray (the very configurations ASHA saw, all trained to the end)
    # is shown too: it isolates what ASHA itself costs.
    bases = [
        (get("torch_epochs", "NNI 3.0"), "NNI"),
        (get("torch_epochs", "nni2ray no-ASHA"), "no-ASHA"),
    ]
    for base, src in bases:
        for runner in ("nni2ray warm", "nni2ray cold"):
            mine = get("torch_epochs", runner)
            if mine is None or base is None or None in (mine.best, base.best) or not base.epochs:
                continue
            gap = 100 * (base.best - mine.best)
            frac = mine.epochs / base.epochs
            out.append(
                _row(
                    f"torch_epochs {runner} (ASHA): best within 0.5 pt of {src}",
                    f"{100 * mine.best:.2f} vs {100 * base.best:.2f} ({gap:+.2f} pt behind)",
                    gap <= 0.5,
                )
            )
            out.append(
                _row(
                    f"torch_epochs {runner} (ASHA): <= 40% of {src}'s epochs",
                    f"{mine.epochs} / {base.epochs} = {100 * frac:.1f}%",
                    frac <= 0.4,
                )
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--nni-python", metavar="PATH", help="a Python with nni installed: also run NNI's nnictl"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHES),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHES)}",
    )
    parser.add_argument("--trials", type=int, metavar="N", help="override every trial count")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--warm",
        dest="mode",
        action="store_const",
        const="warm",
        help="nni2ray with warm trial starts only",
    )
    mode.add_argument(
        "--cold",
        dest="mode",
        action="store_const",
        const="cold",
        help="nni2ray with --no-warm-start only",
    )
    mode.add_argument(
        "--both", dest="mode", action="store_const", const="both", help="both (the default)"
    )
    parser.add_argument(
        "--long",
        action="store_true",
        help="add trivial_long: 10,000 trivial trials, nni2ray only (warm, "
        "unless --cold or --both is given)",
    )
    parser.add_argument(
        "--concurrency-table",
        action="store_true",
        help="run the trivial benchmark at concurrency 1, 2, 4 and 8 (warm) and print the "
        "peak memory of all the run's processes at each",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="what needs no NNI and little time: exports, trivial (warm), concurrency table",
    )
    parser.add_argument("--json", metavar="OUT", help="save every figure to this JSON file")
    parser.add_argument(
        "--keep", metavar="DIR", help="keep results and logs in DIR (default: a temp dir, removed)"
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    if args.quick:
        args.only = args.only or ["trivial"]
        args.mode = args.mode or "warm"
        args.concurrency_table = True
    names = list(args.only or ["sklearn_short", "torch_epochs", "trivial"])
    if args.long and "trivial_long" not in names:
        names.append("trivial_long")
    variants = {"warm": ["warm"], "cold": ["cold"], "both": ["warm", "cold"]}[args.mode or "both"]

    nni_reason = None
    if args.nni_python:
        nni_reason = check_nni(args.nni_python)
        if nni_reason:
            print(f"NNI not runnable with {args.nni_python}: {nni_reason}", file=sys.stderr)

    work = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bench-"))
    work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    started = time.time()
    results: list[Result] = []
    for name in names:
        bench = BENCHES[name]
        trials = args.trials or bench.trials
        mine = variants
        if name == "trivial_long" and args.mode is None:
            mine = ["warm"]
        if not args.quiet:
            print(f"{name}: {trials} trials at concurrency {bench.concurrency}", flush=True)
        for variant in [*mine, *bench.runners]:
            results.append(run_nni2ray(bench, variant, trials, work, args.quiet))
        if args.nni_python and bench.nni and not nni_reason:
            results.append(run_nni(bench, trials, work, args.nni_python, args.quiet))
        if not args.quiet:
            for r in results:
                if r.bench == name and r.error:
                    print(f"  {r.runner}: {r.error}", flush=True)
    table: list[Result] = []
    if args.concurrency_table:
        bench = BENCHES["trivial"]
        trials = args.trials or 16
        if not args.quiet:
            print(f"concurrency table: trivial, {trials} trials (warm)", flush=True)
        for concurrency in (1, 2, 4, 8):
            table.append(
                run_nni2ray(bench, "warm", trials, work, args.quiet, concurrency, "-table")
            )
    exports = time_exports()
    load_after = os.getloadavg()

    print()
    print(
        f"nni2ray benchmark  {time.strftime('%Y-%m-%d %H:%M:%S')}  cpus={os.cpu_count()}  "
        f"load avg before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}  "
        f"(took {time.time() - started:.0f} s)"
    )
    print()
    print_table(COLUMNS, table_rows(results))
    notes = []
    for r in results:
        if r.first_script_s is not None and r.first_trial_s is not None:
            extra = (
                f", engine started {r.engine_start_s:.1f} s" if r.engine_start_s is not None else ""
            )
            notes.append(
                f"{r.bench} / {r.runner}: first trial script running at "
                f"{r.first_script_s:.1f} s{extra}; command done at {r.exit_s:.1f} s"
            )
        if r.bench == "trivial_long" and r.rate_ratio is not None:
            notes.append(
                f"{r.bench} / {r.runner}: driver peak {r.driver_peak_mb:.0f} MB, "
                f"growth after the first trial ended {r.driver_growth_mb:.0f} MB; "
                f"completion rate first {r.rate_window:,} {r.rate_first100:.2f}/s, "
                f"last {r.rate_window:,} {r.rate_last100:.2f}/s"
            )
        if r.error and r.wall_s is not None:
            notes.append(f"{r.bench} / {r.runner}: {r.error}")
    if notes:
        print()
        for n in notes:
            print("  " + n)
    if not args.nni_python or nni_reason:
        print()
        print(
            "NNI was not run"
            + (f" ({nni_reason})" if nni_reason else " (no --nni-python)")
            + "; published figures:"
        )
        for name in names:
            if name in PUBLISHED:
                print(f"  {name}: {PUBLISHED[name]}")
    if table:
        print()
        print("all processes of a run, peak memory by concurrency (trivial, warm):")
        print_table(
            ["concurrency", "trials", "wall s", "driver MB", "all processes MB"],
            [
                [
                    str(r.concurrency),
                    f"{r.trials_done}/{r.trials_started}",
                    _f(r.wall_s),
                    _f(r.driver_peak_mb, "{:.0f}"),
                    _f(r.tree_peak_mb, "{:.0f}"),
                ]
                for r in table
            ],
        )
    print()
    print(
        "write_exports (export.json + export.csv): "
        + ", ".join(f"{n:,} trials {t:.2f} s" for n, t in exports.items())
    )
    rows = targets(results, exports)
    if rows:
        print()
        print_table(["target", "measured", "verdict"], rows)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "argv": sys.argv,
                    "cpus": os.cpu_count(),
                    "loadavg_before": load_before,
                    "loadavg_after": load_after,
                    "nni_python": args.nni_python,
                    "nni_not_run_reason": nni_reason,
                    "results": [asdict(r) for r in results],
                    "concurrency_table": [asdict(r) for r in table],
                    "exports_s": exports,
                    "targets": [
                        dict(zip(["target", "measured", "verdict"], t, strict=True)) for t in rows
                    ],
                },
                indent=2,
            )
        )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"\nresults and logs: {work}")
    return 0 if all(r.ok for r in results + table) else 1


if __name__ == "__main__":
    sys.exit(main())
