"""How large a document nni2ray walks: the one depth limit and its iterative walker.

Configs, search spaces and NNI's database records are a few levels deep (nested choices
included). Deeper or larger data is refused before anything walks it recursively; YAML
aliases are counted at each use, so a "billion laughs" file is refused too.
"""

from __future__ import annotations

from typing import Any

#: Deeper documents are refused.
MAX_DEPTH = 100

#: Documents with more values than this (every use of a YAML alias counted) are refused.
MAX_VALUES = 1_000_000

#: More text than this in keys and values (every use of a YAML alias counted) is refused
#: before the document is built: 10 KB of aliased strings can otherwise expand to gigabytes.
MAX_EXPANDED_BYTES = 64 * 1024 * 1024

#: Config and search space files larger than this are refused before they are read.
MAX_FILE_BYTES = 32 * 1024 * 1024

#: The reason given for a document deeper than :data:`MAX_DEPTH`.
TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"


def check_size(data: Any, *, max_values: int | None = None) -> None:
    """Walk ``data`` (dicts and lists) without recursion.

    Raises:
        ValueError: with the reason, when ``data`` is deeper than :data:`MAX_DEPTH` or holds
            more than ``max_values`` values.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if max_values is not None and seen > max_values:
            raise ValueError(f"more than {max_values:,} values, counting YAML aliases")
        if depth > MAX_DEPTH:
            raise ValueError(TOO_DEEP)
        if isinstance(item, dict):
            stack.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, list):
            stack.extend((value, depth + 1) for value in item)
