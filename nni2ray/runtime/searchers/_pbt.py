"""NNI's PBT tuner as a Tune searcher: generations, exploit and explore (no extra package).

The rules are NNI 3.0's PBTTuner's (nni/algorithms/hpo/pbt_tuner.py), reimplemented:

* Member ``i`` of the population owns the folder ``<all_checkpoint_dir>/<i>``; in generation
  ``g`` its trial saves into ``<all_checkpoint_dir>/<i>/<g>``. Generation 0 is drawn at random
  and loads from its own (empty) save folder.
* A generation is handed out whole, then nothing more (``suggest`` returns None, NNI's "no
  more trials now") until every trial of it has ended. A failed trial, or one that ended
  without a finite final result, ranks worst (NNI waits forever for the latter).
* Then the members are ranked by their final result (stable; ``optimize_mode``);
  ``cutoff = ceil(fraction * population_size)``. Each of the last ``cutoff`` (bottom)
  copies the parameters of a member drawn at random from the first ``cutoff`` (top), loads
  its checkpoint (``load_checkpoint_dir`` = the top trial's ``save_checkpoint_dir``) and
  perturbs every parameter: with ``resample_probability`` it is drawn again from its
  distribution, otherwise it moves up or down (even odds) by one step, clipped to its range:
  ``choice`` and ``randint`` one position, ``uniform`` ``factor`` x the range,
  ``loguniform`` ``factor`` x the log range, q-types one ``q``, ``normal`` ``factor`` x
  sigma, ``lognormal`` a factor ``exp(factor x sigma)``. Every other member keeps its
  parameters and continues from its own checkpoint.
* Generations repeat until ``maxTrialNumber`` (or another limit) ends the run.

Unlike NNI's class it takes a seed (NNI's draws from unseeded global generators), ranks a
trial without a final result as failed, snapshots the ranking before exploiting (NNI's
in-place update lets a bottom copy an already-perturbed top when ``fraction`` > 0.5) and
handles nested choices (a moved option's sub-parameters are drawn fresh).
"""

from __future__ import annotations

import copy
import math
import os
import random
from dataclasses import dataclass
from typing import Any

from ray.tune.search import Searcher

from nni2ray.experiment import Experiment, Parameter, SearchSpace
from nni2ray.experiment.sampling import sample, sample_parameter
from nni2ray.translate import TunePlan
from nni2ray.trials import (
    FINAL,
    PARAMETERS_KEY,
    SEQUENCE_KEY,
    ResultKey,
    finite_scalar,
    reported_value,
)

LOAD_KEY = "load_checkpoint_dir"
SAVE_KEY = "save_checkpoint_dir"


@dataclass
class Member:
    """One member of the population in the current generation."""

    index: int  # owns <all_checkpoint_dir>/<index>
    params: dict[str, Any]  # hyperparameters (no checkpoint keys)
    load: str
    save: str
    score: float | None = None  # the final result; None: failed or none reported

    def parameters(self) -> dict[str, Any]:
        """What the trial gets: the hyperparameters and the two checkpoint folders."""
        return dict(self.params, **{LOAD_KEY: self.load, SAVE_KEY: self.save})


class PbtPopulation:
    """NNI's PBT rules without Ray: hand out parameters, take results, breed generations.

    Args:
        space: the parsed NNI search space (NNI's sampling formulas draw from it).
        all_checkpoint_dir: the folder that holds every member's checkpoints.
        population_size, factor, resample_probability, fraction: NNI's classArgs.
        maximize: rank by highest result (``optimize_mode``).
        seed: seeds every draw (None: unseeded).
    """

    def __init__(
        self,
        space: SearchSpace,
        all_checkpoint_dir: str,
        *,
        population_size: int = 10,
        factor: float = 0.2,
        resample_probability: float = 0.25,
        fraction: float = 0.2,
        maximize: bool = True,
        seed: int | None = None,
    ) -> None:
        self.space = space
        self.root = all_checkpoint_dir
        self.population_size = max(1, population_size)
        self.factor, self.resample_probability = factor, resample_probability
        self.fraction, self.maximize = fraction, maximize
        self.rng = random.Random(seed)
        self.generation = 0
        self._waiting: list[Member] = []  # this generation's members not handed out yet
        self._running: dict[int, Member] = {}
        self._ended: list[Member] = []
        self._next_token = 0
        for index in range(self.population_size):
            folder = self._folder(index, 0)
            self._waiting.append(Member(index, sample(space, self.rng), folder, folder))

    def _folder(self, index: int, generation: int) -> str:
        return os.path.join(self.root, str(index), str(generation))

    def next(self) -> tuple[int, dict[str, Any]] | None:
        """``(token, parameters)`` of the next trial, or None until the generation ends."""
        if not self._waiting:
            return None
        member = self._waiting.pop(0)
        token, self._next_token = self._next_token, self._next_token + 1
        self._running[token] = member
        return token, member.parameters()

    def ended(self, token: int, score: float | None) -> None:
        """The trial ``token`` ended with final result ``score`` (None: failed, no result)."""
        member = self._running.pop(token, None)
        if member is None:
            return
        member.score = score
        self._ended.append(member)
        if len(self._ended) == self.population_size:
            self._breed()

    def resume(self, finished: list[tuple[Any, float | None]]) -> int:
        """Go on after the last complete generation of an earlier run (NNI's
        ``import_data``): its ``population_size`` trials, with their saved checkpoints on
        disk, are ranked and bred. Returns the generation that comes next (0: nothing
        usable, the run starts afresh). Only before anything was handed out."""
        if self._running or self._next_token or self.generation:
            return self.generation
        generations: dict[int, dict[int, Member]] = {}
        for params, score in finished:
            save = params.get(SAVE_KEY) if isinstance(params, dict) else None
            if not isinstance(save, str):
                continue
            member_dir, generation = os.path.split(save)
            root, index = os.path.split(member_dir)
            if root != self.root or not generation.isdigit() or not index.isdigit():
                continue
            hyper = {k: v for k, v in params.items() if k not in (LOAD_KEY, SAVE_KEY)}
            load = str(params.get(LOAD_KEY, save))
            members = generations.setdefault(int(generation), {})
            members[int(index)] = Member(int(index), hyper, load, save, score)
        complete = [
            g
            for g, members in generations.items()
            if sorted(members) == list(range(self.population_size))
            and all(os.path.isdir(m.save) for m in members.values())
        ]
        if not complete:
            return 0
        last = max(complete)
        self.generation = last
        self._ended = [generations[last][i] for i in range(self.population_size)]
        self._breed()
        return self.generation

    def _rank_key(self, member: Member) -> float:
        if member.score is None or not math.isfinite(member.score):
            return math.inf  # failed trials rank last
        return -member.score if self.maximize else member.score

    def _breed(self) -> None:
        ranked = sorted(self._ended, key=self._rank_key)  # best first, ties in end order
        self._ended = []
        self.generation += 1
        cutoff = math.ceil(self.fraction * len(ranked))
        tops = [(m.params, m.save) for m in ranked[:cutoff]]  # snapshot before exploiting
        bottoms = ranked[len(ranked) - cutoff :]
        for member in ranked:
            if any(member is b for b in bottoms):
                params, folder = tops[self.rng.randrange(len(tops))]
                member.params = self.explore(params)
                member.load = folder
            else:
                member.load = member.save
            member.save = self._folder(member.index, self.generation)
            member.score = None
        self._waiting = list(reversed(ranked))  # NNI hands the bottom ones out first

    def explore(self, params: dict[str, Any]) -> dict[str, Any]:
        """A perturbed copy of ``params`` (NNI's ``exploit_and_explore``)."""
        child = copy.deepcopy(params)
        for parameter in self.space.parameters:
            if parameter.name in child:
                child[parameter.name] = self.perturb(parameter, child[parameter.name])
        return child

    def perturb(self, parameter: Parameter, value: Any) -> Any:
        """One parameter: resampled, or moved one step up or down within its range."""
        if self.rng.random() < self.resample_probability:
            return sample_parameter(parameter, self.rng)
        up = self.rng.random() > 0.5
        if parameter.type == "choice":
            return self._move_choice(parameter, value, up)
        return _move_number(parameter.type, parameter.values, value, up, self.factor)

    def _move_choice(self, parameter: Parameter, value: Any, up: bool) -> Any:
        options = list(parameter.options)
        if parameter.nested:
            names = [option.name for option in options]
            name = value.get("_name") if isinstance(value, dict) else None
            index = names.index(name) if name in names else 0
        else:
            index = options.index(value) if value in options else 0
        moved = min(index + 1, len(options) - 1) if up else max(index - 1, 0)
        if moved == index:
            return value
        option = options[moved]
        if not parameter.nested:
            return option
        drawn: dict[str, Any] = {"_name": option.name}
        for sub in option.parameters:
            drawn[sub.name] = sample_parameter(sub, self.rng)
        drawn.update(option.constants)
        return drawn


def _move_number(kind: str, values: tuple[float, ...], value: Any, up: bool, factor: float) -> Any:
    """NNI's one-step move of a numeric value (``perturbation`` in pbt_tuner.py)."""
    v = float(value)
    if kind == "randint":
        first, last = math.ceil(values[0]), math.ceil(values[1]) - 1
        return min(int(value) + 1, last) if up else max(int(value) - 1, first)
    if kind == "uniform":
        step = (values[1] - values[0]) * factor
        return min(v + step, values[1]) if up else max(v - step, values[0])
    if kind in ("quniform", "qloguniform"):
        steps, q = round(v / values[2]), values[2]
        return float(min((steps + 1) * q, values[1]) if up else max((steps - 1) * q, values[0]))
    if kind == "loguniform":
        low, high = math.log(values[0]), math.log(values[1])
        step = (high - low) * factor
        return math.exp(min(math.log(v) + step, high) if up else max(math.log(v) - step, low))
    if kind == "normal":
        return v + values[1] * factor if up else v - values[1] * factor
    if kind == "qnormal":
        return v + values[2] if up else v - values[2]
    if kind == "lognormal":
        return v * math.exp(values[1] * factor) if up else v / math.exp(values[1] * factor)
    if kind == "qlognormal":
        return v + values[2] if up else max(v - values[2], 1e-10)
    raise ValueError(f"PBT cannot perturb a {kind!r} parameter")


class PbtSearch(Searcher):
    """:class:`PbtPopulation` driven by Tune: hands out NNI parameters verbatim."""

    def __init__(
        self, population: PbtPopulation, metric: str = ResultKey.METRIC, mode: str = "max"
    ) -> None:
        super().__init__(metric=metric, mode=mode)
        self.population = population
        self._tokens: dict[str, int] = {}
        self._finals: dict[str, float | None] = {}
        self._next_sequence = 0

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        handed = self.population.next()
        if handed is None:
            return None  # NNI's PBT: no more trials until this generation has ended
        token, params = handed
        self._tokens[trial_id] = token
        sequence, self._next_sequence = self._next_sequence, self._next_sequence + 1
        return {PARAMETERS_KEY: params, SEQUENCE_KEY: sequence}

    def warm_start(self, finished: list[tuple[Any, float | None]], next_sequence: int) -> int:
        """A resumed run: breed from the last complete generation (see
        :meth:`PbtPopulation.resume`); numbering goes on at ``next_sequence``."""
        self._next_sequence = max(self._next_sequence, next_sequence)
        return self.population.resume(finished)

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if result.get(ResultKey.TYPE) == FINAL and trial_id in self._tokens:
            self._finals[trial_id] = finite_scalar(reported_value(result))

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        token = self._tokens.pop(trial_id, None)
        if token is None:
            return
        if result and not error and result.get(ResultKey.TYPE) == FINAL:
            self._finals[trial_id] = finite_scalar(reported_value(result))
        score = None if error else self._finals.get(trial_id)
        self._finals.pop(trial_id, None)
        self.population.ended(token, score)


def pbt_searcher(plan: TunePlan, experiment: Experiment) -> PbtSearch:
    """NNI's PBT from the plan's classArgs; checkpoints under ``all_checkpoint_dir``, else the
    folder NNI's manager names (``NNI_CHECKPOINT_DIRECTORY``: the run's ``checkpoint``)."""
    if experiment.search_space is None:
        raise AssertionError("unreachable: PBT without a parsed search space")
    kwargs = plan.searcher.kwargs
    root = kwargs.get("all_checkpoint_dir") or os.environ.get("NNI_CHECKPOINT_DIRECTORY")
    population = PbtPopulation(
        experiment.search_space,
        os.path.abspath(root or "checkpoint"),
        population_size=int(kwargs.get("population_size", 10)),
        factor=float(kwargs.get("factor", 0.2)),
        resample_probability=float(kwargs.get("resample_probability", 0.25)),
        fraction=float(kwargs.get("fraction", 0.2)),
        maximize=plan.mode == "max",
        seed=kwargs.get("seed"),
    )
    return PbtSearch(population, metric=plan.metric, mode=plan.mode)
