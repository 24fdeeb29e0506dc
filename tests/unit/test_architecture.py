"""The package's shape: imports point down the pipeline, packages keep their privates.

Stage order (a module may import its own package and the ones before it):
errors/notes/secrets/limits/startup <- experiment <- translate <- trials <- results <- runtime
| convert | view | pyapi <- cli. The stand-in ``nni`` (trials/_shim) imports only the standard
library.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "nni2ray"

#: Rank of each top-level part of nni2ray; a module may import its own part and parts of
#: lower rank (runtime, convert and view do not import each other). ``__init__`` is the
#: public facade: it may import any stage lazily, and only the CLI imports it.
RANKS = {
    "__init__": 5.5,
    "__main__": 9,
    "errors": 0,
    "notes": 0,
    "secrets": 0,
    "limits": 0,
    "startup": 0,
    "experiment": 1,
    "translate": 2,
    "trials": 3,
    "results": 4,
    "runtime": 5,
    "convert": 5,
    "view": 5,
    "pyapi": 5,
    "cli": 6,
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_shim" not in p.parts)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every nni2ray module a file imports (absolute names), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from nni2ray.x import _y` imports the private module _y too
            found += [
                (node.lineno, f"{module}.{a.name}")
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
    return [(line, name) for line, name in found if name.split(".")[0] == "nni2ray"]


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_part_has_a_rank() -> None:
    parts = {_part(_module_name(p)) for p in _modules()}
    assert parts <= set(RANKS), sorted(parts - set(RANKS))


def test_imports_follow_the_stage_order() -> None:
    wrong = []
    for path in _modules():
        source = _part(_module_name(path))
        if source == "__init__":
            continue
        for line, target in _imports(path):
            dest = _part(target)
            if dest != source and RANKS[dest] >= RANKS[source]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {source} -> {target}")
    assert wrong == []


def test_no_import_of_another_packages_private_module() -> None:
    wrong = []
    for path in _modules():
        mine = _module_name(path).split(".")[:2]
        for line, target in _imports(path):
            parts = target.split(".")
            private = [n for n in parts[1:] if n.startswith("_") and not n.startswith("__")]
            if private and parts[:2] != mine:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {target}")
    assert wrong == []


def test_no_import_cycle_between_parts() -> None:
    edges: dict[str, set[str]] = {}
    for path in _modules():
        source = _part(_module_name(path))
        for _, target in _imports(path):
            dest = _part(target)
            if dest not in (source, "__init__"):
                edges.setdefault(source, set()).add(dest)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert [part for part in edges if reaches(part, part, set())] == []


def _packages() -> list[str]:
    return sorted(_module_name(p) for p in PACKAGE.rglob("__init__.py") if "_shim" not in p.parts)


@pytest.mark.parametrize("name", _packages())
def test_all_lists_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    defined = _public_definitions(tree)
    if exported is None:
        assert defined == set(), f"{name} defines public names but has no __all__"
        return
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    assert [n for n in exported if not hasattr(module, n)] == []
    assert sorted(defined - set(exported)) == [], f"{name} defines names missing from __all__"


def _public_definitions(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


#: Used by the shim only when present, each behind an ImportError fallback: a real NNI install
#: (for modules the stand-in lacks) and ``schema`` (ClassArgsValidator's checks, as NNI's).
OPTIONAL_FOR_THE_SHIM = {"nni", "schema"}


def test_the_shim_imports_only_the_standard_library() -> None:
    shim = PACKAGE / "trials" / "_shim" / "nni"
    outside = []
    for path in sorted(shim.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in OPTIONAL_FOR_THE_SHIM and top not in sys.stdlib_module_names:
                    outside.append(f"{path.name}:{node.lineno}: {name}")
    assert outside == []
