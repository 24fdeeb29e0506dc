"""Translate an NNI search space into Ray Tune latent domains, as plain data or live objects.

The mapping itself lives in :mod:`nni2ray.experiment.nni_space` (standard library only, copied
into converted projects); this module wraps it in :class:`DomainCall` values that compare by
value, render as Python source, and build Tune domains on demand. Importing it never imports
Ray.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nni2ray.experiment import (
    NestedOption,
    Parameter,
    SearchSpace,
    nni_space,
    parse_search_space,
)

#: Tune factory for each latent domain kind produced by ``nni_space.latent_spec``.
DOMAIN_KINDS: tuple[str, ...] = ("choice", "randint", "uniform", "loguniform", "randn")


@dataclass(frozen=True)
class DomainCall:
    """One Tune domain as data: ``DomainCall("uniform", (0.001, 0.1))``.

    Attributes:
        kind: the ``ray.tune`` factory name, one of :data:`DOMAIN_KINDS`.
        args: its positional arguments; for ``choice`` a single tuple of categories.
    """

    kind: str
    args: tuple[Any, ...]

    def build(self) -> Any:
        """Return the live Ray Tune domain (imports Ray)."""
        from ray import tune  # lazy: only running or building a plan needs Ray

        if self.kind == "choice":
            return tune.choice(list(self.args[0]))
        return getattr(tune, self.kind)(*self.args)

    def source(self) -> str:
        """Return Python source for the domain, e.g. ``tune.uniform(0.001, 0.1)``."""
        if self.kind == "choice":
            return f"tune.choice({_literal(list(self.args[0]))})"
        return f"tune.{self.kind}({', '.join(_literal(arg) for arg in self.args)})"


def _literal(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, list | tuple):
        items = ", ".join(_literal(item) for item in value)
        return (
            f"[{items}]"
            if isinstance(value, list)
            else f"({items}{',' if len(value) == 1 else ''})"
        )
    if isinstance(value, dict):
        pairs = ", ".join(f"{_literal(key)}: {_literal(item)}" for key, item in value.items())
        return "{" + pairs + "}"
    return repr(value)


def search_space_to_json(space: SearchSpace | dict[str, Any]) -> dict[str, Any]:
    """Return the space as normalised NNI JSON (numbers as floats), ready to embed in code.

    Raises:
        SearchSpaceError: ``space`` is a raw dict that is not a valid search space.
    """
    if not isinstance(space, SearchSpace):
        space = parse_search_space(space, file=None)
    return {parameter.name: _parameter_json(parameter) for parameter in space.parameters}


def _parameter_json(parameter: Parameter) -> dict[str, Any]:
    if parameter.type != "choice":
        return {"_type": parameter.type, "_value": list(parameter.values)}
    return {"_type": "choice", "_value": [_option_json(option) for option in parameter.options]}


def _option_json(option: Any) -> Any:
    if not isinstance(option, NestedOption):
        return option
    nested: dict[str, Any] = {"_name": option.name}
    nested.update((sub.name, _parameter_json(sub)) for sub in option.parameters)
    nested.update(option.constants)
    return nested


def search_space_to_param_space(space: SearchSpace | dict[str, Any]) -> dict[str, DomainCall]:
    """Map an NNI search space to Tune's ``param_space`` over latent keys.

    Decode each trial's config with ``nni_space.decode(search_space_to_json(space), config)``
    to get the NNI parameters; see :mod:`nni2ray.experiment.nni_space` for the key scheme.

    Raises:
        SearchSpaceError: ``space`` is a raw dict that is not a valid search space.
    """
    spec = nni_space.latent_spec(search_space_to_json(space))
    return {key: DomainCall(kind, args) for key, (kind, args) in spec.items()}


def build_param_space(param_space: dict[str, DomainCall]) -> dict[str, Any]:
    """Return ``{latent key: live Tune domain}`` (imports Ray)."""
    return {key: call.build() for key, call in param_space.items()}


def param_space_source(param_space: dict[str, DomainCall], indent: int = 4) -> str:
    """Return a Python dict literal of the domains, one key per line (needs ``from ray import
    tune`` in the generated module)."""
    if not param_space:
        return "{}"
    pad = " " * indent
    lines = [f"{pad}{key!r}: {call.source()}," for key, call in param_space.items()]
    return "{\n" + "\n".join(lines) + "\n}"


def nni_space_source() -> str:
    """Return the source of :mod:`nni2ray.experiment.nni_space`, to copy into a project."""
    return Path(nni_space.__file__).read_text(encoding="utf-8")


def nni_grid_source() -> str:
    """Return the source of :mod:`nni2ray.translate.nni_grid` (standard library only, SciPy
    when present), to copy into a project whose GridSearch covers continuous parameters."""
    from nni2ray.translate import nni_grid

    return Path(nni_grid.__file__).read_text(encoding="utf-8")
