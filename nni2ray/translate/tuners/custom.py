"""A user's own NNI Tuner class (``className`` + ``codeDirectory``): it runs unchanged."""

from __future__ import annotations

from nni2ray.experiment import AlgorithmSpec, Experiment
from nni2ray.translate.plan import SearcherCall, SearcherKind
from nni2ray.translate.tuners._common import TunerMapping


def custom_tuner(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    kwargs = {
        "class_name": spec.class_name,
        "code_directory": str(spec.code_directory) if spec.code_directory else None,
        "class_args": dict(spec.class_args),
        "role": spec.role,
        "include_intermediate_results": spec.include_intermediate_results,
    }
    call = SearcherCall(SearcherKind.CUSTOM, spec.class_name or "", kwargs, exact=True)
    return TunerMapping(call)
