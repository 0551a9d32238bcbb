"""The package's map (docs/architecture.md) as checks: no import cycle anywhere in `workflow_kit`, and
the runtime's layers import one way: rules (pure) <- storage <- lifecycle <- worker, stores."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workflow_kit"
RUNTIME = "workflow_kit.runtime"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(path): path for path in PACKAGE.rglob("*.py") if "migrations" not in path.relative_to(PACKAGE).parts
}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The nodes under ``if TYPE_CHECKING:`` (imports for annotations, never executed)."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(sub) for sub in ast.walk(node))
    return hidden


def imports(name: str) -> Iterator[str]:
    """Every module `name` imports, at module level or inside a function (a function-level import is
    still an edge of the graph: it only hides a cycle), except under ``TYPE_CHECKING``."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    hidden = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


@cache
def imported(name: str) -> tuple[str, ...]:
    """`imports(name)`, parsed once per module for all the tests here."""
    return tuple(imports(name))


def _graph() -> dict[str, set[str]]:
    return {name: {target for target in imported(name) if target in MODULES and target != name} for name in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root, targets in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(targets)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package() -> None:
    assert _cycles(_graph()) == []


LAYERS = {
    # a layer: the layers (and outside packages) it must not import
    "rules": ("storage", "lifecycle", "worker", "stores", "sqlalchemy"),
    "storage": ("lifecycle", "worker", "stores"),
    "lifecycle": ("worker", "stores"),
    "worker": ("stores",),
    "stores": ("worker",),
}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_the_runtime_layers_import_one_way(layer: str) -> None:
    prefix = f"{RUNTIME}.{layer}"
    forbidden = [f"{RUNTIME}.{name}" if name in LAYERS else name for name in LAYERS[layer]]
    forbidden += ["workflow_kit.kit", "editor_api"]  # the kit hands the runtime what it needs
    wrong = [
        f"{name} imports {target}"
        for name in MODULES
        if name == prefix or name.startswith(prefix + ".")
        for target in imported(name)
        if any(target == bad or target.startswith(bad + ".") for bad in forbidden)
    ]
    assert wrong == []
    assert any(name.startswith(prefix + ".") for name in MODULES), f"no module in {prefix}"


def test_the_runtime_never_imports_the_kit() -> None:
    wrong = [
        f"{name} imports {target}"
        for name in MODULES
        if name.startswith(RUNTIME)
        for target in imported(name)
        if target == "workflow_kit.kit" or target.startswith("editor_api")
    ]
    assert wrong == []


def test_only_the_inngest_backend_imports_the_inngest_sdk() -> None:
    """The kit works without the inngest extra: nothing outside workflow_kit.inngest imports it."""
    inngest = ("inngest", "workflow_kit.inngest")
    wrong = [
        f"{name} imports {target}"
        for name in MODULES
        if not (name == inngest[1] or name.startswith(inngest[1] + "."))
        for target in imported(name)
        if any(target == bad or target.startswith(bad + ".") for bad in inngest)
    ]
    assert wrong == []
