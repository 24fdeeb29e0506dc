"""NNI's Random tuner: exact (NNI's sampling formulas, seeded by ``classArgs.seed``)."""

from __future__ import annotations

from nni2ray.experiment import AlgorithmSpec, Experiment
from nni2ray.translate.plan import SearcherCall, SearcherKind
from nni2ray.translate.tuners._common import TunerMapping, seed_arg


def random_tuner(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    call = SearcherCall(SearcherKind.RANDOM, spec.name or "Random", {"seed": seed_arg(spec)})
    return TunerMapping(SearcherCall(call.kind, call.nni_name, call.kwargs, exact=True))
