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
from pathlib import Path

from ray import tune
$imports
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for nni_search_space and the trial's own modules

import nni_search_space  # noqa: E402

# --- The trial
# NNI ran `$command` in the trial code directory. Each Tune trial runs the converted
# script in-process the same way: same working directory, same sys.argv, same variables.
TRIAL_ARGV = $argv
TRIAL_ENV = $env
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


$param_space


def run_trial(config: dict) -> None:
    """One Tune trial: decode the config into NNI parameters and run the converted script."""
    sys.path.insert(0, str(HERE))
    import nni_search_space

    if "nni_params" in config:  # grid / batch: the config holds the NNI values themselves
        params = dict(config["nni_params"])
    else:
        params = nni_search_space.decode(SEARCH_SPACE, config)
    params.update(EXTRA_PARAMETERS)
    os.environ.update(TRIAL_ENV)
    os.environ[PARAMS_VARIABLE] = json.dumps(params)
    os.environ.setdefault("NNI_OUTPUT_DIR", os.getcwd())  # Tune's per-trial directory
    os.chdir(HERE)
    sys.argv = list(TRIAL_ARGV)
    try:
        if TRIAL_ARGV[0] == "-m":
            sys.argv = [TRIAL_ARGV[1], *TRIAL_ARGV[2:]]
            runpy.run_module(TRIAL_ARGV[1], run_name="__main__", alter_sys=True)
        else:
            sys.path[0] = str((HERE / TRIAL_ARGV[0]).parent)
            runpy.run_path(str(HERE / TRIAL_ARGV[0]), run_name="__main__")
    except SystemExit as ended:
        # NNI marks a trial FAILED when its process exits non-zero; so does this.
        if ended.code not in (None, 0):
            raise RuntimeError(f"the trial script exited with status {ended.code}") from ended


# --- Searcher (NNI tuner: $tuner)
def make_searcher():
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
    if not TRIAL_ARGV:
        print("tune_experiment.py: error: $refusal", file=sys.stderr)
        return 2
    param_space, num_samples = make_param_space(args.num_samples)
    tuner = tune.Tuner(
        tune.with_resources(run_trial, $resources),
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric="default",  # NNI's metric: the number reported, or its "default" key
            mode="$mode",
            search_alg=make_searcher(),
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
