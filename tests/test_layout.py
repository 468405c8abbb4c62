"""The code's layout (README, "How the code is laid out"): which top-level package may import which, no
import cycle between modules, and no module over the ~400-line guide. Reads the source with ``ast`` (in a
process of its own: import_graph); imports nothing from the project, so it needs neither the model nor the
index."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("embeddings", "rag", "api", "eval")
# The arrows allowed between top-level packages: each package only reaches down.
ALLOWED = {
    "embeddings": set(),
    "rag": {"embeddings"},
    "api": {"rag", "embeddings"},
    "eval": {"rag", "embeddings"},
}
# The `vraagbaak` command (rag/cli/) is the application's entry point: `vraagbaak serve` starts the
# API, so rag/cli/serve.py alone may import api/ (nothing in api/ imports rag.cli, so no cycle).
ENTRY_POINT_ARROWS = {("rag.cli.serve", "api")}
# The guide is "modules ≤ ~400 lines"; a module past this bound is split where it naturally divides
# (rag/search/stores/pgserver_local.py, at 402, is within it).
MAX_LINES = 410


def modules() -> dict[str, Path]:
    """Every module of the packages by dotted name (a package by its own name, for its __init__)."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The project modules ``path`` imports, at the top or inside a function (an import deferred to
    a function still ties the two modules together); not those under ``if TYPE_CHECKING``, which never
    run."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: from the module's own package
                    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                    base = ".".join(package[:len(package) - child.level + 1] + ([base] if base else []))
                for alias in child.names:  # "from rag.answer import abstain" imports a module
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
            visit(child)

    visit(tree)
    return {name for name in found if name.split(".")[0] in PACKAGES}


@lru_cache(maxsize=1)
def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (``imports``), parsed in a Python process of its own:
    Python 3.11.7's ``ast.parse`` keeps its recursion counter in state all threads share (CPython
    gh-106905, fixed in 3.11.8), and the session's in-process servers run threads of their own — in the
    test process a parse failed with "AST constructor recursion depth mismatch" on a fresh machine."""
    out = subprocess.run([sys.executable, __file__], capture_output=True, text=True, check=True, timeout=120)
    return {module: set(targets) for module, targets in json.loads(out.stdout).items()}


def test_top_level_packages_only_import_downwards():
    wrong = []
    for module, targets in import_graph().items():
        path = modules()[module]
        package = module.split(".")[0]
        for target in targets:
            top = target.split(".")[0]
            if top != package and top not in ALLOWED[package] and (module, top) not in ENTRY_POINT_ARROWS:
                wrong.append(f"{path.relative_to(ROOT)} imports {target} ({package} → {top})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_modules():
    known = set(modules())
    graph = {m: {t for t in targets if t in known and t != m} for m, targets in import_graph().items()}
    cycles, state = [], {}

    def walk(node: str, stack: list[str]) -> None:  # depth-first; a grey node met again closes a cycle
        state[node] = "grey"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "grey":
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                walk(nxt, stack)
        stack.pop()
        state[node] = "black"

    for module in sorted(graph):
        if module not in state:
            walk(module, [])
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_the_line_guide(package):
    long = {str(p.relative_to(ROOT)): n for m, p in modules().items() if m.split(".")[0] == package
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"over {MAX_LINES} lines (split where the module naturally divides): {long}"


if __name__ == "__main__":  # import_graph's worker: the graph as JSON on stdout
    known = set(modules())
    print(json.dumps({module: sorted(imports(path, module, known)) for module, path in modules().items()}))
