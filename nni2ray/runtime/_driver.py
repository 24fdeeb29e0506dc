"""Run an NNI experiment on Ray Tune: start Ray, run the trials, keep every record."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from nni2ray.errors import OutputError, ResourceError
from nni2ray.experiment import Experiment, display_path
from nni2ray.results import (
    Prior,
    RunStatus,
    TrialRecord,
    default_output,
    latest_output,
    load_prior,
    new_experiment_id,
    prepare_output,
    probe_output,
    rank,
    write_exports,
    write_json,
)
from nni2ray.translate import TunePlan, describe
from nni2ray.trials import TrialContext, end_leftover_trials

# Read by Tune at run time (not at import): results may lack the metric (heartbeats, trials
# that never report), and nni2ray handles Ctrl-C itself so every trial is ended cleanly.
_TUNE_ENV = {
    "TUNE_DISABLE_STRICT_METRIC_CHECKING": "1",
    "TUNE_DISABLE_SIGINT_HANDLER": "1",
    "RAY_CHDIR_TO_TRIAL_DIR": "0",
    "RAY_AIR_NEW_OUTPUT": "0",
    # nni2ray resumes from its own per-trial records, not from Tune's experiment snapshot,
    # whose cost grows with the number of trials: take it once a minute, not every ~10 s.
    "TUNE_GLOBAL_CHECKPOINT_S": "60",
    # Tune's CSV/JSON/TensorBoard loggers come from runtime._loggers instead: without
    # heartbeats, and without importing tensorboardX (and so torch) before the first trial.
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


@dataclass
class RunSummary:
    """What a run produced."""

    output: Path
    experiment_id: str
    records: list[TrialRecord] = field(default_factory=list)
    best: list[TrialRecord] = field(default_factory=list)
    interrupted: bool = False
    elapsed_s: float = 0.0


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
    output, prior = _prepare(plan, options)
    if experiment.use_annotation:
        from nni2ray.experiment import write_annotated_copy

        # NNI 2.x runs annotated trial code from an expanded copy; the original is untouched.
        code = write_annotated_copy(experiment, output / "annotated-code")
        experiment = replace(experiment, trial=replace(experiment.trial, code_directory=code))
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
    with _environment(env):
        import ray

        started_ray = _start_ray(experiment, plan, options)
        try:
            _check_resources(experiment, plan)
            return _fit(experiment, plan, options, output, prior)
        finally:
            if started_ray:
                ray.shutdown()


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


def _prepare(plan: TunePlan, options: RunOptions) -> tuple[Path, Prior]:
    """The output folder and what earlier runs (or NNI) left in it; before Ray starts."""
    if options.resume:
        output = (options.output or latest_output(plan.name)).expanduser().resolve()
        if not output.is_dir():
            raise OutputError(
                "no run to resume here", file=output, hint="pass an earlier run's --output"
            )
        probe_output(output)
        # A driver killed with SIGKILL leaves its trials' processes running: end them
        # before their folders are read and moved.
        end_leftover_trials(output)
        prior = load_prior(output)
        _say(options, _resume_line(output, prior))
        return output, prior
    history = None
    if options.from_nni is not None:
        from nni2ray.results import load_history

        history = load_history(options.from_nni)  # read and checked before any write
    output = prepare_output(options.output or default_output(plan.name))
    if history is None:
        return output, Prior()
    from nni2ray.results import prior_from_nni

    prior = prior_from_nni(history, output)
    _say(
        options,
        f"nni2ray: imported {len(prior.records)} finished NNI trial(s) from {history.database}"
        + (f"; {len(prior.replay)} unfinished will run again" if prior.replay else ""),
    )
    return output, prior


def _resume_line(output: Path, prior: Prior) -> str:
    text = f"nni2ray: resuming {output}: {len(prior.records)} finished trial(s) kept"
    if prior.replay:
        text += f", {len(prior.replay)} interrupted trial(s) run again"
    return text


def _say(options: RunOptions, line: str) -> None:
    if not options.quiet:
        print(line, file=options.stream or sys.stdout, flush=True)


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
        ray.init(address=options.address, runtime_env=runtime_env, **common)
    else:
        wanted = int(min(plan.max_concurrent_trials * plan.cpus_per_trial, _MAX_LOCAL_CPUS))
        cpus = max(os.cpu_count() or 1, wanted)
        ray.init(num_cpus=cpus, **common)
    return True


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
    experiment: Experiment, plan: TunePlan, options: RunOptions, output: Path, prior: Prior
) -> RunSummary:
    from ray import tune

    from nni2ray.runtime._callbacks import Recorder, RunStopper
    from nni2ray.runtime._loggers import TuneResultLoggers
    from nni2ray.runtime._trainable import NniTrial
    from nni2ray.runtime._user_algorithms import ERROR_FILE, close_algorithms
    from nni2ray.runtime.schedulers import build_scheduler
    from nni2ray.runtime.searchers import build_searcher

    experiment_id = prior.experiment_id or new_experiment_id()
    context = _context(experiment, plan, options, output, experiment_id)
    stopper = RunStopper(plan.time_budget_s, options.stop_event)
    recorder = Recorder(context, stopper, plan.mode, quiet=options.quiet, stream=options.stream)
    recorder.records.update((r.trial_id, r) for r in prior.records)
    trainable = tune.with_resources(
        tune.with_parameters(NniTrial, context=context),
        {"cpu": plan.cpus_per_trial, "gpu": plan.gpus_per_trial or 0},
    )
    searcher = _warm_started(build_searcher(plan, experiment), prior)
    scheduler = build_scheduler(plan)
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
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=prior.tune_name,
            storage_path=str(output),
            stop=stopper,
            callbacks=[recorder, TuneResultLoggers()],
            verbose=0,
            # A trial whose worker died (node lost, OOM kill) starts again from scratch.
            failure_config=tune.FailureConfig(max_failures=options.max_retries),
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
    start = time.monotonic()
    with _sigint_to(stopper):
        tuner.fit()
    recorder.finish_open()
    records = list(recorder.records.values())
    write_exports(output, records)
    meta.update(
        endTime=time.time(),
        status=RunStatus.INTERRUPTED if stopper.interrupted else RunStatus.DONE,
        nextSequence=max([r.sequence for r in records] + [prior.next_sequence - 1]) + 1,
    )
    failure = close_algorithms(output, meta, searcher, scheduler)  # custom tuner/assessor
    write_json(output / "experiment.json", meta)
    if failure is not None:
        raise failure.error(output / ERROR_FILE)
    return RunSummary(
        output,
        experiment_id,
        records,
        rank(records, plan.mode),
        stopper.interrupted,
        time.monotonic() - start,
    )


def _warm_started(searcher: Any, prior: Prior) -> Any:
    """Tell the searcher what already ran: finished points are learned from and not run
    again, interrupted ones are run first, and numbering goes on after the highest."""
    from nni2ray.runtime.searchers import NniSearch

    if not isinstance(searcher, NniSearch) or not (prior.records or prior.replay):
        return searcher
    searcher.add_known_points((r.parameters, r.final_scalar) for r in prior.records)
    searcher.add_replay_points(prior.replay)
    searcher.start_sequence_at(prior.next_sequence, suggested_before=prior.next_sequence)
    return searcher


class _sigint_to:
    """While active, the first Ctrl-C asks the run to stop cleanly; a second one aborts."""

    def __init__(self, stopper: Any) -> None:
        self._stopper = stopper
        self._previous: Any = None

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._stopper.interrupted:
            raise KeyboardInterrupt
        self._stopper.interrupted = True
        print(
            "nni2ray: stopping: ending every running trial (Ctrl-C again to abort)", file=sys.stderr
        )
