"""SEARCHER_SOURCES / SCHEDULER_SOURCES: for each plan kind, the launcher source that builds
it on plain Ray Tune and the wording MIGRATION.md gives its fate (one registry per side,
keyed by the same kinds as runtime's registries)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nni2ray.translate import SchedulerCall, SchedulerKind, SearcherCall, SearcherKind

#: imports the launcher needs, and the body of its ``make_searcher``/``make_scheduler``.
Source = tuple[list[str], str]


@dataclass(frozen=True)
class SearcherSource:
    """How a converted launcher builds one kind of searcher, and what MIGRATION.md says."""

    source: Callable[[SearcherCall], Source]
    fate: Callable[[SearcherCall], str]


@dataclass(frozen=True)
class SchedulerSource:
    """How a converted launcher builds one kind of scheduler, and what MIGRATION.md says."""

    source: Callable[[SchedulerCall], Source]
    fate: Callable[[SchedulerCall], str]


def _kwargs(kwargs: dict[str, Any], skip: tuple[str, ...] = ()) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if v is not None and k not in skip)


def _exact(call: SearcherCall | SchedulerCall) -> str:
    return "exact" if call.exact else "approximated"


def _random_source(call: SearcherCall) -> Source:
    if call.kwargs.get("seed") is not None:
        # Tune ignores max_concurrent_trials for a search_alg it did not build: pass it here.
        seed = call.kwargs["seed"]
        body = (
            f"    return BasicVariantGenerator(random_state={seed!r}, "
            "max_concurrent=max_concurrent)"
        )
        return ["from ray.tune.search.basic_variant import BasicVariantGenerator"], body
    return [], "    return None  # Tune's default: random search"


def _listed_source(call: SearcherCall) -> Source:
    return [], "    return None  # the grid_search in the param space lists every point"


def _hyperopt_source(call: SearcherCall) -> Source:
    algo = call.kwargs.get("algo", "tpe")
    body = (
        "    try:\n"
        "        import hyperopt\n"
        "        from ray.tune.search.hyperopt import HyperOptSearch\n"
        "    except ImportError:  # hyperopt is not part of Ray\n"
        '        print("warning: hyperopt is not installed (pip install hyperopt); "\n'
        '              "falling back to random search", file=sys.stderr)\n'
        "        return None\n"
        f"    searcher = HyperOptSearch({_kwargs(call.kwargs, ('algo',))})\n"
    )
    if algo == "anneal":
        body += "    searcher.algo = hyperopt.anneal.suggest  # NNI's Anneal tuner\n"
    return [], body + "    return searcher"


def _hyperopt_fate(call: SearcherCall) -> str:
    algo = call.kwargs.get("algo", "tpe")
    return f"{_exact(call)}: HyperOptSearch ({algo}); random search if hyperopt is missing"


_OPTUNA_SAMPLERS = {
    SearcherKind.TPE: "TPESampler",
    SearcherKind.GP: "GPSampler",
    SearcherKind.EVOLUTION: "NSGAIISampler",
}


def _optuna_sampler_args(call: SearcherCall) -> str:
    args = _kwargs(call.kwargs)
    if call.kind == SearcherKind.TPE:
        args += ", constant_liar=True"
    return args.lstrip(", ")


def _optuna_source(call: SearcherCall) -> Source:
    sampler = _OPTUNA_SAMPLERS[call.kind]
    body = (
        "    try:\n"
        "        import optuna\n"
        "        from ray.tune.search.optuna import OptunaSearch\n"
        "    except ImportError:  # optuna is not part of Ray\n"
        '        print("warning: optuna is not installed (pip install optuna); "\n'
        '              "falling back to random search", file=sys.stderr)\n'
        "        return None\n"
        "    optuna.logging.set_verbosity(optuna.logging.WARNING)\n"
        f"    sampler = optuna.samplers.{sampler}({_optuna_sampler_args(call)})\n"
        "\n"
        "    class LatentOptunaSearch(OptunaSearch):\n"
        '        """OptunaSearch reads "/" in a key as nesting: search p0, p1, ... instead."""\n'
        "\n"
        "        def set_search_properties(self, metric, mode, config, **spec):\n"
        "            self.latent_keys = list(config)\n"
        '            renamed = {f"p{i}": config[k] for i, k in enumerate(self.latent_keys)}\n'
        "            for key, domain in renamed.items():  # Optuna has no normal: mu +- 4 sd\n"
        '                normal = getattr(domain, "get_sampler", lambda: None)()\n'
        '                if type(normal).__name__.endswith("Normal"):\n'
        "                    low, high = normal.mean - 4 * normal.sd, normal.mean + 4 * normal.sd\n"
        "                    renamed[key] = tune.uniform(low, high)\n"
        "            return super().set_search_properties(metric, mode, renamed, **spec)\n"
        "\n"
        "        def suggest(self, trial_id):\n"
        "            params = super().suggest(trial_id)\n"
        "            if params is None:\n"
        "                return None\n"
        '            return {k: params[f"p{i}"] for i, k in enumerate(self.latent_keys)}\n'
        "\n"
        "    return LatentOptunaSearch(sampler=sampler)"
    )
    return [], body


def _optuna_fate(call: SearcherCall) -> str:
    return (
        f"{_exact(call)}: OptunaSearch ({_OPTUNA_SAMPLERS[call.kind]}); "
        "random search if optuna is missing"
    )


def _needs_nni2ray(what: str) -> Callable[[Any], Source]:
    def source(call: Any) -> Source:
        raise AssertionError(f"unreachable: {what} has no converted launcher")

    return source


def _custom_source(function: str, call: SearcherCall | SchedulerCall, extra: str) -> Source:
    """A user's class: ``code_directory`` is relative to the converted project here."""
    kwargs = call.kwargs
    args = [
        repr(kwargs["class_name"]),
        f"HERE / {kwargs.get('code_directory') or '.'!r}",
        repr(dict(kwargs.get("class_args") or {})),
    ]
    if extra:
        args += ["SEARCH_SPACE", "max_concurrent", repr(kwargs.get("mode", "max"))]
    body = (
        '    sys.path.insert(0, str(HERE / "nni_algorithms"))\n'
        f"    from tune_adapters import {function}\n\n"
        f"    return {function}({', '.join(args)})"
    )
    return [], body


_PBT_FATE = (
    "approximated: random search; each trial gets its own load/save_checkpoint_dir (the "
    "same folder), without PBT's generations or exploit/explore (`nni2ray run` has them)"
)


def _kind_fate(call: SearcherCall | SchedulerCall) -> str:
    return f"{_exact(call)}: {call.kind} search"


SEARCHER_SOURCES: dict[SearcherKind, SearcherSource] = {
    SearcherKind.RANDOM: SearcherSource(_random_source, _kind_fate),
    SearcherKind.GRID: SearcherSource(_listed_source, _kind_fate),
    SearcherKind.BATCH: SearcherSource(_listed_source, _kind_fate),
    SearcherKind.HYPEROPT: SearcherSource(_hyperopt_source, _hyperopt_fate),
    SearcherKind.TPE: SearcherSource(_optuna_source, _optuna_fate),
    SearcherKind.GP: SearcherSource(_optuna_source, _optuna_fate),
    SearcherKind.EVOLUTION: SearcherSource(_optuna_source, _optuna_fate),
    # Converted plans replace the bracket schedule first (tuners.advisor_without_nni2ray).
    SearcherKind.HYPERBAND: SearcherSource(_needs_nni2ray("Hyperband"), _kind_fate),
    SearcherKind.BOHB: SearcherSource(_needs_nni2ray("BOHB"), _kind_fate),
    # PBT's generations need nni2ray: random search, each trial its own checkpoint folder.
    SearcherKind.PBT: SearcherSource(_random_source, lambda call: _PBT_FATE),
    # The user's class runs through nni_algorithms/tune_adapters.py (see ._adapters).
    SearcherKind.CUSTOM: SearcherSource(
        lambda call: _custom_source("custom_searcher", call, "searcher"),
        lambda call: "exact: the class runs unchanged (nni_algorithms/tune_adapters.py)",
    ),
}


def _asha_source(call: SchedulerCall) -> Source:
    body = f'    return ASHAScheduler(time_attr="training_iteration", {_kwargs(call.kwargs)})'
    return ["from ray.tune.schedulers import ASHAScheduler"], body


def _asha_fate(call: SchedulerCall) -> str:
    if call.nni_name is None:
        return "nni2ray default: ASHA early stopping"
    return f"{_exact(call)}: asha"


def _medianstop_source(call: SchedulerCall) -> Source:
    start = call.kwargs.get("start_step", 0)
    body = (
        "    # NNI stops a trial whose best result so far is worse than the median of the\n"
        "    # completed trials' running averages at the same step; Ray's rule also counts\n"
        "    # running trials. grace_period = NNI's start_step.\n"
        "    return MedianStoppingRule(\n"
        f'        time_attr="training_iteration", grace_period={start!r}, '
        "min_samples_required=1\n    )"
    )
    return ["from ray.tune.schedulers import MedianStoppingRule"], body


def _medianstop_fate(call: SchedulerCall) -> str:
    return "approximated: MedianStoppingRule (also compares with running trials)"


def _fifo_source(call: SchedulerCall) -> Source:
    return [], "    return None  # FIFO: trials are never stopped early"


def _scheduler_fate(call: SchedulerCall) -> str:
    return f"{_exact(call)}: {call.kind}"


SCHEDULER_SOURCES: dict[SchedulerKind, SchedulerSource] = {
    SchedulerKind.ASHA: SchedulerSource(_asha_source, _asha_fate),
    SchedulerKind.MEDIANSTOP: SchedulerSource(_medianstop_source, _medianstop_fate),
    SchedulerKind.FIFO: SchedulerSource(_fifo_source, _scheduler_fate),
    SchedulerKind.CUSTOM: SchedulerSource(
        lambda call: _custom_source("custom_scheduler", call, ""),
        lambda call: "exact: the class runs unchanged (nni_algorithms/tune_adapters.py)",
    ),
}
