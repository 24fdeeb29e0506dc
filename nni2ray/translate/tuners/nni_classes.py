"""NNI's own tuner classes, run in the driver when ``nni`` is importable there.

``--algorithm-backend`` chooses: ``native`` keeps nni2ray's stand-ins; ``nni`` runs NNI 3.0's
own class for every built-in tuner that has one (an error when it cannot); ``auto`` (run's
and check's default) runs NNI's class where ``nni`` and the class's optional packages are
installed and the stand-in otherwise, with one warning naming the missing package. NNI's
class runs through the adapter that runs custom tuners (NNI's call sequence, parameter ids
and seed handling). Advisors (Hyperband, BOHB) stay on nni2ray's bracket schedule (NNI's
own); under ``nni``/``auto`` NNI's own BOHB model (CG_BOHB) supplies BOHB's configurations.

Nothing here imports nni: the packages are looked up with importlib's finder.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from nni2ray.errors import MissingDependencyError
from nni2ray.experiment import AlgorithmSpec, Experiment, display_path
from nni2ray.notes import Note, Severity
from nni2ray.translate.plan import SearcherCall, SearcherKind, TunePlan
from nni2ray.translate.tuners._common import TunerMapping, installed
from nni2ray.translate.tuners.brackets import bohb_backend

#: The values of ``--algorithm-backend``.
AlgorithmBackend = Literal["auto", "nni", "native"]
BACKENDS: tuple[str, ...] = ("auto", "nni", "native")

#: The install line of NNI itself (with the pins it needs beside ray[tune]).
NNI_INSTALL = "pip install 'nni2ray[nni]'"


@dataclass(frozen=True)
class NniClass:
    """One built-in tuner's class in NNI 3.0 (its ``builtin_algorithms.yml`` entry).

    Attributes:
        class_name: ``module.Class`` inside the ``nni`` package.
        packages: import names it needs beyond nni's own requirements.
        install: the command that installs them.
        class_args: the classArgs NNI's registry adds (Anneal's ``algorithm_name``).
        accepts_class_args: False where NNI constructs the class without classArgs.
        takes_seed: its constructor has a ``seed`` argument (``--seed`` goes there).
    """

    class_name: str
    packages: tuple[str, ...] = ()
    install: str = ""
    class_args: dict[str, Any] = field(default_factory=dict)
    accepts_class_args: bool = True
    takes_seed: bool = False


_HPO = "nni.algorithms.hpo."

#: NNI canonical tuner name -> NNI 3.0's class (advisors and NAS tuners are not here).
NNI_TUNER_CLASSES: dict[str, NniClass] = {
    "TPE": NniClass(_HPO + "tpe_tuner.TpeTuner", takes_seed=True),
    "TPE_legacy": NniClass(
        _HPO + "hyperopt_tuner.HyperoptTuner",
        ("hyperopt",),
        "pip install hyperopt",
        {"algorithm_name": "tpe"},
    ),
    "Anneal": NniClass(
        _HPO + "hyperopt_tuner.HyperoptTuner",
        ("hyperopt",),
        "pip install hyperopt",
        {"algorithm_name": "anneal"},
    ),
    "Random": NniClass(_HPO + "random_tuner.RandomTuner", takes_seed=True),
    "GridSearch": NniClass(_HPO + "gridsearch_tuner.GridSearchTuner", accepts_class_args=False),
    "Batch": NniClass(_HPO + "batch_tuner.BatchTuner", accepts_class_args=False),
    "Evolution": NniClass(_HPO + "evolution_tuner.EvolutionTuner"),
    # GP and Metis call SciPy as SciPy < 1.9 took it: the runtime adapts the call
    # (runtime._user_algorithms.adapt_nni_to_scipy).
    "GP": NniClass(_HPO + "gp_tuner.GPTuner"),
    "Metis": NniClass(_HPO + "metis_tuner.MetisTuner"),
    "PBT": NniClass(_HPO + "pbt_tuner.PBTTuner"),
    "SMAC": NniClass(
        _HPO + "smac_tuner.SMACTuner",
        ("smac", "ConfigSpaceNNI"),
        "pip install 'nni[SMAC]'",
    ),
    "DNGO": NniClass(
        _HPO + "dngo_tuner.DNGOTuner",
        ("pybnn", "torch"),
        # pybnn's own requirements pull torchvision, which DNGO does not use.
        "pip install emcee && pip install --no-deps pybnn",
    ),
}

#: Built-in names whose NNI class is an advisor: nni2ray keeps its bracket schedule.
NNI_ADVISORS = ("Hyperband", "BOHB")


def nni_class_of(name: str | None) -> NniClass | None:
    """NNI's class for a built-in tuner name (canonical), or None (advisors, custom)."""
    return NNI_TUNER_CLASSES.get(name or "")


def missing_packages(cls: NniClass) -> list[str]:
    """What NNI's class needs that is not installed (``nni`` first)."""
    return [p for p in ("nni", *cls.packages) if not installed(p)]


def install_line(missing: list[str], cls: NniClass) -> str:
    """The command that installs what is missing."""
    if "nni" in missing:
        return NNI_INSTALL + (f" and {cls.install}" if cls.install else "")
    return cls.install


def choose_backend(
    spec: AlgorithmSpec,
    exp: Experiment,
    native: TunerMapping,
    backend: str,
    seed: int | None,
) -> TunerMapping:
    """NNI's own class for the tuner, or ``native`` (nni2ray's stand-in).

    Raises:
        MissingDependencyError: ``backend`` is ``nni`` and NNI's class cannot run here
            (nni or the class's package missing). Advisors (Hyperband, BOHB) keep
            nni2ray's bracket schedule under every backend.
    """
    if backend == "native" or spec.is_custom:
        return native
    config = display_path(exp.config_file)
    where = f"{spec.role}.name"
    if spec.name == "BOHB":  # the bracket schedule; NNI's model where it can run
        return bohb_backend(spec, exp, native, backend)
    cls = nni_class_of(spec.name)
    if cls is None:  # an advisor: nni2ray's bracket schedule in both modes
        return native
    missing = missing_packages(cls)
    if missing:
        what = f"NNI's {spec.name} tuner needs {', '.join(missing)}, which is not installed"
        if backend == "nni":
            raise MissingDependencyError(
                what + " (--algorithm-backend nni)",
                file=config,
                field=where,
                hint=install_line(missing, cls) + ", or use --algorithm-backend auto",
            )
        if "nni" in missing:  # the usual case: no NNI at all, the stand-in as before
            return native
        text = f"{what} ({cls.install}); nni2ray's stand-in runs instead"
        note = Note(Severity.WARNING, text, file=config, field=where)
        return TunerMapping(
            native.searcher,
            (note, *native.notes),
            native.scheduler,
            native.extra_parameters,
            native.checkpoint_dirs,
        )
    return _nni_mapping(spec, exp, cls, native, backend, seed)


def _nni_mapping(
    spec: AlgorithmSpec,
    exp: Experiment,
    cls: NniClass,
    native: TunerMapping,
    backend: str,
    seed: int | None,
) -> TunerMapping:
    class_args: dict[str, Any] = {}
    if cls.accepts_class_args:
        class_args = dict(cls.class_args)
        class_args.update(spec.class_args)
        if seed is not None and cls.takes_seed:
            class_args["seed"] = seed
    kwargs: dict[str, Any] = {
        "class_name": cls.class_name,
        "code_directory": None,
        "class_args": class_args,
        "role": spec.role,
        "include_intermediate_results": spec.include_intermediate_results,
        "nni_builtin": spec.name,
        "backend": backend,
        # What runs if NNI's class fails to import in the driver (backend auto).
        "native": {
            "kind": str(native.searcher.kind),
            "kwargs": native.searcher.kwargs,
            "exact": native.searcher.exact,
            "checkpoint_dirs": native.checkpoint_dirs,
        },
    }
    name = spec.name or ""
    call = SearcherCall(SearcherKind.CUSTOM, name, kwargs, exact=True)
    text = f"{name} runs NNI's own {cls.class_name.rpartition('.')[2]} (nni is installed)"
    if seed is not None and not cls.takes_seed:
        text += f"; --seed is not used: NNI's {name} takes no seed"
    note = Note(Severity.EXACT, text, file=display_path(exp.config_file), field=f"{spec.role}.name")
    return TunerMapping(call, (note,), native.scheduler, native.extra_parameters)


def native_plan(plan: TunePlan) -> TunePlan:
    """``plan`` with the stand-in kept in its NNI-class call (``kwargs["native"]``)."""
    call = plan.searcher
    native = call.kwargs["native"]
    searcher = SearcherCall(
        SearcherKind(native["kind"]), call.nni_name, dict(native["kwargs"]), native["exact"]
    )
    return replace(plan, searcher=searcher, checkpoint_dirs=bool(native["checkpoint_dirs"]))
