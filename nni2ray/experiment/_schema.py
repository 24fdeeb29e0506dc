"""Check the shapes of a normalised config with the JSON Schema in ``schemas/config.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from nni2ray.experiment._findings import Context, Key, show

_ARTICLES = {"integer": "an integer", "object": "a mapping", "array": "a list"}


@cache
def _validator() -> Draft202012Validator:
    text = resources.files("nni2ray.experiment").joinpath("schemas/config.json").read_text()
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def check_shapes(config: dict[str, Any], ctx: Context) -> None:
    """Record one problem per schema violation, every one of them, sorted by path."""
    errors = sorted(_validator().iter_errors(config), key=lambda e: [str(p) for p in e.path])
    for error in errors:
        path: Key = tuple(error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1]
            hint = _schema(error).get("properties", {}).get(missing, {}).get("x-hint")
            ctx.error((*path, missing), "is required", hint)
        else:
            ctx.error(path, _describe(error, path), _schema(error).get("x-hint"))


def _schema(error: ValidationError) -> dict[str, Any]:
    return dict(error.schema) if isinstance(error.schema, Mapping) else {}


def _describe(error: ValidationError, path: Key) -> str:
    got = f"(got {show(error.instance, path)})"
    schema = _schema(error)
    if error.validator == "type":
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        wanted = " or ".join(_ARTICLES.get(t, f"a {t}") for t in types)
        return f"must be {wanted} {got}"
    if error.validator == "minimum":
        return f"must be >= {schema['minimum']} {got}"
    if error.validator == "enum" and len(schema["enum"]) == 1:
        return f"must be {schema['enum'][0]!r} {got}"
    if error.validator == "enum":
        choices = ", ".join(repr(choice) for choice in schema["enum"])
        return f"must be one of {choices} {got}"
    return f"{error.message} {got}"
