"""Convert stage: rewrite NNI trial code into native Ray Tune code, plus a launcher and a report."""

from __future__ import annotations

from nni2ray.convert._result import Converted, ConvertResult, Failed, Skipped, Unchanged
from nni2ray.convert._tree import TreeConversion, plan_tree, write_tree


def convert_source(code: str, filename: str = "<string>") -> ConvertResult:
    """Rewrite the NNI trial API calls of one Python module.

    Args:
        code: the module's source text.
        filename: the name used in notes and errors (a path relative to the code folder).

    Returns:
        ``Converted`` with the new source, ``Unchanged`` (byte-identical input) or ``Failed``
        when the source does not parse; every variant carries its notes.
    """
    from nni2ray.convert._engine import convert_code

    return convert_code(code, filename)


__all__ = [
    "ConvertResult",
    "Converted",
    "Failed",
    "Skipped",
    "TreeConversion",
    "Unchanged",
    "convert_source",
    "plan_tree",
    "write_tree",
]
