"""Where BOHB's new configurations come from, inside nni2ray's bracket schedule.

Three sources, one interface (:class:`ConfigSource`: ``propose`` a configuration for a
budget, ``observe`` a final result):

* :class:`KdeModel`, nni2ray's own BOHB model, following NNI's (and HpBandSter's) rules.
  It learns every final result as NNI 3.0's advisor does, all budgets in one model (NNI passes
  the FINAL result's sequence, always 0, as the budget); with ``per_budget`` (the BOHB
  paper's and HpBandSter's rule; measured worse, see benchmarks/search_quality_bohb.py)
  it keeps one set of finished configurations per ``TRIAL_BUDGET``. Once a set holds at least
  ``min_points_in_model`` of them (at least the number of dimensions + 1) it splits them into
  the best ``top_n_percent`` (at least ``min_points_in_model``) and the rest, and fits one
  multivariate kernel density on each (statsmodels' ``KDEMultivariate``, rule-of-thumb
  bandwidths clipped at ``min_bandwidth``). A new configuration is random with probability
  ``random_fraction`` or while no budget has a model; otherwise ``num_samples`` candidates
  are drawn around good points (bandwidths widened by ``bandwidth_factor``) and the one with
  the smallest ``bad(x) / good(x)`` is kept, using the model of the largest budget that has
  one. Results of budgets below that largest modelled budget are not kept (CG_BOHB's rule).
  Every NNI ``_type`` is modelled through nni2ray's latent space: each latent key is one
  dimension in ``[0, 1]`` (log scale for loguniform, the normal CDF for the normal types,
  the categories of a choice as an unordered variable); the model's vector decodes with
  NNI's formulas (q-rounding, clipping). A nested choice is its option index plus one
  dimension per sub-parameter of every option; the options a configuration did not choose
  carry random values, so they add noise to the model but never a wrong value to a trial.
* :class:`NniBohbModel`: NNI 3.0's own ``CG_BOHB`` config generator, fed exactly as NNI's
  BOHB advisor feeds it (NNI's search-space conversion, the loss ``-value`` when
  maximizing, and the FINAL result's ``sequence``, which NNI's trial SDK always sends as 0,
  as the budget: so NNI pools every budget into one model).
* :class:`RandomSource`: NNI's random sampling formulas (Hyperband; BOHB without its model).

A proposal says which source made it (``"model"`` or ``"random"``).
"""

from __future__ import annotations

import contextlib
import math
import random
import types
from collections.abc import Iterator
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Protocol

from nni2ray.experiment import SearchSpace, nni_space
from nni2ray.experiment.sampling import sample

#: What :attr:`Proposal.source` says.
MODEL = "model"
RANDOM = "random"


@dataclass(frozen=True)
class Proposal:
    """One new configuration: NNI parameters, the source's own token for it (passed back
    to :meth:`ConfigSource.observe`), and ``"model"`` or ``"random"``."""

    params: dict[str, Any]
    token: Any
    source: str


class ConfigSource(Protocol):
    """Proposes new configurations and learns from final results."""

    name: str

    def propose(self, budget: float) -> Proposal: ...

    def observe(self, token: Any, budget: float, loss: float) -> None: ...


@dataclass(frozen=True)
class BohbArgs:
    """NNI's BOHB classArgs that shape the model (NNI's defaults)."""

    min_points_in_model: int | None = None
    top_n_percent: int = 15
    num_samples: int = 64
    random_fraction: float = 1 / 3
    bandwidth_factor: float = 3.0
    min_bandwidth: float = 1e-3


class RandomSource:
    """NNI's random sampling formulas from nni2ray's own stream (what Hyperband uses)."""

    name = "random"

    def __init__(self, space: SearchSpace, seed: int | None = None) -> None:
        self._space = space
        self._rng = random.Random(seed)

    def propose(self, budget: float) -> Proposal:
        return Proposal(sample(self._space, self._rng), None, RANDOM)

    def observe(self, token: Any, budget: float, loss: float) -> None:
        pass


_UNIT = NormalDist()
_TINY = 1e-12


class KdeModel:
    """nni2ray's BOHB model (see the module's docstring for the rules).

    Args:
        space_json: the NNI search space (``{name: {"_type", "_value"}}``).
        args: BOHB's classArgs.
        seed: seeds every draw (numpy's Generator; the global numpy state is not touched).
        per_budget: one model per budget (the paper's rule) instead of NNI 3.0's one pool.

    Raises:
        ImportError: statsmodels (or scipy) is not installed.
    """

    name = "native"

    def __init__(
        self,
        space_json: dict[str, Any],
        args: BohbArgs = BohbArgs(),
        seed: int | None = None,
        *,
        per_budget: bool = False,
    ) -> None:
        import numpy as np
        import scipy.stats  # type: ignore[import-untyped,import-not-found,unused-ignore]

        with _quiet():
            from statsmodels.nonparametric.kernel_density import KDEMultivariate  # type: ignore[import-untyped,import-not-found,unused-ignore]

        self._np, self._truncnorm, self._kde = np, scipy.stats.truncnorm, KDEMultivariate
        self._space_json = space_json
        self._dims = list(nni_space.latent_spec(space_json).items())
        # 0: a continuous dimension in [0, 1]; n > 0: an unordered one with n categories.
        self._levels = [len(a[0]) if kind == "choice" else 0 for _, (kind, a) in self._dims]
        self._var_type = "".join("u" if n else "c" for n in self._levels)
        d = len(self._dims)
        wanted = args.min_points_in_model
        self.min_points = max(wanted if wanted is not None else 0, d + 1)
        self.args = args
        self.per_budget = per_budget
        self._rng = np.random.default_rng(seed)
        self._observed: dict[float, list[tuple[Any, float]]] = {}
        self._models: dict[float, tuple[Any, Any]] = {}

    # -- proposals -----------------------------------------------------------------------

    def propose(self, budget: float) -> Proposal:
        np = self._np
        if self._models and self._dims and self._rng.random() >= self.args.random_fraction:
            vector = self._from_model()
            if vector is not None:
                return Proposal(self._decode(vector), vector, MODEL)
        vector = np.array(
            [self._rng.integers(n) if n else self._rng.random() for n in self._levels],
            dtype=float,
        )
        return Proposal(self._decode(vector), vector, RANDOM)

    def model_budget(self) -> float | None:
        """The budget whose model proposes (the largest one with a model), or None."""
        return max(self._models) if self._models else None

    def _from_model(self) -> Any:
        np = self._np
        good, bad = self._models[max(self._models)]
        data = np.asarray(good.data)
        count = self.args.num_samples
        picks = data[self._rng.integers(len(data), size=count)]
        candidates = np.empty_like(picks)
        bandwidths = np.maximum(np.asarray(good.bw, dtype=float), self.args.min_bandwidth)
        for j, (levels, bw) in enumerate(zip(self._levels, bandwidths, strict=True)):
            centre = picks[:, j]
            if levels == 0:
                scale = bw * self.args.bandwidth_factor
                candidates[:, j] = self._truncnorm.rvs(
                    -centre / scale,
                    (1 - centre) / scale,
                    loc=centre,
                    scale=scale,
                    size=count,
                    random_state=self._rng,
                )
            else:  # keep the good point's category with probability 1 - bandwidth
                keep = self._rng.random(count) < (1 - bw)
                candidates[:, j] = np.where(keep, centre, self._rng.integers(levels, size=count))
        with np.errstate(all="ignore"), _quiet():
            g = np.asarray(bad.pdf(candidates), dtype=float).reshape(count)
            ell = np.asarray(good.pdf(candidates), dtype=float).reshape(count)
            score = np.maximum(g, 1e-32) / np.maximum(ell, 1e-32)
        finite = np.isfinite(score)
        if finite.any():
            return candidates[int(np.argmin(np.where(finite, score, np.inf)))]
        usable = np.flatnonzero(np.isfinite(ell))
        return candidates[int(usable[0])] if usable.size else None

    def _decode(self, vector: Any) -> dict[str, Any]:
        latent: dict[str, Any] = {}
        for (key, (kind, args)), u in zip(self._dims, vector, strict=True):
            latent[key] = _latent_value(kind, args, float(u))
        return nni_space.decode(self._space_json, latent)

    # -- results -------------------------------------------------------------------------

    def observe(self, token: Any, budget: float, loss: float) -> None:
        if token is None or not self._dims:
            return
        if not self.per_budget:
            budget = 0  # NNI 3.0: every budget in one model
        if self._models and max(self._models) > budget:
            return  # a larger budget already has a model (NNI's rule)
        points = self._observed.setdefault(budget, [])
        points.append((token, loss))
        self._fit(budget, points)

    def _fit(self, budget: float, points: list[tuple[Any, float]]) -> None:
        np = self._np
        n = len(points)
        if n < self.min_points:
            return
        top = self.args.top_n_percent
        n_good = max(self.min_points, top * n // 100)
        n_bad = max(self.min_points, (100 - top) * n // 100)
        order = sorted(range(n), key=lambda i: points[i][1])
        good = np.array([points[i][0] for i in order[:n_good]])
        bad = np.array([points[i][0] for i in order[n_good : n_good + n_bad]])
        d = len(self._dims)
        if len(good) <= d or len(bad) <= d:
            return
        models = []
        for rows in (good, bad):
            with np.errstate(all="ignore"), _quiet():
                kde = self._kde(data=rows, var_type=self._var_type, bw="normal_reference")
            kde.bw = np.clip(kde.bw, self.args.min_bandwidth, None)
            models.append(kde)
        self._models[budget] = (models[0], models[1])

    def good_bad(self, budget: float) -> tuple[list[Any], list[Any]] | None:
        """The good and bad points of ``budget``'s model (tests), or None without a model."""
        if budget not in self._models:
            return None
        good, bad = self._models[budget]
        return [list(r) for r in good.data], [list(r) for r in bad.data]


def _latent_value(kind: str, args: tuple[Any, ...], u: float) -> Any:
    """The latent value at position ``u`` in ``[0, 1]`` of a latent domain."""
    if kind == "choice":
        categories = args[0]
        return categories[min(int(u), len(categories) - 1)]
    if kind == "randint":
        low, high = args
        return float(low + min(math.floor(u * (high - low)), high - low - 1))
    if kind == "uniform":
        return args[0] + u * (args[1] - args[0])
    if kind == "loguniform":
        low, high = math.log(args[0]), math.log(args[1])
        return math.exp(low + u * (high - low))
    if kind == "randn":
        return args[0] + args[1] * _UNIT.inv_cdf(min(max(u, _TINY), 1 - _TINY))
    raise ValueError(f"no latent domain {kind!r}")


class NniBohbModel:
    """NNI 3.0's own ``CG_BOHB`` (needs nni, ConfigSpace and statsmodels).

    The search space goes through NNI's own conversion (``BOHB.handle_update_search_space``);
    draws use a numpy state of their own (seeded with ``seed``), swapped in around every
    call, since CG_BOHB draws from numpy's global generator.

    Raises:
        ImportError: nni, ConfigSpace or statsmodels is missing.
        Exception: NNI's conversion rejects the space (ConfigSpace 1.x has no ``q`` and
            needs bounds for normal types; translate's ``nni_model_problem`` says so first).
    """

    name = "nni"

    def __init__(
        self,
        space_json: dict[str, Any],
        args: BohbArgs = BohbArgs(),
        seed: int | None = None,
        config_space: str | None = None,
    ) -> None:
        import numpy as np
        from nni.algorithms.hpo.bohb_advisor.bohb_advisor import BOHB  # type: ignore[import-untyped,import-not-found,unused-ignore]
        from nni.algorithms.hpo.bohb_advisor.config_generator import CG_BOHB  # type: ignore[import-untyped,import-not-found,unused-ignore]

        self._np = np
        holder = types.SimpleNamespace(config_space=config_space, search_space=None)
        with _quiet():
            BOHB.handle_update_search_space(holder, space_json)
        configspace = holder.search_space
        if seed is not None:
            configspace.seed(seed)
        self._state = np.random.RandomState(seed).get_state()
        with self._numpy_state(), _quiet():
            self.cg = CG_BOHB(
                configspace=configspace,
                min_points_in_model=args.min_points_in_model,
                top_n_percent=args.top_n_percent,
                num_samples=args.num_samples,
                random_fraction=args.random_fraction,
                bandwidth_factor=args.bandwidth_factor,
                min_bandwidth=args.min_bandwidth,
            )
        self._model_pick = False
        pick = self.cg.sample_from_largest_budget

        def spy(info: dict[str, Any]) -> Any:  # records whether the model made the pick
            sample_, info = pick(info)
            self._model_pick = bool(info.get("model_based_pick"))
            return sample_, info

        self.cg.sample_from_largest_budget = spy

    @contextlib.contextmanager
    def _numpy_state(self) -> Iterator[None]:
        outer = self._np.random.get_state()
        self._np.random.set_state(self._state)
        try:
            yield
        finally:
            self._state = self._np.random.get_state()
            self._np.random.set_state(outer)

    def propose(self, budget: float) -> Proposal:
        self._model_pick = False
        with self._numpy_state(), _quiet():
            params = self.cg.get_config(budget)
        params.pop("TRIAL_BUDGET", None)
        params = {k: _plain(v) for k, v in params.items()}
        return Proposal(params, dict(params), MODEL if self._model_pick else RANDOM)

    def observe(self, token: Any, budget: float, loss: float) -> None:
        # NNI's advisor passes the FINAL metric's sequence (always 0) as the budget.
        with self._numpy_state(), _quiet():
            self.cg.new_result(loss=loss, budget=0, parameters=dict(token), update_model=True)


def _plain(value: Any) -> Any:
    """numpy scalars (ConfigSpace hands them out) as Python numbers for JSON."""
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, (str, bytes)) else value


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """ConfigSpace 1.x deprecates the calls NNI 3.0 makes; statsmodels warns on one-level
    categories. Neither is the user's business."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
