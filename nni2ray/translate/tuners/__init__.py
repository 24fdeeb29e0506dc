"""TUNERS: each NNI tuner or advisor mapped to what stands in for it on Ray Tune.

One module per family; this registry is keyed by NNI's canonical name (experiment's table
of built-in algorithms resolves case and aliases). A name NNI accepts that is missing here
is refused by :func:`tuner_to_searcher` with the supported names.
"""

from __future__ import annotations

from nni2ray.errors import UnsupportedError
from nni2ray.experiment import AlgorithmSpec, Experiment, display_path, lookup_algorithm
from nni2ray.translate.plan import SearcherKind
from nni2ray.translate.tuners._common import TunerBuilder, TunerMapping
from nni2ray.translate.tuners.batch import batch_tuner
from nni2ray.translate.tuners.brackets import (
    BUDGET_KEY,
    advisor_without_nni2ray,
    bohb_advisor,
    bracket_rounds,
    hyperband_advisor,
    s_max_of,
    schedule,
)
from nni2ray.translate.tuners.custom import DISPATCHER_HINT, custom_tuner, dispatcher_message
from nni2ray.translate.tuners.grid import grid_tuner
from nni2ray.translate.tuners.hyperopt import hyperopt_tuner
from nni2ray.translate.tuners.nni_classes import (
    BACKENDS,
    NNI_TUNER_CLASSES,
    choose_backend,
    native_plan,
)
from nni2ray.translate.tuners.optuna import optuna_tuner
from nni2ray.translate.tuners.packages import runs_as, searcher_words
from nni2ray.translate.tuners.pbt import pbt_tuner, pbt_without_nni2ray
from nni2ray.translate.tuners.random import random_tuner

__all__ = [
    "BACKENDS",
    "DISPATCHER_HINT",
    "dispatcher_message",
    "BUDGET_KEY",
    "NNI_TUNER_CLASSES",
    "choose_backend",
    "native_plan",
    "TUNERS",
    "UNSUPPORTED_TUNERS",
    "TunerBuilder",
    "TunerMapping",
    "advisor_without_nni2ray",
    "pbt_without_nni2ray",
    "runs_as",
    "searcher_words",
    "bracket_rounds",
    "s_max_of",
    "schedule",
    "tuner_to_searcher",
]

#: NNI canonical tuner/advisor name -> builder.
TUNERS: dict[str, TunerBuilder] = {
    "TPE": optuna_tuner(SearcherKind.TPE),
    "TPE_legacy": optuna_tuner(SearcherKind.TPE),
    "Anneal": hyperopt_tuner("anneal"),
    "Random": random_tuner,
    "GridSearch": grid_tuner,
    "Batch": batch_tuner,
    "Evolution": optuna_tuner(SearcherKind.EVOLUTION),
    "SMAC": optuna_tuner(SearcherKind.TPE, substitute=True),
    "Metis": optuna_tuner(SearcherKind.GP, substitute=True),
    "GP": optuna_tuner(SearcherKind.GP),
    "DNGO": optuna_tuner(SearcherKind.GP, substitute=True),
    "PBT": pbt_tuner,
    "Hyperband": hyperband_advisor,
    "BOHB": bohb_advisor,
}

#: NNI tuners nni2ray refuses, with the reason (NAS and reinforcement-learning tuners).
UNSUPPORTED_TUNERS: dict[str, str] = {
    "PPO": "PPO is a neural-architecture-search tuner (NNI's NAS mutators, not a search space)",
    "NetworkMorphism": "NetworkMorphism generates network architectures, not parameters",
    "RegularizedEvolutionTuner": "RegularizedEvolutionTuner is a neural-architecture-search "
    "tuner (NNI's NAS mutators, not a search space)",
}


def tuner_to_searcher(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    """Map the experiment's tuner (or advisor) to a Tune searcher.

    Raises:
        UnsupportedError: for tuners with no Ray Tune stand-in (NAS tuners) and invalid
            Hyperband/BOHB classArgs. Custom tuners map to ``SearcherKind.CUSTOM``: the
            user's class runs in the driver.
    """
    if spec.is_custom:
        return custom_tuner(spec, exp)
    entry = lookup_algorithm(spec.name or "")
    builder = TUNERS.get(entry.name) if entry else None
    if builder is None:
        reason = UNSUPPORTED_TUNERS.get(entry.name, "") if entry else ""
        raise UnsupportedError(
            f"{spec.name!r} has no Ray Tune equivalent" + (f": {reason}" if reason else ""),
            file=display_path(exp.config_file),
            field=f"{spec.role}.name",
            hint=f"supported: {', '.join(sorted(TUNERS, key=str.lower))}",
        )
    return builder(spec, exp)
