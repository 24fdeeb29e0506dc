"""The text of ``tune_experiment.py``, with ``$placeholders`` that :mod:`._driver` fills in."""

from __future__ import annotations

from string import Template

LAUNCHER = Template('''"""Run the NNI experiment "$name" on Ray Tune.

Written by nni2ray from $config_file. The trial code next to this file was converted from
NNI's trial API to Ray Tune's (see MIGRATION.md); this script replaces `nnictl create`.
It needs only Ray (and the trial's own dependencies):

    python tune_experiment.py                    # the experiment as configured
    python tune_experiment.py --num-samples 2    # a quick smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
import threading
from pathlib import Path

from ray import tune
$imports
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for nni_search_space and the trial's own modules

import nni_search_space  # noqa: E402

# --- The trial
# NNI ran `$command` in a shell in the trial code directory.
$trial_comment
TRIAL_ARGV = $argv
TRIAL_CWD = $cwd  # relative to this folder (`cd DIR` in the command)
TRIAL_ENV = $env  # exported before Python starts; `$$VAR` expands when a trial starts
TRIAL_PREFIX_ENV = $prefix_env  # `VAR=value` words in front of the Python command
TRIAL_FLAGS = $flags  # interpreter flags reproduced in-process
TRIAL_SHELL = $shell  # set: the command runs as a subprocess trial (`bash -c`)
TRIAL_TIMEOUT_S = $timeout  # maxTrialDuration: a subprocess trial is killed after it
# The converted `nni.get_next_parameter()` reads the trial's parameters (JSON) from this
# variable, and falls back to {} (NNI's standalone behaviour) when it is not set.
PARAMS_VARIABLE = "TUNE_TRIAL_PARAMS"

# --- Search space
# The NNI search space, unchanged. nni_search_space.py (copied from nni2ray, standard
# library only) maps Tune samples back to NNI values with NNI's own formulas: q-rounding
# and clipping, lognormal, nested choices.
SEARCH_SPACE = json.loads(
    r"""
$search_space
"""
)
# Added to every trial's parameters, as NNI's $extra_origin did.
EXTRA_PARAMETERS = $extra_parameters
# NNI's PBT tuner gives each trial `load_checkpoint_dir` and `save_checkpoint_dir`.
CHECKPOINT_DIRS = $checkpoint_dirs


$param_space


def run_trial(config: dict) -> None:
    """One Tune trial: decode the config into NNI parameters and run the converted trial."""
    sys.path.insert(0, str(HERE))
    import nni_search_space

    if "nni_params" in config:  # grid / batch: the config holds the NNI values themselves
        params = dict(config["nni_params"])
    else:
        params = nni_search_space.decode(SEARCH_SPACE, config)
    params.update(EXTRA_PARAMETERS)
    if CHECKPOINT_DIRS:  # NNI's PBT: one folder per trial to load from and save to
        folder = os.path.join(os.getcwd(), "checkpoint")  # Tune's per-trial directory
        os.makedirs(folder, exist_ok=True)
        params["load_checkpoint_dir"] = params["save_checkpoint_dir"] = folder
    os.environ[PARAMS_VARIABLE] = json.dumps(params)
    os.environ.setdefault("NNI_OUTPUT_DIR", os.getcwd())  # Tune's per-trial directory
    trial_environment(os.environ)
    if TRIAL_SHELL:
        run_shell_trial()
        return
    for name, value in TRIAL_ENV.items():  # as the shell does: expanded, then exported
        os.environ[name] = os.path.expandvars(value)
    argv = [os.path.expandvars(word) for word in TRIAL_ARGV]
    for name, value in TRIAL_PREFIX_ENV.items():
        os.environ[name] = os.path.expandvars(value)
    workdir = HERE / TRIAL_CWD
    os.chdir(workdir)
    apply_flags(TRIAL_FLAGS)
    try:
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            sys.path[0] = str(workdir)
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = argv
            sys.path[0] = str((workdir / argv[0]).parent)
            runpy.run_path(str(workdir / argv[0]), run_name="__main__")
    except SystemExit as ended:
        # NNI marks a trial FAILED when its process exits non-zero; so does this.
        if ended.code not in (None, 0):
            raise RuntimeError(f"the trial script exited with status {ended.code}") from ended


def apply_flags(flags: list) -> None:
    """What `python -u` and `python -W ARG` change, for the in-process run."""
    import warnings

    for index, flag in enumerate(flags):
        if flag == "-u":
            os.environ["PYTHONUNBUFFERED"] = "1"
            sys.stdout.reconfigure(line_buffering=True)
            sys.stderr.reconfigure(line_buffering=True)
        elif flag == "-W":
            sys.warnoptions.append(flags[index + 1])
            warnings._processoptions([flags[index + 1]])  # what -W does at startup


def trial_environment(environ) -> None:
    """The trial's GPUs: Tune's assignment, or none at all when the trial asks for none."""
$gpu_environment


def run_shell_trial() -> None:
    """Run TRIAL_SHELL in the code directory; forward each `tune.report` of its Python code."""
    import subprocess

    read_end, write_end = os.pipe()
    env = dict(os.environ, TUNE_BRIDGE_FD=str(write_end))
    bridge = str(HERE / "tune_trial_bridge")  # its sitecustomize.py patches tune.report
    env["PYTHONPATH"] = os.pathsep.join(p for p in (bridge, env.get("PYTHONPATH")) if p)
    process = subprocess.Popen(
        ["bash", "-c", TRIAL_SHELL], cwd=HERE, env=env, pass_fds=(write_end,),
        preexec_fn=_die_with_launcher,
    )
    os.close(write_end)
    timed_out = threading.Event()
    timer = threading.Timer(TRIAL_TIMEOUT_S or 0, lambda: timed_out.set() or process.kill())
    if TRIAL_TIMEOUT_S:
        timer.start()
    try:
        with os.fdopen(read_end, encoding="utf-8") as reports:
            for line in reports:
                tune.report(json.loads(line))
        code = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    if timed_out.is_set():  # NNI ends such a trial with what it reported
        print(f"the trial ran past maxTrialDuration ({TRIAL_TIMEOUT_S} s)", file=sys.stderr)
    elif code != 0:
        raise RuntimeError(f"the trial command exited with status {code}")


def _die_with_launcher() -> None:
    """Linux: the subprocess trial is killed when the Tune trial's process goes away."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


# --- Searcher (NNI tuner: $tuner)
def make_searcher(max_concurrent: int):
$searcher


# --- Scheduler (NNI assessor: $assessor)
def make_scheduler():
$scheduler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=$num_samples,
                        help="trials to run (NNI maxTrialNumber; -1: until the time budget)")
    parser.add_argument("--max-concurrent", type=int, default=$concurrency,
                        help="trials running at once (NNI trialConcurrency)")
    parser.add_argument("--time-budget-s", type=float, default=$time_budget,
                        help="stop the experiment after this many seconds (maxExperimentDuration)")
    parser.add_argument("--storage-path", default=None, help="where Tune writes results")
    args = parser.parse_args(argv)
    # A result without "default" (a dict reported without that key: NNI ignores it when no
    # assessor reads it) must not abort the whole run.
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
$gpu_setup    param_space, num_samples = make_param_space(args.num_samples)
    tuner = tune.Tuner(
        tune.with_resources(run_trial, $resources),
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric="default",  # NNI's metric: the number reported, or its "default" key
            mode="$mode",
            search_alg=make_searcher(args.max_concurrent),
            scheduler=make_scheduler(),
            num_samples=num_samples,
            max_concurrent_trials=args.max_concurrent,
            time_budget_s=args.time_budget_s,
        ),
        run_config=tune.RunConfig(
            name="$name",
            storage_path=args.storage_path,
            stop=$stop,
        ),
    )
    results = tuner.fit()
    print(f"Finished {len(results)} trials ({results.num_errors} errored)")
    if results.num_errors < len(results):
        best = results.get_best_result()
        params = best.config.get("nni_params") or nni_search_space.decode(SEARCH_SPACE, best.config)
        print("Best parameters:", json.dumps(params, default=str))
        print("Best result:", best.metrics.get("default"))
    return 1 if results.num_errors else 0


if __name__ == "__main__":
    sys.exit(main())
''')
