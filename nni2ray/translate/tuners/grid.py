"""NNI's GridSearch tuner: NNI 3.0's grid order, exact (``translate/nni_grid.py``).

Finite spaces end when every point ran; continuous parameters follow NNI's refined grid,
which never ends, so the run ends at maxTrialNumber or maxExperimentDuration, as in NNI.
"""

from __future__ import annotations

from nni2ray.experiment import AlgorithmSpec, Experiment
from nni2ray.translate.plan import SearcherCall, SearcherKind
from nni2ray.translate.tuners._common import TunerMapping


def grid_tuner(spec: AlgorithmSpec, exp: Experiment) -> TunerMapping:
    return TunerMapping(SearcherCall(SearcherKind.GRID, spec.name or "GridSearch", {}, exact=True))
