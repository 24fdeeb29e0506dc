"""Load a user's NNI tuner or assessor class in the driver and keep its first failure.

NNI imports ``className`` from ``codeDirectory`` in its dispatcher process; nni2ray does
the same inside the driver, with the stand-in ``nni`` package importable as ``nni`` so
that ``from nni.tuner import Tuner`` works without NNI installed. A method of the user's
object that raises is reported once, with its traceback, and the run then stops cleanly,
except in ``receive_trial_result`` and ``trial_end``: there the traceback is kept in
``algorithm_exceptions.txt`` in the run folder, one warning names the algorithm and that
file, and the run goes on (NNI's dispatcher would stall: its thread dies with the error).
"""

from __future__ import annotations

import contextlib
import importlib
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from nni2ray.errors import AlgorithmError, UnsupportedError
from nni2ray.results import RunStatus
from nni2ray.secrets import mask_text
from nni2ray.translate import (
    DISPATCHER_HINT,
    SchedulerKind,
    SearcherKind,
    TunePlan,
    dispatcher_message,
)

#: Returned by :meth:`UserAlgorithm.call` when the user's method raised (not a trial status).
CALL_FAILED: Any = type("CallFailed", (), {"__repr__": lambda self: "CALL_FAILED"})()

#: The file, next to ``experiment.json``, that keeps a failed algorithm's traceback.
ERROR_FILE = "algorithm_error.txt"

#: The file, next to ``experiment.json``, that keeps every traceback of a method that may
#: fail without ending the run (:data:`RECOVERABLE`).
EXCEPTIONS_FILE = "algorithm_exceptions.txt"

#: Methods whose exception is recorded while the run goes on; in any other method (
#: ``generate_parameters``, ``update_search_space``, ``assess_trial``) it ends the run.
RECOVERABLE = frozenset({"receive_trial_result", "trial_end"})

_SHIM_PACKAGE = "nni2ray.trials._shim.nni"
_SHIM_MODULES = ("recoverable", "utils", "tuner", "assessor", "typehint", "trial")

#: Top-level module names nni2ray imported from a code directory, and that directory.
_LOADED_FROM: dict[str, str] = {}


@dataclass(frozen=True)
class AlgorithmFailure:
    """The first exception raised by a user algorithm's method."""

    role: str
    file: str | None
    method: str
    summary: str
    traceback: str
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "file": self.file,
            "method": self.method,
            "error": self.summary,
            "traceback": self.traceback,
        }

    def error(self, saved_to: Path | None = None) -> AlgorithmError:
        hint = f"traceback above and in {saved_to}" if saved_to else "traceback above"
        return AlgorithmError(
            f"{self.title or 'the custom ' + self.role} raised {self.summary}",
            file=self.file,
            field=self.method,
            hint=hint,
        )


class _Abandoned(Exception):
    """A call the run stopped waiting for."""


def _serve(calls: queue.Queue[Callable[[], None]]) -> None:
    while True:
        calls.get()()


class UserAlgorithm:
    """A user's tuner or assessor object; :meth:`call` runs its methods and keeps failures."""

    def __init__(
        self, obj: Any, role: str, file: str | None, class_name: str = "", title: str = ""
    ) -> None:
        self.obj, self.role, self.file = obj, role, file
        self.class_name = class_name or type(obj).__name__
        #: How messages name it: ``the custom tuner``, ``NNI's TPE tuner``.
        self.title = title or f"the custom {role}"
        self.failure: AlgorithmFailure | None = None
        #: Exceptions of :data:`RECOVERABLE` methods, the run went on after each.
        self.recovered: list[AlgorithmFailure] = []
        #: Set by the driver: the run folder, where :data:`EXCEPTIONS_FILE` is written.
        self.output: Path | None = None
        #: Set by the driver: True once the run must end (deadline, Ctrl-C). While it is
        #: set, a call runs in this algorithm's own thread and is abandoned when the run
        #: must end, so a blocking tuner cannot stall the run.
        self.stop_when: Callable[[], bool] | None = None
        self.abandoned = False
        self._calls: queue.Queue[Callable[[], None]] | None = None

    def call(
        self, method: str, *args: Any, passthrough: tuple[str, ...] = (), **kwargs: Any
    ) -> Any:
        """Call ``obj.method``; on an exception record it, print it and return CALL_FAILED.

        Exceptions whose class name is in ``passthrough`` (``NoMoreTrialError``) propagate.
        """
        if self.failure is not None or self.abandoned:
            return CALL_FAILED
        try:
            if self.stop_when is None:
                return getattr(self.obj, method)(*args, **kwargs)
            return self._guarded(method, args, kwargs)
        except _Abandoned:
            return CALL_FAILED
        except Exception as exc:
            if type(exc).__name__ in passthrough:
                raise
            if method in RECOVERABLE:
                self.recover(method, exc)
            else:
                self.fail(method, exc)
            return CALL_FAILED

    def _guarded(self, method: str, args: Any, kwargs: Any) -> Any:
        """Run the call in the algorithm's thread; wait while the run may go on."""
        assert self.stop_when is not None
        if self._calls is None:
            self._calls = queue.Queue()
            threading.Thread(
                target=_serve, args=(self._calls,), name=f"nni2ray-{self.role}", daemon=True
            ).start()
        done = threading.Event()
        outcome: list[Any] = []

        def run() -> None:
            try:
                outcome.append((True, getattr(self.obj, method)(*args, **kwargs)))
            except BaseException as exc:  # handed to the caller below
                outcome.append((False, exc))
            finally:
                done.set()

        start = time.monotonic()
        self._calls.put(run)
        while not done.wait(0.1):  # signal handlers run between the waits
            if self.stop_when():
                self.abandoned = True
                print(
                    f"nni2ray: {self.title} {self.class_name}.{method} did not "
                    f"return within {time.monotonic() - start:.0f} s; the run ends without "
                    "waiting for it",
                    file=sys.stderr,
                )
                raise _Abandoned
        ok, value = outcome[0]
        if ok:
            return value
        raise value

    def _failure(self, method: str, exc: BaseException) -> AlgorithmFailure:
        text = mask_text("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        first_line = mask_text((str(exc).splitlines() or [""])[0])
        summary = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
        where = f"{self.class_name}.{method}"
        return AlgorithmFailure(self.role, self.file, where, summary, text, self.title)

    def fail(self, method: str, exc: BaseException) -> None:
        """Record ``exc`` as this algorithm's failure and print its traceback on stderr."""
        self.failure = failure = self._failure(method, exc)
        where = failure.method
        print(
            f"nni2ray: {self.title} {where} raised:\n{failure.traceback}", file=sys.stderr, end=""
        )

    def recover(self, method: str, exc: BaseException) -> None:
        """Keep ``exc`` (a :data:`RECOVERABLE` method's) in the exceptions file; the run goes
        on. The first one is announced by one warning line naming the algorithm and file."""
        failure = self._failure(method, exc)
        self.recovered.append(failure)
        if self.output is not None:
            write_exceptions(self.output, [failure], append=True)
        if len(self.recovered) == 1:
            where = self.output / EXCEPTIONS_FILE if self.output else EXCEPTIONS_FILE
            print(
                f"nni2ray: warning: {self.title} {failure.method} raised {failure.summary}; "
                f"the run goes on (this traceback and any later one: {where})",
                file=sys.stderr,
            )

    def close(self) -> None:
        """NNI's end of the dispatcher loop: ``_on_exit``, also after a method raised."""
        if self.abandoned:  # a call is still running in its thread
            return
        on_exit = getattr(self.obj, "_on_exit", None)
        if not callable(on_exit):
            return
        try:
            on_exit()
        except Exception as exc:
            if self.failure is None:
                self.fail("_on_exit", exc)


def load_algorithm(
    class_name: str, code_directory: str | None, class_args: dict[str, Any], role: str
) -> UserAlgorithm:
    """Import ``module.Class`` from ``code_directory`` and construct it with ``class_args``.

    Raises:
        AlgorithmError: the module does not import, the class is missing, or its
            constructor raised (the traceback is printed on stderr first).
    """
    cls, file = _find_class(class_name, code_directory, role)
    attr = class_name.rpartition(".")[2]
    try:
        obj = cls(**class_args)
    except Exception as exc:
        failed = UserAlgorithm(None, role, file, class_name=attr)
        failed.fail("__init__", exc)
        assert failed.failure is not None
        raise failed.failure.error() from exc
    return UserAlgorithm(obj, role, file)


def _find_class(class_name: str, code_directory: str | None, role: str) -> tuple[Any, str | None]:
    """``module.Class`` imported from ``code_directory``, and the module's file."""
    module_name, _, attr = class_name.rpartition(".")
    where = f"{role}.className"
    if not module_name:
        raise AlgorithmError(
            f"className must be module.Class (got {class_name!r})",
            field=where,
            hint="write e.g. my_tuner.MyTuner",
        )
    module = _import(module_name, code_directory, role, where)
    file = getattr(module, "__file__", None)
    cls = getattr(module, attr, None)
    if cls is None:
        raise AlgorithmError(
            f"module {module_name} has no class {attr}",
            file=file,
            field=where,
            hint="check className in the config",
        )
    return cls, file


def is_tuner(obj: Any) -> bool:
    """A class or object with NNI's Tuner methods (an NNI advisor has none)."""
    return hasattr(obj, "generate_multiple_parameters") or hasattr(obj, "generate_parameters")


def not_a_tuner(class_name: str, file: str | None, role: str) -> UnsupportedError:
    """``run``'s refusal of a class that is no Tuner (the text is translate's, which refuses
    a class that is a dispatcher in its source)."""
    return UnsupportedError(
        dispatcher_message(class_name),
        file=file,
        field=f"{role}.className",
        hint=DISPATCHER_HINT,
    )


def check_custom_algorithms(plan: TunePlan) -> None:
    """Import each custom tuner/advisor/assessor class of the plan (not constructed), as
    ``run`` will once Ray is up: ``check`` and ``run``'s pre-flight refuse, before Ray
    starts, what the run would refuse, with the same line.

    Raises:
        AlgorithmError: the module does not import or has no such class.
        UnsupportedError: a custom tuner or advisor class is not an NNI Tuner.
    """
    # NNI's own tuner classes (``nni_builtin``) are the driver's _algorithm_backend's matter.
    if plan.searcher.kind == SearcherKind.CUSTOM and not plan.searcher.kwargs.get("nni_builtin"):
        kwargs = plan.searcher.kwargs
        role = str(kwargs.get("role", "tuner"))
        cls, file = _find_class(kwargs["class_name"], kwargs.get("code_directory"), role)
        if not is_tuner(cls):
            raise not_a_tuner(kwargs["class_name"], file, role)
    if plan.scheduler.kind == SchedulerKind.CUSTOM:
        kwargs = plan.scheduler.kwargs
        _find_class(kwargs["class_name"], kwargs.get("code_directory"), "assessor")


class NniImportError(AlgorithmError):
    """NNI's own algorithm class does not import in the driver (``--algorithm-backend auto``
    falls back to the stand-in)."""


def load_nni_algorithm(
    class_name: str, class_args: dict[str, Any], role: str, title: str
) -> UserAlgorithm:
    """Import NNI's own ``class_name`` (see :func:`import_nni_class`) and construct it.

    Raises:
        NniImportError: the class does not import (its traceback is printed on stderr).
        AlgorithmError: its constructor raised (the traceback is printed on stderr first).
    """
    module_name, _, attr = class_name.rpartition(".")
    cls = import_nni_class(class_name, role)
    file = getattr(sys.modules.get(module_name), "__file__", None)
    try:
        obj = cls(**class_args)
    except Exception as exc:
        failed = UserAlgorithm(None, role, file, class_name=attr, title=title)
        failed.fail("__init__", exc)
        assert failed.failure is not None
        raise failed.failure.error() from exc
    return UserAlgorithm(obj, role, file, title=title)


def import_nni_class(class_name: str, role: str = "tuner") -> Any:
    """Import NNI's own ``module.Class`` from the installed ``nni``.

    The stand-in ``nni`` package a custom algorithm's import left in ``sys.modules`` is
    taken out first, so that the real one is imported.

    Raises:
        NniImportError: it does not import (nni or one of its packages missing or broken).
    """
    module_name, _, attr = class_name.rpartition(".")
    shim = sys.modules.get("nni")
    if shim is not None and getattr(shim, "__name__", "") == _SHIM_PACKAGE:
        for name in [n for n in sys.modules if n == "nni" or n.startswith("nni.")]:
            del sys.modules[name]
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:
        first = (str(exc).splitlines() or [""])[0]
        raise NniImportError(
            f"cannot import NNI's {class_name} ({type(exc).__name__}: {first})",
            field=f"{role}.name",
            hint="pip install 'nni2ray[nni]' (NNI 3.0), or --algorithm-backend native",
        ) from exc
    _quiet_nni_logging()
    adapt_nni_to_scipy()
    return cls


#: NNI 3.0's modules that call ``scipy.optimize.minimize`` as SciPy < 1.9 took it (GP's and
#: Metis's acquisition optimisers).
_OLD_SCIPY_CALLERS = (
    "nni.algorithms.hpo.gp_tuner.util",
    "nni.algorithms.hpo.metis_tuner.lib_acquisition_function",
)


def adapt_nni_to_scipy() -> None:
    """Give NNI 3.0's GP and Metis the ``minimize`` they were written for.

    They pass a 2-D ``x0`` (SciPy >= 1.11 raises "'x0' must only have one dimension") and
    read ``res.fun[0]`` (SciPy >= 1.9 returns a float): measured with 1.9.3, 1.10.1, 1.11.4
    and 1.17.1; no older SciPy installs on Python 3.11. The wrapper flattens ``x0`` and
    returns ``fun`` as a one-element array where ``x0`` was 2-D, in those modules only; the
    algorithm itself is unchanged. Modules not imported yet are left alone (each NNI class
    import calls this again).
    """
    for name in _OLD_SCIPY_CALLERS:
        module = sys.modules.get(name)
        real = getattr(module, "minimize", None)
        if module is None or real is None or getattr(real, "_nni2ray_adapted", False):
            continue
        setattr(module, "minimize", _flat_minimize(real))  # noqa: B010 (mypy: ModuleType)


def _flat_minimize(real: Callable[..., Any]) -> Callable[..., Any]:
    import numpy as np

    def minimize(fun: Any, x0: Any, *args: Any, **kwargs: Any) -> Any:
        two_d = np.ndim(x0) > 1
        result = real(fun, np.ravel(x0), *args, **kwargs)
        if two_d:
            result.fun = np.atleast_1d(result.fun)
        return result

    minimize._nni2ray_adapted = True  # type: ignore[attr-defined]
    return minimize


def _quiet_nni_logging() -> None:
    """NNI logs every proposal at INFO on stdout outside its dispatcher; keep warnings."""
    import logging

    logging.getLogger("nni").setLevel(logging.WARNING)


def write_exceptions(output: Path, failures: list[AlgorithmFailure], append: bool) -> None:
    """Write (or append) ``failures``' tracebacks to :data:`EXCEPTIONS_FILE` in ``output``."""
    blocks = [
        f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {f.title} {f.method} raised "
        f"{f.summary}; the run went on\n{f.traceback}"
        for f in failures
    ]
    with (output / EXCEPTIONS_FILE).open("a" if append else "w", encoding="utf-8") as handle:
        handle.write("".join(blocks))


def _import(module_name: str, code_directory: str | None, role: str, where: str) -> ModuleType:
    top = module_name.split(".")[0]
    if code_directory is not None and _LOADED_FROM.get(top, code_directory) != code_directory:
        # Another experiment's module of the same name: import this directory's own.
        for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
            del sys.modules[name]
    with _stand_in_nni(), _on_sys_path(code_directory):
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            text = mask_text("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
            print(f"nni2ray: importing the custom {role} failed:\n{text}", file=sys.stderr, end="")
            first = (str(exc).splitlines() or [""])[0]
            raise AlgorithmError(
                f"cannot import {module_name} ({type(exc).__name__}: {first})",
                file=code_directory,
                field=where,
                hint="the module must import with codeDirectory on sys.path",
            ) from exc
    if code_directory is not None:
        _LOADED_FROM[top] = code_directory
    return module


@contextlib.contextmanager
def _on_sys_path(directory: str | None) -> Iterator[None]:
    # NNI appends codeDirectory to the dispatcher's sys.path; nni2ray removes it again.
    added = directory is not None and directory not in sys.path
    if added:
        sys.path.append(str(directory))
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(str(directory))


@contextlib.contextmanager
def _stand_in_nni() -> Iterator[None]:
    """Make ``import nni`` give the stand-in while the user's module is imported.

    The stand-in's own modules are registered under ``nni.*`` (one copy of every class,
    so ``nni.NoMoreTrialError`` is the class nni2ray catches). A real nni already imported
    in the driver is put back afterwards; otherwise the aliases stay, for user code that
    imports ``nni`` inside its methods.
    """
    package = importlib.import_module(_SHIM_PACKAGE)
    aliases = {"nni": package}
    for name in _SHIM_MODULES:
        aliases[f"nni.{name}"] = importlib.import_module(f"{_SHIM_PACKAGE}.{name}")
    real = {n: m for n, m in sys.modules.items() if n == "nni" or n.startswith("nni.")}
    real = {n: m for n, m in real.items() if m is not aliases.get(n)}
    for name in real:
        del sys.modules[name]
    sys.modules.update(aliases)
    try:
        yield
    finally:
        if real:
            for name in aliases:
                sys.modules.pop(name, None)
            sys.modules.update(real)


def close_algorithms(output: Path, meta: dict[str, Any], *parts: Any) -> AlgorithmFailure | None:
    """End the run's user algorithms; on a failure record it in ``meta`` and a file.

    ``parts`` are the run's searcher and scheduler; those that drive a user algorithm
    have a ``user_algorithm`` attribute. Returns the first failure, if any.
    """
    failure = None
    recovered = []
    for part in parts:
        algorithm = getattr(part, "user_algorithm", None)
        if not isinstance(algorithm, UserAlgorithm):
            continue
        algorithm.close()
        failure = failure or algorithm.failure
        if algorithm.recovered and algorithm.output is None:  # not written while it ran
            write_exceptions(output, algorithm.recovered, append=False)
        recovered += [
            {"role": f.role, "method": f.method, "error": f.summary} for f in algorithm.recovered
        ]
    if recovered:
        meta["algorithmExceptions"] = {
            "file": EXCEPTIONS_FILE,
            "count": len(recovered),
            "first": recovered[0],
        }
    if failure is not None:
        meta.update(status=RunStatus.ERROR, error=failure.to_json())
        (output / ERROR_FILE).write_text(failure.traceback, encoding="utf-8")
    return failure
