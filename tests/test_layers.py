"""The import layers hold by rule:
core → models → files / mail / pdf / webhooks / live → permissions → resolvers → schema → execution → server.

Every import counts: module level, function-local, under `if TYPE_CHECKING:`, and a
`strawberry.lazy("module")` reference. An import may point to its own layer or a lower one, never
upward, and the module graph has no cycle (inside a package neither; packages of one layer, such as
files, mail and pdf, may import each other as long as no cycle forms). An edge that must break a
rule is a named exception below, with its reason; an exception whose edge is gone fails too.

`python -m tests.test_layers` prints today's upward edges and cycles, with every edge inside each cycle.
"""

from __future__ import annotations

import ast
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("models",),
    ("files", "mail", "pdf", "webhooks", "live"),
    ("permissions",),
    ("resolvers",),
    ("schema",),
    ("execution",),
    ("server",),
)
RANK = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}
# Product code never imports these; an import of one counts as upward from any layer.
ABOVE_ALL = ("tests", "bench", "tools")
ORDER = " → ".join(" / ".join(packages) for packages in LAYERS)
IMPLIED = ", runs its package"

# {(importer, imported): why}, module names both; the edge is then left out of both checks.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("schema.tickets.types", "schema.customers"): (
        "the GraphQL graph is cyclic: SiteObject.tickets lists Ticket objects and Ticket.object is a "
        "SiteObject; tickets refers to SiteObject lazily (TYPE_CHECKING, strawberry.lazy, one local import "
        "in `_site_object`) so schema.customers can import schema.tickets at module level"
    ),
}


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    file: str  # the importer's file, relative to the repository
    # Every place in the file that makes this edge, as (line, how); how is "import",
    # "function-local import", "TYPE_CHECKING import", "strawberry.lazy", …
    sites: tuple[tuple[int, str], ...]

    @property
    def line(self) -> int:
        return self.sites[0][0]

    @property
    def explicit(self) -> bool:
        """Named by an import, not only run as the package of an imported module."""
        return any(not how.endswith(IMPLIED) for _line, how in self.sites)

    def __str__(self) -> str:
        where = ", ".join(f"{line}" + ("" if how == "import" else f" ({how})") for line, how in self.sites)
        return f"{self.file}:{where}  {self.importer} -> {self.imported}"


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the layered packages, by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for package in RANK:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _package_of(module: str, is_package: bool) -> str:
    return module if is_package else module.rpartition(".")[0]


def _absolute(name: str, level: int, package: str) -> str:
    """`from ..x import y` inside `package` -> the absolute module name."""
    if level == 0:
        return name
    base = package.split(".")
    if level > 1:
        base = base[: -(level - 1)]
    return ".".join([*base, name] if name else base)


def _resolve(dotted: str, modules: Iterable[str]) -> str | None:
    """The module that importing `dotted` runs: the longest known prefix, or None if not ours."""
    known = set(modules)
    parts = dotted.split(".")
    if parts[0] in ABOVE_ALL:
        return dotted
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_lazy(call: ast.Call, lazy_names: set[str]) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr == "lazy" and isinstance(func.value, ast.Name) and func.value.id == "strawberry"
    return isinstance(func, ast.Name) and func.id in lazy_names


def _imports(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    """Every import-like node with how it is reached, walking into functions and `if TYPE_CHECKING:`."""
    lazy_names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "strawberry"
        for alias in node.names
        if alias.name == "lazy"
    }

    def visit(node: ast.AST, how: str) -> Iterator[tuple[ast.AST, str]]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, how
        elif isinstance(node, ast.Call) and _is_lazy(node, lazy_names):
            yield node, "strawberry.lazy"
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            how = "function-local import"
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                yield from visit(statement, "TYPE_CHECKING import")
            for statement in node.orelse:
                yield from visit(statement, how)
            return
        for child in ast.iter_child_nodes(node):
            yield from visit(child, how)

    yield from visit(tree, "import")


def edges_of(module: str, source: str, file: str, modules: Iterable[str], *, is_package: bool = False) -> list[Edge]:
    """The edges from `module` (whose code is `source`) to the modules in `modules`.

    Importing `a.b.c` also runs the packages `a` and `a.b`; those edges count too, except to the
    importer's own packages, which Python always runs before the importer itself.
    """
    known = set(modules)
    package = _package_of(module, is_package)
    tree = ast.parse(source, filename=file)
    targets: list[tuple[str, int, str]] = []
    for node, how in _imports(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            targets += [(alias.name, line, how) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append((sub if sub in known else base, line, how))
        elif isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                name = first.value
                level = len(name) - len(name.lstrip("."))
                targets.append((_absolute(name.lstrip("."), level, package), line, how))

    own_packages = {".".join(module.split(".")[:end]) for end in range(1, module.count(".") + 2)}
    sites: dict[str, list[tuple[int, str]]] = {}
    for dotted, line, how in targets:
        target = _resolve(dotted, known)
        if target is None:
            continue
        parts = target.split(".")
        chain = [(".".join(parts[:end]), how + IMPLIED) for end in range(1, len(parts))]
        for imported, kind in [*chain, (target, how)]:
            if imported in own_packages or (imported not in known and imported != target):
                continue
            if (line, kind) not in sites.setdefault(imported, []):
                sites[imported].append((line, kind))
    return [Edge(module, imported, file, tuple(found)) for imported, found in sites.items()]


def import_graph(root: Path = ROOT) -> list[Edge]:
    files = module_files(root)
    edges: list[Edge] = []
    for module, path in files.items():
        source = path.read_text(encoding="utf-8")
        relative = str(path.relative_to(root))
        edges += edges_of(module, source, relative, files, is_package=path.name == "__init__.py")
    return edges


def rank_of(module: str) -> int:
    top = module.split(".")[0]
    return len(LAYERS) if top in ABOVE_ALL else RANK[top]


def why_upward(edge: Edge) -> str:
    below, above = edge.importer.split(".")[0], edge.imported.split(".")[0]
    return f"{above} is not part of the product" if above in ABOVE_ALL else f"{below} is below {above}"


def upward(edges: Iterable[Edge]) -> list[Edge]:
    # An import of `server.app` also runs `server`: reported once, as the edge to `server.app`.
    return [edge for edge in edges if edge.explicit and rank_of(edge.imported) > rank_of(edge.importer)]


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The groups of two or more nodes that reach each other (Tarjan), each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    nodes = sorted(set(graph) | {target for targets in graph.values() for target in targets})

    def connect(node: str) -> None:
        # Recursive: the module graph is a few hundred nodes deep at most.
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in nodes:
        if node not in index:
            connect(node)
    return sorted(groups)


def shortest_cycle(group: list[str], graph: Mapping[str, Iterable[str]]) -> list[str]:
    """One shortest cycle through the group's first member, as [a, b, …, a]."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph.get(node, ())):
            if target not in members:
                continue
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start] if node != start else [start, start]
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise ValueError(f"{group} is not a cycle")


def checked_edges(edges: Iterable[Edge]) -> list[Edge]:
    return [edge for edge in edges if (edge.importer, edge.imported) not in EXCEPTIONS]


def cycles(edges: Iterable[Edge]) -> list[tuple[list[str], list[Edge], list[Edge]]]:
    """Each cycle group as (members, one shortest cycle's edges, every edge inside the group)."""
    by_pair = {(edge.importer, edge.imported): edge for edge in edges if edge.importer != edge.imported}
    graph: dict[str, set[str]] = {}
    for importer, imported in by_pair:
        graph.setdefault(importer, set()).add(imported)
    found = []
    for group in strongly_connected(graph):
        path = shortest_cycle(group, graph)
        members = set(group)
        inside = [edge for (a, b), edge in sorted(by_pair.items()) if a in members and b in members]
        found.append((group, [by_pair[pair] for pair in pairwise(path)], inside))
    return found


def report(edges: list[Edge], *, every_edge: bool = False) -> list[str]:
    lines = [f"layers: {ORDER}"]
    up = upward(checked_edges(edges))
    lines += [f"upward import: {edge}  ({why_upward(edge)})" for edge in up]
    found = cycles(checked_edges(edges))
    for group, path, inside in found:
        loop = " -> ".join([edge.importer for edge in path] + [path[0].importer])
        lines.append(f"import cycle ({len(group)} modules, {len(inside)} edges inside): {loop}")
        lines += [f"    {edge}" for edge in (inside if every_edge else path)]
    stale = sorted(set(EXCEPTIONS) - {(edge.importer, edge.imported) for edge in edges})
    lines += [f"stale exception: {a} -> {b} is no longer imported; remove it from EXCEPTIONS" for a, b in stale]
    lines += [f"exception without a reason: {a} -> {b}" for (a, b), why in EXCEPTIONS.items() if not why.strip()]
    lines.append(
        f"{len(up)} upward imports, {len(found)} import cycles, {len(edges)} edges between "
        f"{len({e.importer for e in edges} | {e.imported for e in edges})} modules"
    )
    return lines


# -- the checks ---------------------------------------------------------------------------------------


def test_no_upward_imports() -> None:
    up = upward(checked_edges(import_graph()))
    if up:
        lines = [f"{edge}  ({why_upward(edge)})" for edge in up]
        pytest.fail(f"{len(up)} imports run upward against {ORDER}:\n" + "\n".join(lines), pytrace=False)


def test_no_import_cycles() -> None:
    found = cycles(checked_edges(import_graph()))
    message = [f"{len(found)} import cycles:"]
    for group, path, inside in found:
        message.append(f"{', '.join(group)}; one loop:")
        message += [f"    {edge}" for edge in path]
        message.append("  every import inside the group:")
        message += [f"    {edge}" for edge in inside]
    if found:
        pytest.fail("\n".join(message), pytrace=False)


def test_exceptions_are_named_and_still_needed() -> None:
    present = {(edge.importer, edge.imported) for edge in import_graph()}
    stale = sorted(set(EXCEPTIONS) - present)
    assert not stale, f"these exceptions no longer match an import; remove them: {stale}"
    unnamed = [pair for pair, why in EXCEPTIONS.items() if not why.strip()]
    assert not unnamed, f"every exception says why: {unnamed}"


def test_the_reader_sees_every_kind_of_import() -> None:
    modules = {
        "core",
        "core.errors",
        "core.ids",
        "models",
        "models.tickets",
        "schema",
        "schema.tickets",
        "schema.relay",
        "schema.customers",
        "server",
        "server.app",
    }
    source = """
from __future__ import annotations
from typing import TYPE_CHECKING
import strawberry
from strawberry import lazy as later
import core.errors
from schema import relay
from .relay import to_global_id
from . import tickets as _
if TYPE_CHECKING:
    from models.tickets import Ticket
def resolve():
    from server.app import create_app
    import tests.factories
Ref = Annotated["Ticket", strawberry.lazy("schema.tickets")]
Other = Annotated["Ticket", later(".relay")]
"""
    edges = {e.imported: e.sites for e in edges_of("schema.customers", source, "schema/customers.py", modules)}
    assert edges == {
        "core": ((6, "import, runs its package"),),
        "core.errors": ((6, "import"),),
        "schema.relay": ((7, "import"), (8, "import"), (16, "strawberry.lazy")),
        "schema.tickets": ((9, "import"), (15, "strawberry.lazy")),
        "models": ((11, "TYPE_CHECKING import, runs its package"),),
        "models.tickets": ((11, "TYPE_CHECKING import"),),
        "server": ((13, "function-local import, runs its package"),),
        "server.app": ((13, "function-local import"),),
        "tests.factories": ((14, "function-local import"),),
    }
    # `schema` itself is the importer's own package: Python runs it first, so it is no edge.
    upward_to = {e.imported for e in upward(edges_of("schema.customers", source, "x.py", modules))}
    assert upward_to == {"server.app", "tests.factories"}


def test_the_order_is_checked() -> None:
    def edge(importer: str, imported: str) -> Edge:
        return Edge(importer, imported, "x.py", ((1, "import"),))

    same_layer_or_down = [
        edge("files.uploads", "mail.sender"),
        edge("server.app", "core.errors"),
        edge("core.a", "core.b"),
    ]
    assert upward(same_layer_or_down) == []
    up = [
        edge("core.queries", "models.tickets"),
        edge("pdf.forms", "permissions.viewer"),
        edge("server.cli", "bench.run"),
    ]
    assert upward(up) == up


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": set(), "x": {"y"}, "y": {"x"}}
    assert strongly_connected(graph) == [["a", "b", "c"], ["x", "y"]]
    assert shortest_cycle(["a", "b", "c"], graph) == ["a", "b", "c", "a"]
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    edges = [
        Edge("p.a", "p.b", "p/a.py", ((1, "import"),)),
        Edge("p.b", "p.a", "p/b.py", ((2, "import"),)),
        Edge("p.b", "p.c", "p/b.py", ((3, "import"),)),
    ]
    [(group, path, inside)] = cycles(edges)
    assert group == ["p.a", "p.b"] and [e.line for e in path] == [1, 2] and len(inside) == 2


def test_the_scan_covers_the_code() -> None:
    modules = module_files()
    expected = {"core.errors", "permissions.viewer", "server.app", "mail.sender", "schema.schema", "execution.schema"}
    assert expected <= set(modules)
    edges = import_graph()
    assert len(edges) > len(modules), "far too few imports found: the reader is broken"


if __name__ == "__main__":
    print("\n".join(report(import_graph(), every_edge="--short" not in sys.argv)))
