"""NNI's Batch tuner: the parameter dicts of its one ``choice``, each once, in order (exact)."""

from __future__ import annotations

from nni2ray.errors import UnsupportedError
from nni2ray.experiment import AlgorithmSpec, Experiment, display_path
from nni2ray.translate.plan import SearcherCall, SearcherKind
from nni2ray.translate.tuners._common import TunerMapping


def batch_tuner(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    space = exp.raw_search_space
    ok = isinstance(space, dict) and len(space) == 1
    entry = next(iter(space.values())) if ok else None
    if not (isinstance(entry, dict) and entry.get("_type") == "choice"):
        raise UnsupportedError(
            "the Batch tuner needs exactly one search-space key of type choice whose "
            "options are complete parameter dicts",
            file=display_path(exp.search_space_file or exp.config_file),
            field="searchSpace",
            hint='write {"combine_params": {"_type": "choice", "_value": [{...}, ...]}}',
        )
    return TunerMapping(SearcherCall(SearcherKind.BATCH, spec.name or "Batch", {}, exact=True))
