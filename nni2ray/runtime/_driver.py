"""Run an NNI experiment on Ray Tune: start Ray, run the trials, keep every record."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from nni2ray.errors import OutputError, ResourceError
from nni2ray.experiment import Experiment, display_path
from nni2ray.results import (
    DISK_FULL_REASON,
    RUN_TOKEN_ENV,
    FolderLock,
    Prior,
    RunStatus,
    SpaceReserve,
    Supervisor,
    TrialRecord,
    default_output,
    disk_full_error,
    failed_path,
    free_bytes,
    is_disk_full,
    latest_output,
    load_prior,
    lock_output,
    new_experiment_id,
    prepare_output,
    probe_output,
    rank,
    size_text,
    start_supervisor,
    write_exports,
    write_json,
)
from nni2ray.runtime._signals import RunInterrupted, SignalGuard, signal_name
from nni2ray.startup import mark
from nni2ray.translate import TunePlan, describe
from nni2ray.trials import TrialContext, descendants, end_leftover_trials, end_warm_templates

# Read by Tune at run time (not at import): results may lack the metric (heartbeats, trials
# that never report), and nni2ray handles Ctrl-C itself so every trial is ended cleanly.
_TUNE_ENV = {
    "TUNE_DISABLE_STRICT_METRIC_CHECKING": "1",
    "TUNE_DISABLE_SIGINT_HANDLER": "1",
    "RAY_CHDIR_TO_TRIAL_DIR": "0",
    "RAY_AIR_NEW_OUTPUT": "0",
    # nni2ray resumes from its own per-trial records, not from Tune's experiment snapshot,
    # whose cost grows with the number of trials (each one serialises every trial and keeps
    # the JSON: 10,000 trials, about 80 MB held and a pause per snapshot): Tune writes it
    # only when it must (at the start and the end of the run).
    "TUNE_GLOBAL_CHECKPOINT_S": "inf",
    # Tune's CSV/JSON loggers come from runtime._loggers instead, without heartbeats; its
    # TensorBoardX logger is left out (nni2ray writes honest TensorBoard files itself).
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
}


#: A local Ray is started with at least trialConcurrency CPUs, but never more than this
#: (a config asking for 10**20 concurrent trials must not reach ray.init).
_MAX_LOCAL_CPUS = 1024


@dataclass(frozen=True)
class RunOptions:
    """How to run: where to write, which cluster, how chatty, where to start from.

    Attributes:
        resume: continue the run in ``output`` (default: the newest run of this experiment
            under ./nni2ray-results/) from its per-trial records.
        from_nni: an NNI experiment folder whose finished trials the search starts from.
        max_retries: how often a trial whose Ray worker died is started again.
    """

    output: Path | None = None
    address: str | None = None
    quiet: bool = False
    stream: TextIO | None = None
    heartbeat_s: float = 2.0
    resume: bool = False
    from_nni: Path | None = None
    max_retries: int = 1
    warm_start: bool = True
    python: str | None = None
    stop_event: threading.Event | None = None  # set: end the run as Ctrl-C does
    signals: SignalGuard | None = None
    #: ``time.monotonic()`` when the command started: progress and the summary's time
    #: count from it (None: from the call to run_experiment).
    started: float | None = None
    #: Said once the output folder is ready, before Ray starts (the CLI's first line).
    announce: str | None = None


@dataclass
class RunSummary:
    """What a run produced."""

    output: Path
    experiment_id: str
    records: list[TrialRecord] = field(default_factory=list)
    best: list[TrialRecord] = field(default_factory=list)
    interrupted: bool = False
    elapsed_s: float = 0.0
    #: The signal that stopped the run (SIGINT, SIGTERM, SIGHUP), if one did.
    signum: int | None = None


def run_experiment(experiment: Experiment, plan: TunePlan, options: RunOptions) -> RunSummary:
    """Run the experiment to its end (or Ctrl-C) and write every record and export.

    With ``options.resume`` the run continues in its output folder: finished trials are
    kept, trials that were running are run again, and only the rest of maxTrialNumber runs.
    With ``options.from_nni`` the finished trials of an NNI experiment are imported first.

    Raises:
        OutputError: the output folder cannot be used (checked before Ray starts).
        HistoryError: the ``--from-nni`` folder cannot be read (nothing is written).
        ResourceError: a trial asks for more than the cluster can ever give.
    """
    if options.started is None:
        options = replace(options, started=time.monotonic())
    guard = options.signals or SignalGuard(stream=options.stream)
    installed_here = not guard.installed and guard.install()
    guard.raising = False  # from here on a signal is recorded; phases below look at it
    try:
        if guard.signum is not None:
            raise RunInterrupted(guard.signum)  # nothing is on disk yet
        if options.address:
            _check_address(options.address)  # before anything is written
        else:
            _check_ray_temp()
        return _run(experiment, plan, options, guard)
    finally:
        guard.clear_callbacks()
        if installed_here:
            guard.restore()


def _run(
    experiment: Experiment, plan: TunePlan, options: RunOptions, guard: SignalGuard
) -> RunSummary:
    try:
        return _run_owned(experiment, plan, options, guard)
    except OSError as exc:  # a full disk anywhere else: the folder, Ray's start, the end
        if not is_disk_full(exc):
            raise
        path = failed_path(exc) or options.output or Path.cwd()
        output = options.output or path.parent
        raise disk_full_error(path, output, _experiment_folder(experiment)) from None


def _experiment_folder(experiment: Experiment) -> str:
    return display_path(experiment.root or experiment.config_file.parent)


def _run_owned(
    experiment: Experiment, plan: TunePlan, options: RunOptions, guard: SignalGuard
) -> RunSummary:
    output, prior, lock = _prepare(experiment, plan, options)
    try:
        # Given back when the disk fills up, for experiment.json and the exports.
        reserve = SpaceReserve(output)
        try:
            # Outlives this process: if the driver dies, it ends every trial of the run.
            supervisor = start_supervisor(output)
            try:
                summary = _run_locked(
                    experiment, plan, options, guard, output, prior, reserve, supervisor
                )
            finally:
                # The trials' shared warm-start template outlives the trial actors (every
                # actor of the run on a node uses it): the run's end ends it on this
                # machine; on other nodes it exits once idle (warm.IDLE_S).
                end_warm_templates(output)
                supervisor.release()
        finally:
            reserve.release()
        return _late_signal(summary, output, guard)
    finally:
        lock.release()


def _late_signal(summary: RunSummary, output: Path, guard: SignalGuard) -> RunSummary:
    """A signal that came after the run was recorded (while Ray shut down, the template
    and the supervisor ended) still ends the command as the signal story says: status
    STOPPED with the signal as the reason, and the exit code 128 + N. The records and
    exports are complete; ``--resume`` of such a folder runs nothing and marks it DONE."""
    if guard.signum is None or summary.signum is not None:
        return summary
    path = output / "experiment.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = None
    if isinstance(meta, dict) and meta.get("status") == RunStatus.DONE:
        meta.update(status=RunStatus.STOPPED, stopReason=signal_name(guard.signum))
        write_json(path, meta)
    return replace(summary, interrupted=True, signum=guard.signum)


def _run_locked(
    experiment: Experiment,
    plan: TunePlan,
    options: RunOptions,
    guard: SignalGuard,
    output: Path,
    prior: Prior,
    reserve: SpaceReserve,
    supervisor: Supervisor,
) -> RunSummary:
    if experiment.use_annotation:
        from nni2ray.experiment import write_annotated_copy

        # NNI 2.x runs annotated trial code from an expanded copy; the original is untouched.
        code = write_annotated_copy(experiment, output / "annotated-code")
        experiment = replace(experiment, trial=replace(experiment.trial, code_directory=code))
    _write_starting(experiment, plan, output, prior)
    if options.announce:
        _say(options, options.announce)
    guard.on_abort(lambda: end_leftover_trials(output, grace_s=0.0))
    if guard.signum is not None:
        return _finish_stopped(plan, output, prior, guard.signum)
    if plan.num_samples > 0:  # finished trials count toward maxTrialNumber
        plan = replace(plan, num_samples=max(plan.num_samples - len(prior.records), 0))
    if plan.num_samples == 0:
        return _finish_without_trials(plan, output, prior)
    env = dict(_TUNE_ENV)
    # Stage as many trials as may run at once, not Tune's default of 200 ahead.
    env["TUNE_MAX_PENDING_TRIALS_PG"] = str(plan.max_concurrent_trials)
    if not options.address and "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in os.environ:
        # A local run serves no other machine: Ray then binds its ports to 127.0.0.1, not
        # to the machine's network address (read when Ray is imported).
        env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    if not options.address:
        # Inherited by the local Ray's processes: the supervisor ends them if this dies.
        env[RUN_TOKEN_ENV] = supervisor.token
        env.update((k, v) for k, v in _TUNE_ACTOR_ENV.items() if k not in os.environ)
    with _environment(env):
        mark("importing ray")
        import ray

        mark("ray imported")
        _preimport(plan, prior)
        guard.on_abort(_kill_local_ray)
        try:
            started_ray = _start_ray(experiment, plan, options)
            mark("ray.init done" if started_ray else "ray already running")
        except SystemExit as exc:
            # ray.init installs its own SIGTERM handler (sys.exit) while it starts Ray.
            if exc.code != signal.SIGTERM:
                raise
            guard.signum = guard.signum or signal.SIGTERM
            with contextlib.suppress(Exception):
                ray.shutdown()
            return _finish_stopped(plan, output, prior, guard.signum)
        finally:
            guard.reinstall()  # take SIGTERM back from ray.init's handler
        try:
            if guard.signum is not None:
                return _finish_stopped(plan, output, prior, guard.signum)
            _say(options, ray_up_line(options.started, options.address))
            if started_ray:
                supervisor.note_processes(_local_ray_children())
            _check_resources(experiment, plan)
            summary = _fit(
                experiment,
                plan,
                options,
                output,
                prior,
                guard,
                reserve,
                local=started_ray and not options.address,
            )
        finally:
            if started_ray:
                pause_for_tests("shutdown", output, guard)
                ray.shutdown()
    # The run's wall time: from the command's start, Ray's start and stop included.
    summary.elapsed_s = time.monotonic() - (options.started or 0.0)
    _record_wall_time(output, summary.elapsed_s)
    return summary


def _preimport(plan: TunePlan, prior: Prior) -> None:
    """Import Ray Tune, the runtime and NNI's own tuner module (when the run uses it) in a
    thread while ``ray.init`` starts Ray: the driver mostly waits for Ray's processes
    there, and these imports cost about 1 s of CPU each (measured: ``ray.tune`` + the
    runtime 0.98 s, ``nni.algorithms.hpo.random_tuner`` 0.91 s). ``_fit``'s own imports
    find them done, or wait on Python's import lock for the thread to finish them; an
    import that fails here fails again there, where it is reported."""

    def run() -> None:
        with contextlib.suppress(Exception):
            import importlib

            for name in (
                "ray.tune",
                "nni2ray.runtime._callbacks",
                "nni2ray.runtime._trainable",
                "nni2ray.runtime.searchers",
                "nni2ray.runtime.schedulers",
            ):
                importlib.import_module(name)
            mark("Tune and the runtime imported (in the background)")
            class_name = str(plan.searcher.kwargs.get("class_name", ""))
            nni_class = plan.searcher.kwargs.get("nni_builtin") and class_name.startswith("nni.")
            if nni_class and not (prior.records or prior.replay) and "nni" not in sys.modules:
                importlib.import_module(class_name.rpartition(".")[0])
                mark("NNI's tuner module imported (in the background)")

    threading.Thread(target=run, name="nni2ray-preimport", daemon=True).start()


def _record_wall_time(output: Path, seconds: float) -> None:
    """``experiment.json``'s ``wallTime``: what the summary said, for ``nni2ray show``."""
    import json

    try:
        meta = json.loads((output / "experiment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(meta, dict):
        meta["wallTime"] = seconds
        with contextlib.suppress(OSError):  # a full disk now: the file stays as it was
            write_json(output / "experiment.json", meta)


#: Seconds to wait for a TCP connection to the cluster named by --address.
ADDRESS_TIMEOUT_S = 5.0

_ADDRESS_HINT = (
    "start a cluster with `ray start --head` and pass the address it prints (host:6379), "
    "or leave out --address to run on this machine"
)


def _address_error(address: str, reason: str) -> ResourceError:
    return ResourceError(
        f"cannot reach a Ray cluster at {address} ({reason})",
        field="--address",
        hint=_ADDRESS_HINT,
    )


#: Free space a local Ray needs in its temporary folder to start: the session folder of a
#: small run holds 7-20 MB of logs, sockets and state (measured in /tmp/ray).
RAY_TEMP_NEEDED = 64 << 20


def ray_temp_dir() -> Path:
    """The folder a local Ray puts its session folders in, by Ray's own rule
    (``RAY_TMPDIR``, else ``TMPDIR`` on Linux, else /tmp), without importing Ray."""
    if "RAY_TMPDIR" in os.environ:
        base = os.environ["RAY_TMPDIR"]
    elif sys.platform.startswith("linux") and "TMPDIR" in os.environ:
        base = os.environ["TMPDIR"]
    elif sys.platform.startswith(("linux", "darwin")):
        base = "/tmp"
    else:  # pragma: no cover - Windows
        import tempfile

        base = tempfile.gettempdir()
    return Path(base) / "ray"


def _ray_temp_error(folder: Path, free: int | None) -> ResourceError:
    return ResourceError(
        f"Ray's temporary folder has {size_text(free)} free; a local Ray needs about "
        f"{size_text(RAY_TEMP_NEEDED)} there to start",
        file=folder,
        hint="free some space there, or give Ray another folder with RAY_TMPDIR=DIR",
    )


def _check_ray_temp() -> None:
    """Refuse, in one line and before anything is written, a local run whose Ray could not
    start: on a full temporary folder ``ray.init`` waits ~30 s for its GCS server and ends
    in a traceback ("Timed out waiting for file .../gcs_server_port_...")."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return  # a Ray the caller started: it has its folder already
    folder = ray_temp_dir()
    free = free_bytes(folder)
    if free is not None and free < RAY_TEMP_NEEDED:
        raise _ray_temp_error(folder, free)


def _check_address(address: str) -> None:
    """Fail in seconds, with the address named, when nothing listens there (ray.init
    would retry for more than a minute behind its own log lines)."""
    target = address.strip()
    if target == "auto" or target.startswith("local"):
        return  # Ray finds the local cluster itself and fails fast when there is none
    target = target.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep:
        host, port = target, "6379"
    if not port.isdigit():
        raise _address_error(address, "the port is not a number")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=ADDRESS_TIMEOUT_S).close()
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise _address_error(address, reason.lower()) from None


def _local_ray_children() -> set[int]:
    """Processes below the local Ray node this driver started that the node does not track:
    Ray's agents (dashboard, runtime-env) and workers, children of the raylet. Killed
    without a graceful stop (an abort, or the driver's death, which Ray's fate-sharing
    passes on to the raylet), the raylet leaves them running for good."""
    import ray

    node = getattr(ray._private.worker, "_global_node", None)
    if node is None or not node.head:
        return set()
    roots = {info.process.pid for infos in node.all_processes.values() for info in infos}
    return descendants(roots)


def _kill_local_ray() -> None:
    """On abort: end the Ray processes this driver started (they would linger ~75 s)."""
    import ray

    node = getattr(ray._private.worker, "_global_node", None)
    if node is None or not node.head:
        return
    children = _local_ray_children()  # found first: ancestry is lost once the raylet dies
    node.kill_all_processes(check_alive=False, allow_graceful=False)
    for pid in children:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _write_starting(experiment: Experiment, plan: TunePlan, output: Path, prior: Prior) -> None:
    """Make the folder a run folder at once: stopped before its first trial, it is still a
    folder ``--resume`` accepts."""
    prior.experiment_id = prior.experiment_id or new_experiment_id()
    meta = dict(prior.meta)
    meta.update(
        experimentId=prior.experiment_id,
        config=str(experiment.config_file),
        experimentName=plan.name,
        startTime=meta.get("startTime", time.time()),
        status=RunStatus.STARTING,
    )
    meta.pop("endTime", None)
    write_json(output / "experiment.json", meta)
    prior.meta = meta


def _finish_stopped(plan: TunePlan, output: Path, prior: Prior, signum: int) -> RunSummary:
    """A signal came before the first trial: the folder is left as a resumable run."""
    records = list(prior.records)
    write_exports(output, records)
    meta = dict(prior.meta)
    meta.update(endTime=time.time(), status=RunStatus.STOPPED, stopReason=signal_name(signum))
    meta.setdefault("nextSequence", prior.next_sequence)
    write_json(output / "experiment.json", meta)
    summary = RunSummary(output, str(meta.get("experimentId")), records, rank(records, plan.mode))
    summary.interrupted = True
    summary.signum = signum
    return summary


@contextlib.contextmanager
def _environment(updates: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the run only; the caller's environment is restored
    (a program that runs nni2ray and then its own Tune must not inherit nni2ray's settings)."""
    saved = {name: os.environ.get(name) for name in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _prepare(
    experiment: Experiment, plan: TunePlan, options: RunOptions
) -> tuple[Path, Prior, FolderLock]:
    """The output folder, locked, and what earlier runs (or NNI) left in it; before Ray
    starts."""
    if options.resume:
        output = (options.output or latest_output(plan.name)).expanduser().resolve()
        if not output.is_dir():
            raise OutputError(
                "no run to resume here", file=output, hint="pass an earlier run's --output"
            )
        probe_output(output)
        lock = _lock(output, options)  # before anything in the folder is touched
        try:
            _check_same_experiment(output, experiment, plan)
            # A driver killed with SIGKILL leaves its trials' processes running: end them
            # before their folders are read and moved.
            end_leftover_trials(output)
            prior = load_prior(output)
        except BaseException:
            lock.release()
            raise
        _say(options, _resume_line(output, prior))
        return output, prior, lock
    history = None
    if options.from_nni is not None:
        from nni2ray.results import load_history

        history = load_history(options.from_nni)  # read and checked before any write
    output = prepare_output(options.output or default_output(plan.name))
    lock = _lock(output, options)
    if history is None:
        return output, Prior(), lock
    from nni2ray.results import prior_from_nni

    try:
        prior = prior_from_nni(history, output)
    except BaseException:
        lock.release()
        raise
    _say(
        options,
        f"nni2ray: imported {len(prior.records)} finished NNI trial(s) from {history.database}"
        + (f"; {len(prior.replay)} unfinished will run again" if prior.replay else ""),
    )
    return output, prior, lock


def _check_same_experiment(output: Path, experiment: Experiment, plan: TunePlan) -> None:
    """Refuse to resume a folder another experiment wrote: its trials would be mixed in."""
    try:
        meta = json.loads((output / "experiment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return  # load_prior says what is wrong with the file
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), str):
        return
    if Path(meta["config"]) == experiment.config_file:
        return
    name = meta.get("experimentName")
    if name is None or name != plan.name:
        raise OutputError(
            f"this folder holds a run of another experiment ({meta['config']}"
            + (f", {name!r}" if name is not None else "")
            + ")",
            file=output,
            hint="pass that experiment's folder, or choose another --output without --resume",
        )


def _lock(output: Path, options: RunOptions) -> FolderLock:
    lock = lock_output(output)
    if lock.taken_over:
        print(
            f"nni2ray: {output}: the run that held this folder ({lock.taken_over}) is gone; "
            "taking the folder over",
            file=options.stream or sys.stderr,
            flush=True,
        )
    return lock


def _resume_line(output: Path, prior: Prior) -> str:
    text = f"nni2ray: resuming {output}: {len(prior.records)} finished trial(s) kept"
    if prior.replay:
        text += f", {len(prior.replay)} interrupted trial(s) run again"
    return text


def ray_up_line(started: float | None, address: str | None) -> str:
    import ray

    cpus = ray.cluster_resources().get("CPU", 0)
    where = f"connected to {address}" if address else "started"
    elapsed = time.monotonic() - started if started is not None else 0.0
    return f"nni2ray: Ray {where} ({cpus:g} CPUs) at {elapsed:.1f}s; starting trials"


def _say(options: RunOptions, line: str) -> None:
    if not options.quiet:
        with contextlib.suppress(OSError, ValueError):  # a terminal gone (SIGHUP): go on
            print(line, file=options.stream or sys.stdout, flush=True)
        mark("first line printed")


def _finish_without_trials(plan: TunePlan, output: Path, prior: Prior) -> RunSummary:
    records = list(prior.records)
    write_exports(output, records)
    meta = dict(prior.meta) or {"experimentId": prior.experiment_id or new_experiment_id()}
    meta.update(endTime=time.time(), status=RunStatus.DONE)
    write_json(output / "experiment.json", meta)
    experiment_id = str(meta.get("experimentId"))
    return RunSummary(output, experiment_id, records, rank(records, plan.mode), False, 0.0)


def _start_ray(experiment: Experiment, plan: TunePlan, options: RunOptions) -> bool:
    import logging

    import ray

    if ray.is_initialized():
        return False
    common: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.ERROR,
    }
    if options.address:
        runtime_env = {
            "working_dir": str(experiment.trial.code_directory),
            "py_modules": [str(Path(__file__).resolve().parents[1])],  # nni2ray/
            "excludes": [".git", "__pycache__", "nni2ray-results"],
        }
        try:
            ray.init(address=options.address, runtime_env=runtime_env, **common)
        except ConnectionError as exc:
            first = (str(exc).splitlines() or ["no cluster answered"])[0]
            raise _address_error(options.address, first.rstrip(".")) from None
    else:
        wanted = int(min(plan.max_concurrent_trials * plan.cpus_per_trial, _MAX_LOCAL_CPUS))
        cpus = max(os.cpu_count() or 1, wanted)
        try:
            with _lean_local_node():
                ray.init(num_cpus=cpus, _system_config=_LOCAL_RAY_SYSTEM_CONFIG, **common)
        except Exception as exc:
            # Ray's temporary folder filled up between the check and the start.
            folder = ray_temp_dir()
            free = free_bytes(folder)
            if is_disk_full(exc) or (free is not None and free < RAY_TEMP_NEEDED):
                raise _ray_temp_error(folder, free) from None
            raise
    return True


#: The system configuration of a local Ray this driver starts. A Ray worker that exits
#: (ended, or on losing its raylet when the driver dies) SIGKILLs its direct children by
#: default. A cold trial's direct child is its reaper (``trials._reaper``): killed so, it
#: cannot end its trial's tree, and what it had adopted (a double-forked ``setsid`` daemon
#: with a cleared environment) goes to init, where no search finds it. nni2ray ends its
#: trials itself: the reaper, the per-trial search when a worker is lost, the supervisor
#: when the driver is. (A cluster given with ``--address`` keeps its own setting.)
_LOCAL_RAY_SYSTEM_CONFIG = {"kill_child_processes_on_worker_exit": False}


#: What Ray Tune puts in every trial actor's runtime environment (its ``class_cache``):
#: set in the environment of a local node instead, see :func:`_plain_trial_actors`.
_TUNE_ACTOR_ENV = {"PL_DISABLE_FORK": "1"}


@contextlib.contextmanager
def _plain_trial_actors(local: bool) -> Iterator[None]:
    """On the local node this driver started: create the trial actors without the runtime
    environment Ray Tune gives each one (``{"env_vars": ...}``, its ``_ActorClassCache``).

    An actor with a runtime environment of its own never gets one of the idle workers the
    raylet prestarts when the driver connects (one per CPU): Ray starts a fresh worker
    process for it after ``tuner.fit()`` (measured: the first trial waited for that
    process's start and ``import ray``, 2 s on an idle 2-core machine), while the
    prestarted ones idle. Tune's variables reach the workers anyway: they are in this
    process's environment when ``ray.init`` starts the node (``_TUNE_ENV``,
    ``_TUNE_ACTOR_ENV``, and the caller's own, which Tune would copy), and every worker of
    the node inherits it. On a cluster (``--address``) or a Ray someone else started,
    Tune is left as it is. A Tune without that cache is left as it is too."""
    if not local:
        yield
        return
    try:
        from ray.tune.execution import class_cache
    except ImportError:
        yield
        return
    cache_class: Any = getattr(class_cache, "_ActorClassCache", None)
    original = None if cache_class is None else cache_class.__dict__.get("get")
    if original is None:
        yield
        return
    import ray

    def get(self: Any, trainable_cls: Any) -> Any:
        cache = getattr(self, "_cache", None)
        if not isinstance(cache, dict):
            return original(self, trainable_cls)
        if trainable_cls not in cache:
            cache[trainable_cls] = ray.remote(trainable_cls)
        return cache[trainable_cls]

    cache_class.get = get
    try:
        yield
    finally:
        cache_class.get = original


@contextlib.contextmanager
def _lean_local_node() -> Iterator[None]:
    """While ``ray.init`` starts a local node: leave out the head processes a local
    nni2ray run never uses, and their memory and start-up CPU (measured: ~150 MB PSS and
    about a second of a 2-core machine's start-up): the autoscaler monitor (a local node
    has nothing to scale), the log monitor (it streams worker logs to drivers; nni2ray
    runs with ``log_to_driver=False`` and writes every trial's output itself) and the API
    server (the minimal dashboard; nni2ray runs with ``include_dashboard=False``).
    ``ray start --head --no-monitor --include-log-monitor=False`` has the first two as
    options; ``ray.init`` has none of them, so its ``Node`` is adjusted for this one call.
    A Ray whose ``Node`` differs is left as it is (the full set of processes starts)."""
    try:
        from ray._private import node as ray_node
    except ImportError:
        yield
        return
    node_class: Any = ray_node.Node
    original_init = node_class.__dict__.get("__init__")
    original_api = node_class.__dict__.get("start_api_server")
    if original_init is None or original_api is None:
        yield
        return

    def init(self: Any, ray_params: Any, *args: Any, **kwargs: Any) -> None:
        head = kwargs.get("head", args[0] if args else False)
        if head and hasattr(ray_params, "no_monitor"):
            ray_params.no_monitor = True
            ray_params.include_log_monitor = False
            self._nni2ray_lean = True
        original_init(self, ray_params, *args, **kwargs)

    def start_api_server(self: Any, *args: Any, **kwargs: Any) -> None:
        if not getattr(self, "_nni2ray_lean", False):
            original_api(self, *args, **kwargs)

    node_class.__init__ = init
    node_class.start_api_server = start_api_server
    try:
        yield
    finally:
        node_class.__init__ = original_init
        node_class.start_api_server = original_api


def _check_resources(experiment: Experiment, plan: TunePlan) -> None:
    import ray

    total = ray.cluster_resources()
    gpus = plan.gpus_per_trial or 0
    if gpus > total.get("GPU", 0):
        raise ResourceError(
            f"trialGpuNumber asks for {gpus:g} GPU per trial but the Ray cluster has "
            f"{total.get('GPU', 0):g} GPU",
            file=display_path(experiment.config_file),
            field="trialGpuNumber",
            hint="set trialGpuNumber: 0 or pass --gpus-per-trial 0 to run on CPU",
        )
    if plan.cpus_per_trial > total.get("CPU", 0):
        raise ResourceError(
            f"each trial asks for {plan.cpus_per_trial:g} CPU but the Ray cluster has "
            f"{total.get('CPU', 0):g}",
            field="resources",
            hint="run on a larger cluster",
        )


def _context(
    experiment: Experiment, plan: TunePlan, options: RunOptions, output: Path, experiment_id: str
) -> TrialContext:
    return TrialContext(
        experiment_id=experiment_id,
        command=experiment.trial.command,
        code_directory=None if options.address else str(experiment.trial.code_directory),
        output_dir=str(output),
        search_space=plan.search_space,
        extra_parameters=dict(plan.extra_parameters),
        checkpoint_dirs=plan.checkpoint_dirs,
        max_trial_duration_s=plan.max_trial_duration_s,
        gpu_number=plan.gpus_per_trial,
        heartbeat_s=options.heartbeat_s,
        warm_start=options.warm_start,
        python=options.python,
    )


def _fit(
    experiment: Experiment,
    plan: TunePlan,
    options: RunOptions,
    output: Path,
    prior: Prior,
    guard: SignalGuard,
    reserve: SpaceReserve,
    *,
    local: bool = False,
) -> RunSummary:
    """Run the trials with Tune. ``local``: on the Ray node this driver started (its
    workers inherited this process's environment)."""
    from ray import tune

    from nni2ray.runtime._callbacks import Recorder, RunStopper
    from nni2ray.runtime._loggers import TuneResultLoggers
    from nni2ray.runtime._progress import Progress
    from nni2ray.runtime._trainable import NniTrial
    from nni2ray.runtime._user_algorithms import ERROR_FILE, close_algorithms
    from nni2ray.runtime.schedulers import build_scheduler
    from nni2ray.runtime.searchers import build_searcher

    mark("Tune and the runtime imported")
    plan = _algorithm_backend(plan, prior)
    experiment_id = prior.experiment_id or new_experiment_id()
    context = _context(experiment, plan, options, output, experiment_id)
    stopper = RunStopper(plan.time_budget_s, options.stop_event)
    stopper.output = str(output)
    total = plan.num_samples + len(prior.records) if plan.num_samples > 0 else None
    progress = Progress(
        options.stream, quiet=options.quiet, started=options.started, mode=plan.mode, total=total
    )
    recorder = Recorder(context, stopper, plan.mode, progress=progress)
    recorder.keep(prior.records)
    trainable = tune.with_resources(
        tune.with_parameters(NniTrial, context=context),
        {"cpu": plan.cpus_per_trial, "gpu": plan.gpus_per_trial or 0},
    )
    if plan.searcher.kwargs.get("nni_builtin") or plan.checkpoint_dirs:
        # NNI's manager gives its dispatcher the experiment's checkpoint folder (the default
        # all_checkpoint_dir of NNI's PBTTuner and of nni2ray's).
        os.environ["NNI_CHECKPOINT_DIRECTORY"] = str(output / "checkpoint")
    searcher = _warm_started(build_searcher(plan, experiment), prior)
    scheduler = build_scheduler(plan)
    for part in (searcher, scheduler):  # a blocking custom tuner/assessor cannot stall the run
        algorithm = getattr(part, "user_algorithm", None)
        if algorithm is not None:
            algorithm.stop_when = stopper.stop_all
            algorithm.output = output  # where recovered exceptions' tracebacks go
    mark("searcher and scheduler built")
    tuner = tune.Tuner(
        trainable,
        param_space={},
        tune_config=tune.TuneConfig(
            search_alg=searcher,
            scheduler=scheduler,
            metric=plan.metric,
            mode=plan.mode,
            num_samples=plan.num_samples,
            max_concurrent_trials=plan.max_concurrent_trials,
            reuse_actors=_reuse_actors(experiment, options),
        ),
        run_config=tune.RunConfig(
            name=prior.tune_name,
            storage_path=str(output),
            stop=stopper,
            callbacks=[recorder, TuneResultLoggers(stopper.on_disk_full)],
            verbose=0,
            # A trial whose worker died (node lost, OOM kill) starts again from scratch.
            failure_config=tune.FailureConfig(max_failures=options.max_retries),
            # A trial is an opaque process with nothing to save; Tune's default for a class
            # trainable calls save() as each trial ends (a round trip, a folder and a kept
            # result per trial).
            checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=False),
        ),
    )
    meta = dict(prior.meta)
    meta.update(
        experimentId=experiment_id,
        config=str(experiment.config_file),
        plan=describe(plan),
        startTime=meta.get("startTime", time.time()),
        status=RunStatus.RUNNING,
        tuneRuns=[*meta.get("tuneRuns", []), prior.tune_name],
    )
    write_json(output / "experiment.json", meta)

    def stop() -> None:
        stopper.interrupted = True

    guard.on_stop(stop)  # Tune's stop_all sees it at its next step and ends every trial
    if guard.signum is None:
        mark("tuner.fit() called")
        try:
            with (
                _disk_full_logged_by_ray(stopper),
                _plain_trial_actors(local),
                _no_result_dataframes(),
            ):
                tuner.fit()
        except Exception as exc:  # Tune's own writes (experiment state, error files)
            if not is_disk_full(exc):
                raise
            stopper.mark_disk_full(failed_path(exc) or output)
        finally:
            progress.close()
    if stopper.disk_full is not None:
        reserve.release()  # room for experiment.json and the exports
        return _finish_disk_full(experiment, output, prior, recorder, meta, stopper)
    recorder.finish_open()
    records = list(recorder.records.values())
    pause_for_tests("writing", output, guard)
    write_exports(output, records)
    meta.update(
        endTime=time.time(),
        status=RunStatus.STOPPED if guard.signum or stopper.interrupted else RunStatus.DONE,
        nextSequence=max([r.sequence for r in records] + [prior.next_sequence - 1]) + 1,
    )
    if guard.signum is not None:
        meta["stopReason"] = signal_name(guard.signum)
    elif stopper.interrupted:
        meta["stopReason"] = "stop() of the Python launcher"
    failure = close_algorithms(output, meta, searcher, scheduler)  # custom tuner/assessor
    report = getattr(searcher, "run_report", None)  # e.g. where BOHB's configurations came from
    if callable(report):
        meta.update(report())
    write_json(output / "experiment.json", meta)
    if failure is not None:
        raise failure.error(output / ERROR_FILE)
    return RunSummary(
        output,
        experiment_id,
        records,
        rank(records, plan.mode),
        guard.signum is not None or stopper.interrupted,  # a signal, or a launcher's stop()
        progress.elapsed(),
        guard.signum,
    )


#: Tests only: ``NNI2RAY_TEST_PAUSE_AT=PHASE:SECONDS`` (PHASE: ``writing``, where the
#: trials have ended and the exports are about to be written; ``shutdown``, where
#: everything is written and the local Ray is about to be shut down) makes the driver write
#: ``<output>/.paused-PHASE`` and wait there up to SECONDS (default 60) or until a signal
#: comes, so a test can deliver a signal at that phase boundary of a real run.
PAUSE_ENV = "NNI2RAY_TEST_PAUSE_AT"


def pause_for_tests(phase: str, output: Path, guard: SignalGuard) -> None:
    name, _, seconds = os.environ.get(PAUSE_ENV, "").partition(":")
    if name != phase:
        return
    (output / f".paused-{phase}").write_text(str(os.getpid()), encoding="utf-8")
    deadline = time.monotonic() + float(seconds or 60)
    while guard.signum is None and time.monotonic() < deadline:
        time.sleep(0.05)


@contextlib.contextmanager
def _no_result_dataframes() -> Iterator[None]:
    """While ``tuner.fit()`` runs: Tune's closing analysis does not read every trial's
    result file back from disk into a pandas DataFrame (nni2ray never reads the ResultGrid:
    its records are its results). With 10,000 trials that read took about 10 s and 300 MB
    of the driver at the very end of the run. A Tune without that method is left as it
    is; the ResultGrid then has no per-trial DataFrames (``metrics_dataframe`` is None)."""
    try:
        from ray.tune.analysis import experiment_analysis
    except ImportError:
        yield
        return
    analysis_class: Any = getattr(experiment_analysis, "ExperimentAnalysis", None)
    original = (
        None if analysis_class is None else analysis_class.__dict__.get("_fetch_trial_dataframes")
    )
    if original is None:
        yield
        return

    def no_dataframes(self: Any) -> dict[str, Any]:
        return {}

    analysis_class._fetch_trial_dataframes = no_dataframes
    try:
        yield
    finally:
        analysis_class._fetch_trial_dataframes = original


@contextlib.contextmanager
def _disk_full_logged_by_ray(stopper: Any) -> Iterator[None]:
    """Tune logs, with a traceback, a failed save of its own experiment state instead of
    raising it: a full disk said that way stops the run like any other (its line is the
    run's last), and the log record is dropped."""
    import logging

    def drop(record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        text = record.getMessage()
        if is_disk_full(exc) or "No space left on device" in text or "[Errno 28]" in text:
            stopper.mark_disk_full(failed_path(exc) or Path(stopper.output))
            return False
        return True

    handlers = {h for h in logging.getLogger().handlers}
    for name in list(logging.Logger.manager.loggerDict):
        if name == "ray" or name.startswith("ray."):
            handlers.update(logging.getLogger(name).handlers)
    for handler in handlers:
        handler.addFilter(drop)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(drop)


def _finish_disk_full(
    experiment: Experiment,
    output: Path,
    prior: Prior,
    recorder: Any,
    meta: dict[str, Any],
    stopper: Any,
) -> RunSummary:
    """The disk under the run folder filled up and Tune has ended the trials: end what may
    be left, keep what can still be written, and end the command with one line."""
    end_leftover_trials(output, grace_s=1.0)  # Tune may have failed before ending them
    recorder.finish_open()  # open trials: USER_CANCELED, "disk full" (run again on resume)
    recorder.write_unwritten()  # the reserve is given back: records refused before
    records = list(recorder.records.values())
    meta.update(
        endTime=time.time(),
        status=RunStatus.STOPPED,
        stopReason=DISK_FULL_REASON,
        nextSequence=max([r.sequence for r in records] + [prior.next_sequence - 1]) + 1,
    )
    for write in (  # experiment.json first: it is small and says why the run stopped
        lambda: write_json(output / "experiment.json", meta),
        lambda: write_exports(output, records),
    ):
        try:  # a full disk keeps the earlier whole files (the writes are atomic)
            write()
        except OSError as exc:
            if not is_disk_full(exc):
                raise
    path = stopper.disk_full
    raise disk_full_error(path, output, _experiment_folder(experiment), free=stopper.disk_free)


def _algorithm_backend(plan: TunePlan, prior: Prior) -> TunePlan:
    """NNI's own tuner class, or the stand-in where it cannot run (``--algorithm-backend
    auto``): its class does not import here, or the run is warm-started (``--resume``,
    ``--from-nni``), which nni2ray teaches only its stand-ins.

    Raises:
        UnsupportedError: ``--algorithm-backend nni`` with a warm start.
        AlgorithmError: ``--algorithm-backend nni`` and NNI's class does not import.
    """
    from nni2ray.errors import UnsupportedError
    from nni2ray.runtime._user_algorithms import NniImportError, import_nni_class
    from nni2ray.translate import native_plan, searcher_words

    kwargs = plan.searcher.kwargs
    if not kwargs.get("nni_builtin"):
        return plan
    auto = kwargs.get("backend") == "auto"
    name = plan.searcher.nni_name
    reason = None
    if prior.records or prior.replay:
        reason = "a warm-started run (--resume, --from-nni) teaches only nni2ray's stand-in"
        if not auto:
            raise UnsupportedError(
                f"--algorithm-backend nni: NNI's {name} class cannot learn the trials of a "
                "resumed or imported run under nni2ray",
                field="--algorithm-backend",
                hint="use --algorithm-backend auto or native with --resume/--from-nni",
            )
    else:
        try:
            import_nni_class(str(kwargs["class_name"]))
        except NniImportError as exc:
            if not auto:
                raise
            reason = str(exc)
    if reason is None:
        return plan
    native = native_plan(plan)
    print(
        f"nni2ray: warning: NNI's own {name} class is not used: {reason}; nni2ray's stand-in "
        f"runs instead ({searcher_words(native.searcher)})",
        file=sys.stderr,
    )
    return native


def _reuse_actors(experiment: Experiment, options: RunOptions) -> bool:
    """Reuse trial actors only where they keep a warm-start template: a trial started cold
    in a reused actor was seen ended (SIGTERM) at its start when its predecessor had just
    finished there, so cold commands (shell lines, other interpreters) get a fresh actor."""
    from nni2ray.trials import parse_command

    if not options.warm_start:
        return False
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    command = parse_command(experiment.trial.command, path, experiment.trial.code_directory)
    return command is not None


def _warm_started(searcher: Any, prior: Prior) -> Any:
    """Tell the searcher what already ran: finished points are learned from and not run
    again, interrupted ones are run first, and numbering goes on after the highest."""
    from nni2ray.runtime.searchers import NniSearch, PbtSearch

    if isinstance(searcher, PbtSearch) and prior.records:  # NNI's PBT: import_data
        searcher.warm_start(
            [(r.parameters, r.final_scalar) for r in prior.records], prior.next_sequence
        )
        return searcher
    if not isinstance(searcher, NniSearch) or not (prior.records or prior.replay):
        return searcher
    searcher.add_known_points((r.parameters, r.final_scalar) for r in prior.records)
    searcher.add_replay_points(prior.replay)
    searcher.start_sequence_at(prior.next_sequence, suggested_before=prior.next_sequence)
    return searcher
