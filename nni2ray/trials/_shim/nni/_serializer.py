"""NNI 3.0's ``trace``, ``dump`` and ``load`` for the objects trials pass them, in the
standard library (NNI uses json-tricks and cloudpickle).

Behaviour kept from NNI:

* ``trace(cls)`` returns a subclass whose instances carry ``trace_symbol`` (the original
  class), ``trace_args`` and ``trace_kwargs``; with ``kw_only`` (the default) arguments
  are stored by keyword where the signature allows. ``trace(func)`` returns a function
  whose results carry the same (``None`` becomes an empty traced object).
* ``dump`` writes a traced object as ``{"__symbol__": "path:module.Name", "__args__":
  [...], "__kwargs__": {...}}`` (empty parts left out), a class or function as
  ``{"__nni_type__": "path:module.name"}``, and any other object with a ``__dict__`` as
  ``{"__nni_obj__": base64 pickle}`` (at most ``pickle_size_limit`` bytes). NaN allowed.
* ``load`` rebuilds all three (a traced object is constructed again, traced).

Differences: no pandas/datetime/complex/set encodings of json-tricks; a class or function
that cannot be imported by its path is pickled with ``pickle`` (NNI: cloudpickle), so a
function defined in ``__main__`` cannot be dumped.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import json
import pickle
from typing import IO, Any

from . import _wire

_MISSING = object()


class SerializableObject:
    """What a traced function that returned None gives back (as NNI's)."""

    def __init__(self, symbol: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
        self.__dict__.update(_nni_symbol=symbol, _nni_args=args, _nni_kwargs=kwargs)

    trace_symbol = property(lambda self: self.__dict__["_nni_symbol"])
    trace_args = property(lambda self: self.__dict__["_nni_args"])
    trace_kwargs = property(lambda self: self.__dict__["_nni_kwargs"])

    def get(self) -> Any:
        return trace(self.trace_symbol)(*self.trace_args, **self.trace_kwargs)

    def __repr__(self) -> str:
        parts = [f"type={getattr(self.trace_symbol, '__name__', self.trace_symbol)}"]
        parts += [repr(a) for a in self.trace_args]
        parts += [f"{k}={v!r}" for k, v in self.trace_kwargs.items()]
        return f"SerializableObject({', '.join(parts)})"


def is_traceable(obj: Any) -> bool:
    return not isinstance(obj, type) and all(
        hasattr(obj, name) for name in ("trace_symbol", "trace_args", "trace_kwargs")
    )


def trace(cls_or_func: Any = None, *, kw_only: bool = True, inheritable: bool = False) -> Any:
    """Record how objects are made, so that :func:`dump` can write them (``@trace`` and
    ``@trace(...)``)."""

    def wrap(target: Any) -> Any:
        if getattr(target, "_traced", False):
            return target
        wrapped: Any
        if isinstance(target, type):
            wrapped = _trace_class(target, kw_only)
        elif callable(target):
            wrapped = _trace_function(target, kw_only)
        else:
            raise TypeError(f"{target!r} of type {type(target).__name__} cannot be traced")
        wrapped._traced = True
        return wrapped

    return wrap if cls_or_func is None else wrap(cls_or_func)


def _arguments(
    func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], kw_only: bool, skip_self: bool
) -> tuple[list[Any], dict[str, Any]]:
    """Positional arguments turned into keyword ones where the signature names them."""
    if not kw_only:
        return list(args), dict(kwargs)
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return list(args), dict(kwargs)
    if skip_self:
        parameters = parameters[1:]
    positional: list[Any] = []
    named: dict[str, Any] = {}
    for index, value in enumerate(args):
        if index >= len(parameters):
            raise TypeError(f"{func} receives an extra argument: {value!r}")
        kind = parameters[index].kind
        if kind is inspect.Parameter.POSITIONAL_ONLY:
            positional.append(value)
        elif kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            named[parameters[index].name] = value
        else:  # *args from here on: keep every positional argument as it was given
            positional, named = list(args), {}
            break
    named.update(kwargs)
    return positional, named


def _inject(obj: Any, symbol: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    obj.__dict__.update(_nni_symbol=symbol, _nni_args=args, _nni_kwargs=kwargs)
    return obj


_TRACE_PROPERTIES = {
    "trace_symbol": property(lambda self: self.__dict__["_nni_symbol"]),
    "trace_args": property(lambda self: self.__dict__["_nni_args"]),
    "trace_kwargs": property(lambda self: self.__dict__["_nni_kwargs"]),
}


def _trace_class(base: type, kw_only: bool) -> type:
    base_init: Any = base.__dict__.get("__init__") or getattr(base, "__init__")  # noqa: B009

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        stored_args, stored_kwargs = _arguments(base_init, args, kwargs, kw_only, True)
        _inject(self, base, stored_args, stored_kwargs)
        base_init(self, *stored_args, **stored_kwargs)

    namespace: dict[str, Any] = dict(_TRACE_PROPERTIES, __init__=__init__, __wrapped__=base)
    for attribute in ("__module__", "__qualname__", "__doc__"):
        if hasattr(base, attribute):
            namespace[attribute] = getattr(base, attribute)
    return type(base.__name__, (base,), namespace)


def _trace_function(func: Any, kw_only: bool) -> Any:
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        stored_args, stored_kwargs = _arguments(func, args, kwargs, kw_only, False)
        result = func(*stored_args, **stored_kwargs)
        if result is None:
            return SerializableObject(func, stored_args, stored_kwargs)
        if hasattr(result, "__dict__") and not isinstance(result, type):
            for name, prop in _TRACE_PROPERTIES.items():
                if not hasattr(type(result), name):
                    setattr(type(result), name, prop)
            return _inject(result, func, stored_args, stored_kwargs)
        if isinstance(result, (int, float, str, list, tuple, dict)) and not isinstance(
            result, bool
        ):
            traced_type = type(type(result).__name__, (type(result),), dict(_TRACE_PROPERTIES))
            return _inject(traced_type(result), func, stored_args, stored_kwargs)
        raise TypeError(f"cannot add trace information to a {type(result).__name__}")

    return wrapper


def _path_of(symbol: Any) -> str | None:
    symbol = getattr(symbol, "__wrapped__", symbol)
    module = getattr(symbol, "__module__", None)
    name = getattr(symbol, "__name__", None)
    if not module or not name or module == "__main__":
        return None
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    return f"path:{module}.{name}" if getattr(found, "__wrapped__", found) is symbol else None


def _hybrid_name(symbol: Any, pickle_size_limit: int) -> str:
    path = _path_of(symbol)
    if path is not None:
        return path
    data = pickle.dumps(symbol)
    if 0 < pickle_size_limit < len(data):
        raise ValueError(f"pickle of {symbol!r} is larger than pickle_size_limit")
    return "bytes:" + base64.b64encode(data).decode()


def _from_hybrid_name(text: str) -> Any:
    if text.startswith("bytes:"):
        return pickle.loads(base64.b64decode(text[len("bytes:") :]))
    text = text.removeprefix("path:")
    module, _, name = text.rpartition(".")
    return getattr(importlib.import_module(module), name)


def dump(
    obj: Any,
    fp: IO[str] | None = None,
    *,
    use_trace: bool = True,
    pickle_size_limit: int = 4096,
    allow_nan: bool = True,
    **json_kwargs: Any,
) -> str | None:
    """Serialise ``obj`` as NNI's ``nni.dump`` does (see the module text).

    Returns:
        The JSON text, or None when it was written to ``fp``.
    """

    def encode(value: Any) -> Any:
        if use_trace and is_traceable(value):
            data: dict[str, Any] = {"__symbol__": _hybrid_name(value.trace_symbol, 0)}
            if value.trace_args:
                data["__args__"] = list(value.trace_args)
            if value.trace_kwargs:
                data["__kwargs__"] = dict(value.trace_kwargs)
            return data
        if isinstance(value, type) or inspect.isroutine(value):
            return {"__nni_type__": _hybrid_name(value, pickle_size_limit)}
        try:
            return _wire.to_json_value(value)
        except TypeError:
            pass
        if hasattr(value, "__dict__") or hasattr(value, "__slots__"):
            data_bytes = pickle.dumps(value)
            if 0 < pickle_size_limit < len(data_bytes):
                raise ValueError(
                    f"pickle of {type(value).__name__} is larger than pickle_size_limit "
                    f"({pickle_size_limit}); decorate its class with @nni.trace"
                )
            return {"__nni_obj__": base64.b64encode(data_bytes).decode()}
        raise TypeError(f"nni.dump cannot serialise a {type(value).__name__}")

    text = json.dumps(obj, default=encode, allow_nan=allow_nan, **json_kwargs)
    if fp is None:
        return text
    fp.write(text)
    return None


def _decode(data: dict[str, Any]) -> Any:
    if "__symbol__" in data:
        symbol = _from_hybrid_name(data["__symbol__"])
        return trace(symbol)(*data.get("__args__", []), **data.get("__kwargs__", {}))
    if "__nni_type__" in data and len(data) == 1:
        return _from_hybrid_name(data["__nni_type__"])
    if "__nni_obj__" in data and len(data) == 1:
        return pickle.loads(base64.b64decode(data["__nni_obj__"]))
    return data


def load(string: str | None = None, *, fp: IO[str] | None = None, **json_kwargs: Any) -> Any:
    """Parse text written by :func:`dump` (or NNI's) from ``string`` or from ``fp``."""
    for key in ("ignore_comments", "preserve_order"):
        json_kwargs.pop(key, None)
    json_kwargs.setdefault("object_hook", _decode)
    if string is not None:
        if not isinstance(string, (str, bytes, bytearray)):
            raise TypeError("nni.load expects a string; use nni.load(fp=file) for a file")
        return json.loads(string, **json_kwargs)
    if fp is None:
        raise ValueError("nni.load needs a string or fp")
    return json.load(fp, **json_kwargs)


__all__ = ["dump", "is_traceable", "load", "trace"]
