"""The code as a map (issue #16): rooms that show the architecture, enforced.

* The hook runtime (``runtime/``) is standard library only and never imports the commands (or the
  pydantic ``models``).
* Rooms are layered: a module imports only from its own room or from a room listed before it in
  ``LAYERS``; the commands stand on the whole runtime.
* No import cycles between modules -- imports inside functions included: a lazy import is there for
  start-up speed only, never to dodge a cycle.
* No room over 15 modules, no module over 500 lines, at most 205 ``dict[str, Any]`` annotations, and
  the tier list written as a literal once (``runtime/base/kinds.TIERS``).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "lib"
PKG = LIB / "model_strategy"

#: rooms, low to high: each may import from itself and the rooms before it
LAYERS = {
    "runtime": ("base", "settings", "money", "books", "limits", "routing", "entry"),
    "commands": ("base", "knowledge", "usage", "strategy", "render", "cli"),
}
MAX_ROOM, MAX_LINES, MAX_LOOSE_DICTS = 15, 500, 205
TIERS_SPELLED = {"haiku", "sonnet", "opus"}


def modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        parts = list(p.relative_to(LIB).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module of the package ``name`` imports, wherever the import statement is."""
    is_pkg = path.name == "__init__.py"
    here = name.split(".") if is_pkg else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "model_strategy")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and node.module.split(".")[0] == "model_strategy":
                target = node.module
            else:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    out.discard(name)
    return {m for m in out if m in known}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return found


def place(name: str) -> tuple[str, int] | None:
    """(side, rank of its room) of a module under runtime/ or commands/; None for the package root."""
    parts = name.split(".")
    if len(parts) < 3 or parts[1] not in LAYERS:
        return None
    side, room = parts[1], parts[2]
    assert room in LAYERS[side], f"{name}: room {room!r} is not in LAYERS[{side!r}]"
    return side, LAYERS[side].index(room)


def test_no_import_cycles_function_level_imports_included() -> None:
    assert cycles(graph()) == []


def test_rooms_are_layered_and_the_runtime_stands_alone() -> None:
    wrong = []
    for src, targets in graph().items():
        s = place(src)
        for dst in targets:
            d = place(dst)
            if s is None:  # the package root (models.py, __init__) may use the runtime, never the commands
                if d is not None and d[0] == "commands":
                    wrong.append(f"{src} -> {dst}")
                continue
            outside = dst != "model_strategy" if d is None else d[0] != "runtime"
            if s[0] == "runtime" and outside:
                wrong.append(f"{src} -> {dst} (the runtime imports only itself)")
            elif d is not None and d[0] == s[0] and d[1] > s[1]:
                wrong.append(f"{src} -> {dst} (upward)")
    assert wrong == []


def _module_level_imports(tree: ast.Module) -> list[str]:
    """Names imported outside function bodies (a function may import an optional package it needs
    only with the venv, e.g. genai-prices to rebuild the price snapshot)."""
    names: list[str] = []
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.append(node.module)
        todo.extend(ast.iter_child_nodes(node))
    return names


def test_the_runtime_is_standard_library_only() -> None:
    third = [f"{p.relative_to(LIB)}: {n}" for p in (PKG / "runtime").rglob("*.py")
             for n in _module_level_imports(ast.parse(p.read_text()))
             if n.split(".")[0] not in {"model_strategy", *sys.stdlib_module_names}]
    assert third == []


def test_rooms_stay_small_and_modules_short() -> None:
    big_rooms = {str(d.relative_to(LIB)): n for d in PKG.rglob("*") if d.is_dir() and d.name != "__pycache__"
                 if (n := len([p for p in d.glob("*.py") if p.name != "__init__.py"])) > MAX_ROOM}
    long = {str(p.relative_to(LIB)): n for p in PKG.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert big_rooms == {} and long == {}


def test_loose_dicts_are_at_most_half_of_what_they_were() -> None:
    count = sum(p.read_text().count("dict[str, Any]") for p in PKG.rglob("*.py"))
    assert count <= MAX_LOOSE_DICTS, f"{count} dict[str, Any] in lib (≤ {MAX_LOOSE_DICTS}: was 410)"


def test_the_tier_list_is_written_once() -> None:
    spelled = []
    for p in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            elts = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else None
            if elts is None and isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
                elts = node.slice.elts  # Literal["haiku", "sonnet", ...]
            if elts and {e.value for e in elts if isinstance(e, ast.Constant)} >= TIERS_SPELLED:
                spelled.append(str(p.relative_to(LIB)))
    assert spelled == ["model_strategy/runtime/base/kinds.py"]
