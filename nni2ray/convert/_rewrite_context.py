"""RewriteContext: what a rewrite may look at (bindings in scope) and ask for (imports, helpers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

#: Values bound to each name in a scope; ``None`` stands for a binding whose value is unknown
#: (a parameter, a loop target, an import, ``with ... as``).
Bindings = Mapping[str, Sequence[cst.BaseExpression | None]]


@dataclass
class RewriteContext:
    """Shared state of one file's rewrite pass.

    Attributes:
        bindings: names bound in the scope enclosing the call being rewritten (module-level
            names are included when the function does not rebind them).
        imports: ``(module, name)`` pairs the rewritten code needs (``("ray", "tune")``).
        helpers: names of module-level helper functions to add (see ``_helpers.HELPERS``).
    """

    bindings: Bindings = field(default_factory=dict)
    imports: set[tuple[str, str | None]] = field(default_factory=set)
    helpers: set[str] = field(default_factory=set)

    def need_import(self, module: str, name: str | None = None) -> None:
        self.imports.add((module, name))

    def need_helper(self, name: str) -> None:
        self.helpers.add(name)


class Refusal(str):
    """Why a rewrite left a call alone; the engine turns it into a located note."""
