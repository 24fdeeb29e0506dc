"""Load a user's NNI tuner or assessor class in the driver and keep its first failure.

NNI imports ``className`` from ``codeDirectory`` in its dispatcher process; nni2ray does
the same inside the driver, with the stand-in ``nni`` package importable as ``nni`` so
that ``from nni.tuner import Tuner`` works without NNI installed. A method of the user's
object that raises is reported once, with its traceback, and the run then stops cleanly.
"""

from __future__ import annotations

import contextlib
import importlib
import json
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
from nni2ray.translate import SchedulerKind, SearcherKind, TunePlan
from nni2ray.trials import ResultKey

#: Returned by :meth:`UserAlgorithm.call` when the user's method raised (not a trial status).
CALL_FAILED: Any = type("CallFailed", (), {"__repr__": lambda self: "CALL_FAILED"})()

#: The file, next to ``experiment.json``, that keeps a failed algorithm's traceback.
ERROR_FILE = "algorithm_error.txt"

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
            f"the custom {self.role} raised {self.summary}",
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

    def __init__(self, obj: Any, role: str, file: str | None, class_name: str = "") -> None:
        self.obj, self.role, self.file = obj, role, file
        self.class_name = class_name or type(obj).__name__
        self.failure: AlgorithmFailure | None = None
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
                    f"nni2ray: the custom {self.role} {self.class_name}.{method} did not "
                    f"return within {time.monotonic() - start:.0f} s; the run ends without "
                    "waiting for it",
                    file=sys.stderr,
                )
                raise _Abandoned
        ok, value = outcome[0]
        if ok:
            return value
        raise value

    def fail(self, method: str, exc: BaseException) -> None:
        """Record ``exc`` as this algorithm's failure and print its traceback on stderr."""
        text = mask_text("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        first_line = mask_text((str(exc).splitlines() or [""])[0])
        summary = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
        where = f"{self.class_name}.{method}"
        self.failure = AlgorithmFailure(self.role, self.file, where, summary, text)
        print(f"nni2ray: the custom {self.role} {where} raised:\n{text}", file=sys.stderr, end="")

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
    return UnsupportedError(
        f"{class_name} is not an NNI Tuner (custom advisors that implement NNI's message "
        "dispatcher cannot run on Ray Tune)",
        file=file,
        field=f"{role}.className",
        hint="subclass nni.tuner.Tuner and implement generate_parameters",
    )


def check_custom_algorithms(plan: TunePlan) -> None:
    """Import each custom tuner/advisor/assessor class of the plan (not constructed), as
    ``run`` will once Ray is up: ``check`` and ``run``'s pre-flight refuse, before Ray
    starts, what the run would refuse, with the same line.

    Raises:
        AlgorithmError: the module does not import or has no such class.
        UnsupportedError: a custom tuner or advisor class is not an NNI Tuner.
    """
    if plan.searcher.kind == SearcherKind.CUSTOM:
        kwargs = plan.searcher.kwargs
        role = str(kwargs.get("role", "tuner"))
        cls, file = _find_class(kwargs["class_name"], kwargs.get("code_directory"), role)
        if not is_tuner(cls):
            raise not_a_tuner(kwargs["class_name"], file, role)
    if plan.scheduler.kind == SchedulerKind.CUSTOM:
        kwargs = plan.scheduler.kwargs
        _find_class(kwargs["class_name"], kwargs.get("code_directory"), "assessor")


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
    for part in parts:
        algorithm = getattr(part, "user_algorithm", None)
        if not isinstance(algorithm, UserAlgorithm):
            continue
        algorithm.close()
        failure = failure or algorithm.failure
    if failure is not None:
        meta.update(status=RunStatus.ERROR, error=failure.to_json())
        (output / ERROR_FILE).write_text(failure.traceback, encoding="utf-8")
    return failure


def reported_value(result: dict[str, Any]) -> Any:
    """The metric of a Tune result exactly as the trial reported it.

    Searchers and schedulers receive results flattened (``{"nni_value/default": ...}``);
    the trainable also sends the value as JSON text, which survives flattening.
    """
    text = result.get(ResultKey.VALUE_JSON)
    if isinstance(text, str):
        return json.loads(text)
    if ResultKey.VALUE in result:
        return result[ResultKey.VALUE]
    prefix = ResultKey.VALUE + "/"
    flat = {k[len(prefix) :]: v for k, v in result.items() if k.startswith(prefix)}
    return _unflatten(flat) if flat else None


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, last = key.split("/")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return nested
