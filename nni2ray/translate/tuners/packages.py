"""What each searcher and scheduler kind needs installed, and the lines ``check`` prints
about what ``run`` will use (looked up with importlib's finder: nothing is imported)."""

from __future__ import annotations

import importlib.util

from nni2ray.translate.plan import SchedulerKind, SearcherCall, SearcherKind, TunePlan

#: Packages beyond ray[tune] that a kind imports, with the extra that installs them.
SEARCHER_PACKAGES: dict[SearcherKind, tuple[tuple[str, ...], str]] = {
    SearcherKind.HYPEROPT: (("hyperopt",), "nni2ray[hyperopt]"),
    SearcherKind.TPE: (("optuna",), "nni2ray[optuna]"),
    SearcherKind.GP: (("optuna", "torch", "scipy"), "nni2ray[optuna] torch"),
}
SCHEDULER_PACKAGES: dict[SchedulerKind, tuple[tuple[str, ...], str]] = {}

_SEARCHER_WORDS = {
    SearcherKind.RANDOM: "NNI's random sampling (nni2ray)",
    SearcherKind.GRID: "NNI's grid order (nni2ray)",
    SearcherKind.BATCH: "NNI's Batch list (nni2ray)",
    SearcherKind.HYPEROPT: "hyperopt (Ray Tune's HyperOptSearch)",
    SearcherKind.TPE: "Optuna's TPESampler with a constant liar (Ray Tune's OptunaSearch)",
    SearcherKind.GP: "Optuna's GPSampler (Ray Tune's OptunaSearch)",
    SearcherKind.EVOLUTION: "NNI's evolution rule (nni2ray)",
    SearcherKind.HYPERBAND: "NNI's Hyperband bracket schedule (nni2ray)",
    SearcherKind.BOHB: "NNI's BOHB bracket schedule (nni2ray)",
    SearcherKind.CUSTOM: "the tuner class itself, in the driver",
}


def searcher_words(call: SearcherCall) -> str:
    """What runs for the tuner, in words (``hyperopt (Ray Tune's HyperOptSearch), anneal``)."""
    words = _SEARCHER_WORDS[call.kind]
    algo = call.kwargs.get("algo")
    return f"{words}, {algo}" if call.kind == SearcherKind.HYPEROPT and algo else words


def installed(package: str) -> bool:
    """True when ``package`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def _packages(needs: tuple[tuple[str, ...], str] | None) -> str:
    if needs is None:
        return "needs nothing beyond ray[tune]"
    names, extra = needs
    states = ", ".join(f"{n} {'installed' if installed(n) else 'MISSING'}" for n in names)
    missing = any(not installed(n) for n in names)
    return states + (f" (pip install '{extra}')" if missing else "")


def runs_as(plan: TunePlan) -> list[str]:
    """``check``'s lines: the stand-in for the tuner and the assessor, and their packages."""
    call = plan.searcher
    exact = "exact" if call.exact else "stand-in"
    lines = [
        "runs as:",
        f"  tuner {call.nni_name}: {searcher_words(call)}, {exact}; "
        f"{_packages(SEARCHER_PACKAGES.get(call.kind))}",
    ]
    scheduler = plan.scheduler
    name = scheduler.nni_name or "(none: nni2ray's default)"
    lines.append(
        f"  assessor {name}: {scheduler.kind} scheduler; "
        f"{_packages(SCHEDULER_PACKAGES.get(scheduler.kind))}"
    )
    nni = "installed" if installed("nni") else "not installed"
    lines.append(f"  nni {nni}: NNI's own tuner classes are not used (native stand-ins)")
    return lines
