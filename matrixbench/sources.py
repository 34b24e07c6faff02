"""Versions of code: a hash of a module's source and of every project module it imports.

A method's version, a generator's version and the reference's part of the reference
cache key must change when *any* code they run changes, not only the module that
defines them: a helper module edited under a method would otherwise be compared as if
unchanged, and a cached reference would be served for a problem it no longer matches.
"Project modules" are those whose file lies under the top-level folder of the starting
module's package (``implementations/``, ``matrixbench/``, a plugin's folder) or under
this repository; third-party and standard-library modules are versioned by the
environment that the run file records, not here.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parent.parent


def _file(module: ModuleType | None) -> Path | None:
    path = getattr(module, "__file__", None)
    return Path(path).resolve() if path else None


def _imported_names(tree: ast.AST, package: str) -> list[str]:
    """Absolute names of the modules (and ``from pkg import name`` candidates) a module imports."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            try:
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                    if node.level else (node.module or "")
            except (ImportError, ValueError):
                continue
            names.append(base)
            names += [f"{base}.{a.name}" for a in node.names]
    return names


def _roots(module: ModuleType) -> tuple[Path, ...]:
    top = sys.modules.get(module.__name__.split(".")[0])
    top_file = _file(top)
    if top_file is None:  # a namespace package (a task root without __init__.py): its folders
        return (REPO_ROOT, *(Path(p).resolve() for p in getattr(top, "__path__", [])))
    # a package's folder, or the folder of a top-level module (a plugin file)
    return (REPO_ROOT, top_file.parent)


#: The engine's own modules are not part of a method's code (an edit to the CLI must not
#: make every method "changed"); its generic generators and the helpers methods call are.
ENGINE = REPO_ROOT / "matrixbench"
ENGINE_CODE_FOR_METHODS = (ENGINE / "generators", ENGINE / "accuracy.py", ENGINE / "arrays.py")


def _under(path: Path, roots: tuple[Path, ...]) -> bool:
    if ".venv" in path.parts or "site-packages" in path.parts:
        return False
    if path.is_relative_to(ENGINE) and not any(path == p or path.is_relative_to(p) for p in ENGINE_CODE_FOR_METHODS):
        return False
    return any(path.is_relative_to(r) for r in roots)


@lru_cache(maxsize=None)
def closure_hash(module_name: str) -> str:
    """sha256 (12 hex digits) of the sources of ``module_name`` and of every project
    module it imports, transitively."""
    start = sys.modules.get(module_name)
    if start is None or _file(start) is None:
        return hashlib.sha256(module_name.encode()).hexdigest()[:12]
    roots = _roots(start)
    seen: dict[str, Path] = {}
    todo = [module_name]
    while todo:
        name = todo.pop()
        mod = sys.modules.get(name)
        path = _file(mod)
        if name in seen or path is None or not path.suffix == ".py" or not _under(path, roots):
            continue
        seen[name] = path
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        todo += [n for n in _imported_names(tree, package) if n in sys.modules and n not in seen]
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(name.encode() + b"\0" + seen[name].read_bytes() + b"\0")
    return digest.hexdigest()[:12]
