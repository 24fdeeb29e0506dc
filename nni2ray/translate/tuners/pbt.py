"""NNI's PBT tuner: random search with early stopping, each trial with its checkpoint folders."""

from __future__ import annotations

from nni2ray.experiment import AlgorithmSpec, Experiment
from nni2ray.notes import Severity
from nni2ray.translate.plan import SearcherCall, SearcherKind
from nni2ray.translate.tuners._common import TunerMapping, seed_arg, tuner_note


def pbt_tuner(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    text = (
        "PBT has no subprocess-friendly Ray Tune equivalent; nni2ray runs random search "
        "with early stopping and gives each trial its own load/save_checkpoint_dir"
    )
    call = SearcherCall(SearcherKind.RANDOM, spec.name or "PBT", {"seed": seed_arg(spec)})
    return TunerMapping(
        call,
        (tuner_note(spec, exp, Severity.APPROXIMATED, text),),
        checkpoint_dirs=True,
    )
