"""NNI's Anneal on hyperopt's anneal algorithm (the library NNI's own Anneal tuner wraps).

TPE and the other model-based tuners run on Optuna (:mod:`.optuna`)."""

from __future__ import annotations

from typing import Any

from nni2ray.experiment import AlgorithmSpec, Experiment
from nni2ray.notes import Severity
from nni2ray.translate.plan import SearcherCall, SearcherKind
from nni2ray.translate.tuners._common import TunerBuilder, TunerMapping, seed_arg, tuner_note


def hyperopt_tuner(algo: str) -> TunerBuilder:
    """The builder for NNI's tuner on hyperopt's ``algo`` (``anneal``: NNI's Anneal)."""

    def build(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
        kwargs: dict[str, Any] = {"algo": algo, "random_state_seed": seed_arg(spec)}
        name = spec.name or "Anneal"
        text = (
            f"{name} runs hyperopt's {algo} algorithm fed as NNI's tuner feeds it (finished "
            "trials only; a repeated proposal replaced by a random one): NNI's proposals "
            "for uniform, loguniform and choice parameters; randint and quantized ones are "
            "annealed over their ordered range (NNI's tuner hands hyperopt randint as an "
            "unordered draw, and NNI 3.0's raises on quantized values and stops learning)"
        )
        note = tuner_note(spec, exp, Severity.APPROXIMATED, text)
        return TunerMapping(SearcherCall(SearcherKind.HYPEROPT, name, kwargs), (note,))

    return build
