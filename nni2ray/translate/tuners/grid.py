"""NNI's GridSearch tuner: every point of a finite space, in NNI's order (exact)."""

from __future__ import annotations

from nni2ray.errors import UnsupportedError
from nni2ray.experiment import AlgorithmSpec, Experiment, display_path, nni_space
from nni2ray.translate.plan import SearcherCall, SearcherKind
from nni2ray.translate.tuners._common import TunerMapping


def grid_tuner(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    if exp.raw_search_space is not None and not nni_space.is_finite(exp.raw_search_space):
        raise UnsupportedError(
            "GridSearch over continuous parameters refines its grid forever in NNI; "
            "nni2ray only enumerates finite spaces",
            file=display_path(exp.config_file),
            field=f"{spec.role}.name",
            hint="make every parameter choice, randint or a q-type with finite bounds, "
            "or use the Random or TPE tuner",
        )
    return TunerMapping(SearcherCall(SearcherKind.GRID, spec.name or "GridSearch", {}, exact=True))
