"""NNI's Anneal on hyperopt's anneal algorithm (the library NNI's own Anneal tuner wraps).

TPE and the other model-based tuners run on Optuna (:mod:`.optuna`)."""

from __future__ import annotations

from typing import Any

from nni2ray.experiment import AlgorithmSpec, Experiment
from nni2ray.notes import Severity
from nni2ray.translate.plan import SearcherCall, SearcherKind
from nni2ray.translate.tuners._common import TunerBuilder, TunerMapping, seed_arg, tuner_note


def hyperopt_tuner(algo: str, substitute: bool = False) -> TunerBuilder:
    """The builder for hyperopt's ``algo`` (``tpe`` or ``anneal``); ``substitute`` when
    hyperopt's TPE stands in for another algorithm."""

    def build(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
        kwargs: dict[str, Any] = {"algo": algo, "random_state_seed": seed_arg(spec)}
        tpe_args = spec.class_args.get("tpe_args") or {}
        if isinstance(tpe_args, dict):
            if isinstance(tpe_args.get("n_startup_jobs"), int):
                kwargs["n_initial_points"] = tpe_args["n_startup_jobs"]
            if isinstance(tpe_args.get("gamma"), (int, float)):
                kwargs["gamma"] = float(tpe_args["gamma"])
        name = spec.name or "TPE"
        if substitute:
            text = (
                f"{name} has no Ray Tune equivalent; nni2ray uses HyperOptSearch "
                "(hyperopt's TPE, a model-based search) instead"
            )
        elif algo == "anneal":
            text = (
                f"{name} runs hyperopt's anneal algorithm fed as NNI's tuner feeds it (finished "
                "trials only; a repeated proposal replaced by a random one): NNI's proposals "
                "for uniform, loguniform and choice parameters; randint and quantized ones are "
                "annealed over their ordered range (NNI's tuner hands hyperopt randint as an "
                "unordered draw, and NNI 3.0's raises on quantized values and stops learning)"
            )
        else:
            text = (
                f"{name} runs as Ray Tune's HyperOptSearch ({algo}); it models the same "
                "search space but has no constant liar or linear forgetting"
            )
        note = tuner_note(spec, exp, Severity.APPROXIMATED, text)
        return TunerMapping(SearcherCall(SearcherKind.HYPEROPT, name, kwargs), (note,))

    return build
