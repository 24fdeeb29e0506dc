"""The model-based tuners: Optuna's samplers (through Ray Tune's OptunaSearch), Evolution.

* TPE (and TPE_legacy, SMAC): Optuna's ``TPESampler`` with ``constant_liar``, NNI's
  ``tpe_args`` mapped where Optuna has the same knob.
* GP, Metis, DNGO: Optuna's ``GPSampler`` (a Gaussian process with expected improvement).
* Evolution: NNI's own evolution rule, reimplemented by nni2ray (``population_size``); a
  converted project, without nni2ray, uses Optuna's ``NSGAIISampler`` instead.
"""

from __future__ import annotations

from typing import Any

from nni2ray.experiment import AlgorithmSpec, Experiment
from nni2ray.notes import Severity
from nni2ray.translate.plan import SearcherCall, SearcherKind
from nni2ray.translate.tuners._common import TunerBuilder, TunerMapping, seed_arg, tuner_note

#: NNI TpeTuner's defaults (nni/algorithms/hpo/tpe_tuner.py) where Optuna's differ.
NNI_TPE_STARTUP = 20
#: NNI ``tpe_args`` with an Optuna counterpart (gamma: Optuna deprecated its callable in 4.9;
#: its own split is used; constant_liar_type: Optuna's liar is always the worst value).
_TPE_ARGS = {"n_startup_jobs", "n_ei_candidates", "prior_weight"}
#: NNI's GP/Metis ``cold_start_num`` default: random points before the model is used.
NNI_COLD_START = 10
#: NNI's Evolution ``population_size`` default.
NNI_POPULATION = 32

#: classArgs nni2ray reads (besides optimize_mode and seed); the rest are named in the note.
_USED = {
    SearcherKind.TPE: {"tpe_args"},
    SearcherKind.GP: {"cold_start_num"},
    SearcherKind.EVOLUTION: {"population_size"},
}
_WHAT = {
    SearcherKind.TPE: "Optuna's TPESampler with a constant liar for pending trials "
    "(Ray Tune's OptunaSearch)",
    SearcherKind.GP: "Optuna's GPSampler (Gaussian process, expected improvement; "
    "Ray Tune's OptunaSearch)",
    SearcherKind.EVOLUTION: "NNI's evolution rule reimplemented (tournament of two, one "
    "parameter mutated; `nni2ray convert`: Optuna's NSGAIISampler)",
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _tpe_kwargs(spec: AlgorithmSpec) -> dict[str, Any]:
    tpe_args = spec.class_args.get("tpe_args")
    args = tpe_args if isinstance(tpe_args, dict) else {}
    kwargs: dict[str, Any] = {
        "n_startup_trials": _positive_int(args.get("n_startup_jobs")) or NNI_TPE_STARTUP,
    }
    if _positive_int(args.get("n_ei_candidates")):
        kwargs["n_ei_candidates"] = args["n_ei_candidates"]
    if _number(args.get("prior_weight")) is not None:
        kwargs["prior_weight"] = _number(args["prior_weight"])
    return kwargs


def optuna_tuner(kind: SearcherKind, substitute: bool = False) -> TunerBuilder:
    """The builder for one Optuna sampler; ``substitute`` when it stands in for an NNI
    algorithm of another family (SMAC's random forest, DNGO's Bayesian network)."""

    def build(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
        kwargs: dict[str, Any] = {"seed": seed_arg(spec)}
        if kind == SearcherKind.TPE:
            kwargs.update(_tpe_kwargs(spec))
        elif kind == SearcherKind.GP:
            cold = _positive_int(spec.class_args.get("cold_start_num"))
            kwargs["n_startup_trials"] = cold or NNI_COLD_START
        else:
            size = _positive_int(spec.class_args.get("population_size"))
            kwargs["population_size"] = max(2, size or NNI_POPULATION)
        name = spec.name or "TPE"
        verb = "has no Ray Tune equivalent; nni2ray uses" if substitute else "runs as"
        text = f"{name} {verb} {_WHAT[kind]}"
        dropped = sorted(set(spec.class_args) - {"optimize_mode", "seed"} - _USED[kind])
        tpe_args = spec.class_args.get("tpe_args")
        if kind == SearcherKind.TPE and isinstance(tpe_args, dict):
            dropped += [f"tpe_args.{key}" for key in sorted(set(tpe_args) - _TPE_ARGS)]
        if dropped:
            text += f"; classArgs not used: {', '.join(dropped)}"
        note = tuner_note(spec, exp, Severity.APPROXIMATED, text)
        return TunerMapping(SearcherCall(kind, name, kwargs), (note,))

    return build
