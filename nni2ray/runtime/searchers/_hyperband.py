"""NNI's Hyperband and BOHB advisors as a Tune searcher: the exact bracket schedule.

Every trial gets ``TRIAL_BUDGET`` in its parameters; the schedule's formulas live in
:mod:`nni2ray.translate.tuners.brackets`. Promotions are new trials with the hyperparameters
of the best trials of the previous round, ranked by their latest metric (a final result
beats any intermediate). Brackets go from ``s_max`` down to 0 and repeat until a limit ends the run.
New configurations (a bracket's first round) come from a :class:`ConfigSource`: NNI's random
formulas (Hyperband), BOHB's model (nni2ray's :class:`KdeModel` or NNI's own ``CG_BOHB``).
"""

from __future__ import annotations

import math
import sys
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from ray.tune.search import Searcher

from nni2ray.experiment import Experiment, SearchSpace
from nni2ray.runtime.searchers._bohb_model import (
    BohbArgs,
    ConfigSource,
    KdeModel,
    NniBohbModel,
    RandomSource,
)
from nni2ray.translate import TunePlan
from nni2ray.translate.tuners import BUDGET_KEY, bracket_rounds, s_max_of
from nni2ray.trials import (
    FINAL,
    PARAMETERS_KEY,
    PERIODICAL,
    SEQUENCE_KEY,
    ResultKey,
    finite_scalar,
    reported_value,
)


@dataclass
class _Config:
    parameter_id: str
    index: int  # NNI's increasing id, kept across promotions
    bracket: _Bracket
    round: int
    params: dict[str, Any]
    budget: int
    perf: tuple[float, float] | None = None  # (metric sequence, scalar); FINAL: inf
    token: Any = None  # the config source's own record of it (BOHB's model vector)
    learned: set[Any] = field(default_factory=set)  # results the source learned from


@dataclass
class _Bracket:
    prefix: str
    rounds: list[tuple[int, int]]
    configs: list[list[_Config]] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    done: bool = False


class BracketSearch(Searcher):
    """Hyperband (or BOHB's schedule) as a searcher that hands out budgeted trials.

    Args:
        space: the parsed NNI search space; new configurations are drawn from it with
            NNI's sampling formulas.
        max_budget, eta, min_budget: Hyperband's ``R``/``eta`` (``min_budget`` 1) or
            BOHB's ``max_budget``/``eta``/``min_budget``.
        maximize: rank trials by highest metric (``optimize_mode``).
        serial: NNI's ``exec_mode: serial``: the next bracket starts only after the
            current one has ended; otherwise (``parallelism``) a new bracket starts
            whenever a slot is free and no trial of a started bracket is ready.
        id_style: ``hyperband`` ids ``"<iteration>-<s>_<round>_<n>"``, ``bohb`` ids
            ``"<s>_<round>_<n>"`` (kept in :attr:`parameter_ids`).
        source: where new configurations come from (default: NNI's random formulas
            seeded with ``seed``); it learns every final result with its budget.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        max_budget: float,
        eta: int,
        min_budget: float = 1,
        maximize: bool = True,
        serial: bool = False,
        seed: int | None = None,
        id_style: str = "hyperband",
        metric: str = ResultKey.METRIC,
        mode: str = "max",
        source: ConfigSource | None = None,
    ) -> None:
        super().__init__(metric=metric, mode=mode)
        self.source: ConfigSource = source or RandomSource(space, seed)
        self.sources: dict[str, str] = {}  # NNI parameter id -> "model" or "random"
        self._max_budget, self._eta = max_budget, eta
        self._s_max = s_max_of(max_budget, eta, min_budget)
        self._maximize, self._serial, self._id_style = maximize, serial, id_style
        self._iteration = -1
        self._next_s = -1
        self._next_index = 0
        self._next_sequence = 0
        self._current: _Bracket | None = None
        self._queue: deque[_Config] = deque()
        self._trials: dict[str, _Config] = {}
        self.parameter_ids: dict[str, str] = {}  # Tune trial id -> NNI parameter id

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if not self._queue:
            if self._serial and self._current is not None and not self._current.done:
                return None  # NNI reports "no more trials" until the bracket ends
            self._start_bracket()
        config = self._queue.popleft()
        self._trials[trial_id] = config
        self.parameter_ids[trial_id] = config.parameter_id
        sequence = self._next_sequence
        self._next_sequence += 1
        params = dict(config.params, **{BUDGET_KEY: config.budget})
        return {PARAMETERS_KEY: params, SEQUENCE_KEY: sequence}

    def _start_bracket(self) -> None:
        if self._next_s < 0:
            self._next_s = self._s_max
            self._iteration += 1
        s = self._next_s
        self._next_s -= 1
        prefix = f"{self._iteration}-{s}" if self._id_style == "hyperband" else str(s)
        rounds = bracket_rounds(s, self._s_max, self._max_budget, self._eta)
        bracket = _Bracket(prefix, rounds)
        self._current = bracket
        count, budget = rounds[0]
        configs = []
        for _ in range(count):
            proposal = self.source.propose(budget)
            config = self._config(bracket, 0, proposal.params, budget)
            config.token = proposal.token
            self.sources[config.parameter_id] = proposal.source
            configs.append(config)
        self._add_round(bracket, configs)

    def _config(
        self, bracket: _Bracket, round_: int, params: dict[str, Any], budget: int, index: int = -1
    ) -> _Config:
        if index < 0:
            index, self._next_index = self._next_index, self._next_index + 1
        parameter_id = f"{bracket.prefix}_{round_}_{index}"
        return _Config(parameter_id, index, bracket, round_, params, budget)

    def _add_round(self, bracket: _Bracket, configs: list[_Config]) -> None:
        bracket.configs.append(configs)
        bracket.ended.append(0)
        self._queue.extend(configs)
        if not configs:
            bracket.done = True

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        config = self._trials.get(trial_id)
        if config is not None:
            self._observe(config, result)

    def _observe(self, config: _Config, result: dict[str, Any]) -> None:
        kind = result.get(ResultKey.TYPE)
        value = finite_scalar(reported_value(result))
        if kind not in (PERIODICAL, FINAL) or value is None:
            return
        sequence = math.inf if kind == FINAL else float(result.get(ResultKey.SEQUENCE) or 0)
        if config.perf is None or config.perf[0] <= sequence:
            config.perf = (sequence, value)
        # BOHB's model learns every final result once (NNI's rule); Tune hands the last
        # result again (or only) to on_trial_complete.
        key = result.get("training_iteration")
        if kind == FINAL and (key is None or key not in config.learned):
            config.learned.add(key)
            self.source.observe(config.token, config.budget, -value if self._maximize else value)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        config = self._trials.pop(trial_id, None)
        if config is None:
            return
        if result and not error:
            self._observe(config, result)
        bracket = config.bracket
        bracket.ended[config.round] += 1
        if bracket.ended[config.round] == len(bracket.configs[config.round]):
            self._promote(bracket, config.round)

    def _promote(self, bracket: _Bracket, round_: int) -> None:
        following = round_ + 1
        if following >= len(bracket.rounds):
            bracket.done = True
            return
        count, budget = bracket.rounds[following]
        ranked = [c for c in bracket.configs[round_] if c.perf is not None]
        ranked.sort(key=lambda c: c.perf[1] if c.perf else 0.0, reverse=self._maximize)
        promoted = [
            self._config(bracket, following, dict(c.params), budget, index=c.index)
            for c in ranked[:count]
        ]
        for old, new in zip(ranked, promoted, strict=False):
            new.token = old.token
        self._add_round(bracket, promoted)

    def run_report(self) -> dict[str, Any]:
        """``experiment.json``'s account of where new configurations came from (BOHB)."""
        if isinstance(self.source, RandomSource):
            return {}
        counts = Counter(self.sources.values())
        return {
            "bohbModel": {
                "generator": self.source.name,
                "model": counts["model"],
                "random": counts["random"],
                "sources": dict(self.sources),
            }
        }


def _common(plan: TunePlan) -> dict[str, Any]:
    kwargs = plan.searcher.kwargs
    return {
        "eta": int(kwargs["eta"]),
        "maximize": kwargs["optimize_mode"] != "minimize",
        "seed": kwargs.get("seed"),
        "metric": plan.metric,
        "mode": plan.mode,
    }


def hyperband_searcher(plan: TunePlan, experiment: Experiment) -> BracketSearch:
    """NNI's Hyperband advisor: brackets from ``R`` and ``eta`` (translate checked them)."""
    kwargs = plan.searcher.kwargs
    return BracketSearch(
        _parsed_space(experiment),
        max_budget=float(kwargs["R"]),
        serial=kwargs["exec_mode"] == "serial",
        **_common(plan),
    )


def bohb_searcher(plan: TunePlan, experiment: Experiment) -> BracketSearch:
    """NNI's BOHB advisor: brackets from ``min_budget``, ``max_budget`` and ``eta``; new
    configurations from the model ``kwargs["model"]`` names (``native``, ``nni`` or
    ``random``)."""
    kwargs = plan.searcher.kwargs
    space = _parsed_space(experiment)
    return BracketSearch(
        space,
        max_budget=float(kwargs["max_budget"]),
        min_budget=float(kwargs["min_budget"]),
        serial=True,  # NNI's BOHB starts a bracket only when the previous one has ended
        id_style="bohb",
        source=bohb_source(plan, space),
        **_common(plan),
    )


def bohb_source(plan: TunePlan, space: SearchSpace) -> ConfigSource:
    """BOHB's config source for the plan: NNI's CG_BOHB, nni2ray's KDE model, or random
    (with one warning when the model the plan chose cannot be built here)."""
    kwargs = plan.searcher.kwargs
    model = kwargs.get("model", "random")
    args = BohbArgs(**kwargs.get("model_args", {}))
    seed = kwargs.get("seed")
    if model == "nni":
        try:
            return NniBohbModel(plan.search_space, args, seed, kwargs.get("config_space"))
        except Exception as exc:  # noqa: BLE001 - NNI's conversion or an import; said below
            if kwargs.get("backend") == "nni":
                raise
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
            _warn(f"NNI's BOHB model (CG_BOHB) is not used ({reason}); nni2ray's runs")
            model = "native"
    if model == "native":
        try:
            return KdeModel(plan.search_space, args, seed)
        except ImportError as exc:
            _warn(
                f"BOHB's model needs {exc.name or 'statsmodels'}, which is not installed "
                "(pip install 'nni2ray[bohb]'); configurations are drawn at random"
            )
    return RandomSource(space, seed)


def _warn(text: str) -> None:
    print(f"nni2ray: warning: {text}", file=sys.stderr)


def _parsed_space(experiment: Experiment) -> SearchSpace:
    if experiment.search_space is None:
        raise AssertionError("unreachable: an advisor without a parsed search space")
    return experiment.search_space
