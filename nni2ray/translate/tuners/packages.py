"""What each searcher and scheduler kind needs installed, and the lines ``check`` prints
about what ``run`` will use (looked up with importlib's finder: nothing is imported)."""

from __future__ import annotations

from nni2ray.translate.plan import SchedulerKind, SearcherCall, SearcherKind, TunePlan
from nni2ray.translate.tuners._common import installed
from nni2ray.translate.tuners.brackets import (
    BOHB_INSTALL,
    BOHB_NNI_INSTALL,
    BOHB_NNI_PACKAGES,
    BOHB_PACKAGES,
)
from nni2ray.translate.tuners.nni_classes import (
    NNI_ADVISORS,
    NNI_INSTALL,
    install_line,
    missing_packages,
    nni_class_of,
)

__all__ = ["SCHEDULER_PACKAGES", "SEARCHER_PACKAGES", "installed", "runs_as", "searcher_words"]

#: Packages beyond ray[tune] that a kind imports, with the extra that installs them.
SEARCHER_PACKAGES: dict[SearcherKind, tuple[tuple[str, ...], str]] = {
    SearcherKind.HYPEROPT: (("hyperopt",), "nni2ray[hyperopt]"),
    SearcherKind.TPE: (("optuna",), "nni2ray[optuna]"),
    SearcherKind.GP: (("optuna", "torch", "scipy"), "nni2ray[optuna] torch"),
    SearcherKind.BOHB: (BOHB_PACKAGES, "nni2ray[bohb]"),
}
#: What BOHB's configurations come from, by the plan's ``model``.
_BOHB_MODELS = {
    "nni": "NNI's own BOHB model (CG_BOHB, nni.algorithms.hpo.bohb_advisor) in the driver",
    "native": "nni2ray's BOHB model (NNI's rules, statsmodels' KDEMultivariate)",
    "random": "random draws with NNI's formulas (the model's packages are missing)",
}
SCHEDULER_PACKAGES: dict[SchedulerKind, tuple[tuple[str, ...], str]] = {}

_SEARCHER_WORDS = {
    SearcherKind.RANDOM: "NNI's random sampling (nni2ray)",
    SearcherKind.GRID: "NNI's grid order (nni2ray)",
    SearcherKind.BATCH: "NNI's Batch list (nni2ray)",
    SearcherKind.HYPEROPT: "hyperopt's anneal, fed as NNI's Anneal tuner feeds it (nni2ray)",
    SearcherKind.TPE: "Optuna's TPESampler with a constant liar (Ray Tune's OptunaSearch)",
    SearcherKind.GP: "Optuna's GPSampler (Ray Tune's OptunaSearch)",
    SearcherKind.EVOLUTION: "NNI's evolution rule (nni2ray)",
    SearcherKind.HYPERBAND: (
        "NNI's Hyperband bracket schedule (nni2ray), configurations drawn at random with "
        "NNI's formulas"
    ),
    SearcherKind.BOHB: "NNI's BOHB bracket schedule (nni2ray)",
    SearcherKind.PBT: "NNI's PBT generations and exploit/explore (nni2ray)",
    SearcherKind.CUSTOM: "the tuner class itself, in the driver",
}


def searcher_words(call: SearcherCall) -> str:
    """What runs for the tuner, in words (``Optuna's GPSampler (Ray Tune's OptunaSearch)``)."""
    if call.kind == SearcherKind.CUSTOM and call.kwargs.get("nni_builtin"):
        module, _, cls = str(call.kwargs["class_name"]).rpartition(".")
        return f"NNI's own {cls} ({module}), in the driver"
    words = _SEARCHER_WORDS[call.kind]
    if call.kind == SearcherKind.BOHB:
        model = _BOHB_MODELS[str(call.kwargs.get("model", "random"))]
        return f"{words}, configurations from {model}"
    return words


def _packages(needs: tuple[tuple[str, ...], str] | None) -> str:
    if needs is None:
        return "needs nothing beyond ray[tune]"
    names, extra = needs
    states = ", ".join(f"{n} {'installed' if installed(n) else 'MISSING'}" for n in names)
    missing = any(not installed(n) for n in names)
    return states + (f" (pip install '{extra}')" if missing else "")


def runs_as(plan: TunePlan, backend: str = "native") -> list[str]:
    """``check``'s lines: what runs for the tuner and the assessor, their packages, and
    which side (NNI's own class or nni2ray's stand-in) ``--algorithm-backend`` chose."""
    call = plan.searcher
    exact = "exact" if call.exact else "stand-in"
    builtin = call.kwargs.get("nni_builtin") if call.kind == SearcherKind.CUSTOM else None
    needs = "needs nni, installed" if builtin else _packages(SEARCHER_PACKAGES.get(call.kind))
    if call.kind == SearcherKind.BOHB and call.kwargs.get("model") == "nni":
        needs = _packages((("nni", *BOHB_NNI_PACKAGES), BOHB_NNI_INSTALL))
    lines = [
        "runs as:",
        f"  tuner {call.nni_name}: {searcher_words(call)}, {exact}; {needs}",
    ]
    scheduler = plan.scheduler
    name = scheduler.nni_name or "(none: nni2ray's default)"
    lines.append(
        f"  assessor {name}: {scheduler.kind} scheduler; "
        f"{_packages(SCHEDULER_PACKAGES.get(scheduler.kind))}"
    )
    lines.append("  " + _backend_line(call, builtin, backend))
    return lines


def _backend_line(call: SearcherCall, builtin: object, backend: str) -> str:
    nni = "installed" if installed("nni") else "not installed"
    flag = f"--algorithm-backend {backend}"
    if builtin:
        return f"backend nni ({flag}): NNI's own {call.nni_name} class runs; nni {nni}"
    if call.kind == SearcherKind.CUSTOM:
        return f"backend: the custom class runs in both backends; nni {nni}"
    if call.kind == SearcherKind.BOHB:
        return _bohb_backend_line(call, backend, nni)
    if call.kind == SearcherKind.HYPERBAND:
        return (
            f"backend native ({flag}): {call.nni_name} is an NNI advisor; nni2ray's bracket "
            "schedule runs in both backends and is NNI's Hyperband (NNI's draws its "
            f"configurations at random too); nni {nni}"
        )
    if call.nni_name in NNI_ADVISORS:
        return (
            f"backend native ({flag}): {call.nni_name} is an NNI advisor; nni2ray's bracket "
            f"schedule runs in both backends; nni {nni}"
        )
    cls = nni_class_of(call.nni_name)
    if cls is None:
        return f"backend native ({flag}); nni {nni}"
    if backend == "native":
        return f"backend native ({flag}): nni2ray's stand-in; nni {nni}"
    missing = missing_packages(cls)
    if "nni" in missing:
        return (
            f"backend native ({flag}): nni not installed, NNI's own tuner classes are not "
            f"used (native stand-ins; {NNI_INSTALL} runs NNI's own)"
        )
    return (
        f"backend native ({flag}): NNI's {call.nni_name} needs {', '.join(missing)}, "
        f"not installed ({install_line(missing, cls)}); nni installed"
    )


def _bohb_backend_line(call: SearcherCall, backend: str, nni: str) -> str:
    flag = f"--algorithm-backend {backend}"
    schedule = "nni2ray's bracket schedule (NNI's own) runs in both backends"
    if call.kwargs.get("model") == "nni":
        return f"backend nni ({flag}): {schedule}; NNI's BOHB model proposes; nni {nni}"
    if backend == "native":
        why = "nni2ray's BOHB model proposes"
    elif nni != "installed":
        why = (
            "nni not installed, nni2ray's BOHB model proposes "
            f"({NNI_INSTALL} and {BOHB_NNI_INSTALL} run NNI's)"
        )
    else:
        missing = [p for p in BOHB_NNI_PACKAGES if not installed(p)]
        why = (
            f"NNI's BOHB model needs {', '.join(missing)} ({BOHB_NNI_INSTALL})"
            if missing
            else "NNI's BOHB model cannot take this search space (see the notes)"
        ) + "; nni2ray's proposes"
    if call.kwargs.get("model") == "random":
        why += f" if installed ({BOHB_INSTALL})"
    return f"backend native ({flag}): {schedule}; {why}; nni {nni}"
