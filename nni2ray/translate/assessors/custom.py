"""A user's own NNI Assessor class (``className`` + ``codeDirectory``): it runs unchanged."""

from __future__ import annotations

from nni2ray.experiment import AlgorithmSpec
from nni2ray.translate.plan import SchedulerCall, SchedulerKind


def custom_assessor(spec: AlgorithmSpec) -> SchedulerCall:
    kwargs = {
        "class_name": spec.class_name,
        "code_directory": str(spec.code_directory) if spec.code_directory else None,
        "class_args": dict(spec.class_args),
    }
    return SchedulerCall(SchedulerKind.CUSTOM, spec.class_name, kwargs, exact=True)
