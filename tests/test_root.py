"""The package as a newcomer walks it: the root is a map of what users write, the layers show,
the only import cycle is the algebra's own, classes the operators build cannot be called, and
the workspace members, the README and the notebooks use public names only."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import textwrap
from pathlib import Path

import pytest

import agentcat
from agentcat._meta import NoPublicConstructor

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "agentcat"

DATA_PLANE = {
    "errors",
    "monoids",
    "chunks",
    "_promise",
    "_runtime",
    "_annotations",
    "_structure",
    "_kernel",
}
"""Modules that know nothing of agents (``_meta`` is the metaclass; it imports nothing;
``_kernel`` tells whether agentcat runs in a Jupyter kernel, for the notebook hints)."""
ALGEBRA = {"agent", "streaming", "sequence", "products", "resilience", "fallible", "transducers"}
DESIGNED_CYCLE = {"agent", "streaming", "sequence", "products", "resilience", "fallible"}
"""The operators of ``Agent`` build the combinators, which are agents: the one cycle, by design."""

IMPLEMENTATION = {
    "FunctionAgent",
    "Identity",
    "Pipeline",
    "FallibleSequence",
    "Lifted",
    "Parallel",
    "Fallback",
    "Retry",
    "Catching",
    "Failing",
    "Recovered",
    "MapDeltas",
    "FilterDeltas",
    "FunctionTransducer",
    "Forward",
    "SplitSentences",
    "ProductMonoid",
}
"""Classes users get from operators and functions: in their modules, not at the root."""


def modules() -> dict[str, Path]:
    """Every module of the core, by its name inside the package (``messenger.promises``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts) or "__init__"] = path
    return found


def imports_of(path: Path) -> tuple[set[str], list[str]]:
    """The core modules ``path`` imports (anywhere in it), and those imported inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    hidden: list[str] = []
    known = modules()

    def target(module: str) -> str | None:
        if not module.startswith("agentcat."):
            return None
        name = module.removeprefix("agentcat.")
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found = target(node.module)
            if node.module == "agentcat":  # `from agentcat import errors, monoids`
                found = None
                for alias in node.names:
                    if alias.name in known:
                        names.add(alias.name)
            if found:
                names.add(found)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module:
                    found = target(inner.module)
                    if found:
                        hidden.append(f"{node.name} -> {found}")
    return names, hidden


def graph() -> dict[str, set[str]]:
    return {name: imports_of(path)[0] - {name} for name, path in modules().items()}


def largest_cycle(edges: dict[str, set[str]]) -> set[str]:
    """The largest strongly connected set of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in edges:
        if node not in index:
            visit(node)
    return max(components, key=len)


def test_the_data_plane_imports_nothing_that_knows_an_agent() -> None:
    edges = graph()
    for name in DATA_PLANE:
        above = {target for target in edges[name] if target.split(".")[0] not in DATA_PLANE}
        assert above <= {"_meta"}, f"{name} imports {sorted(above)}"


def test_the_only_import_cycle_is_the_algebras_own() -> None:
    assert largest_cycle(graph()) == DESIGNED_CYCLE


def test_imports_inside_functions_are_the_operators_of_agent_only() -> None:
    for name, path in modules().items():
        _, hidden = imports_of(path)
        if name == "agent":
            assert {h.split(" -> ")[1] for h in hidden} <= DESIGNED_CYCLE, hidden
        else:
            assert hidden == [], f"{name}: {hidden}"


def test_the_root_exports_what_users_write_and_nothing_it_builds_for_them() -> None:
    exported = set(agentcat.__all__)
    assert len(agentcat.__all__) == len(exported), "a name is listed twice"
    assert not exported & IMPLEMENTATION
    for name in agentcat.__all__:
        value = getattr(agentcat, name)
        if isinstance(value, NoPublicConstructor):  # a class only for annotations
            assert name in {"FanOut", "StreamingFanOut"}, name
    for name in IMPLEMENTATION:
        assert not hasattr(agentcat, name), name
    assert {"Message", "MessagePromise", "MessageSequencePromise", "EmbeddedModel"} <= exported
    assert {"monoid_for", "monoid_of", "AgentcatError", "monoids", "errors"} <= exported


def test_the_root_says_the_layout_and_groups_its_names() -> None:
    doc = agentcat.__doc__ or ""
    for layer in ("data plane", "algebra", "messenger"):
        assert layer in doc
    source = (PACKAGE / "__init__.py").read_text(encoding="utf-8")
    groups = re.findall(r"^    # (.+)$", source, re.M)
    assert len(groups) >= 6, groups


def test_every_public_callable_at_the_root_has_a_docstring() -> None:
    for name in agentcat.__all__:
        value = getattr(agentcat, name)
        if callable(value) or inspect.ismodule(value):
            assert inspect.getdoc(value), name


def all_classes() -> list[type]:
    found: list[type] = []
    for info in pkgutil.walk_packages(agentcat.__path__, "agentcat."):
        if info.name.endswith("__main__"):  # running it is the command
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == info.name:
                found.append(value)
    return found


@pytest.mark.parametrize(
    "cls",
    [c for c in all_classes() if isinstance(c, NoPublicConstructor)],
    ids=lambda c: c.__qualname__,
)
def test_a_class_the_operators_build_cannot_be_called(cls: type) -> None:
    with pytest.raises(TypeError, match=r"is not built by calling it: write .+"):
        cls()


# --- what the rest of the workspace imports ---------------------------------------------------


def public_names(module: str) -> set[str]:
    """The names a public module offers: its ``__all__``."""
    if any(part.startswith("_") for part in module.split(".")):
        return set()
    return set(getattr(importlib.import_module(module), "__all__", ()))


def agentcat_imports(source: str) -> list[tuple[str, str]]:
    """``(module, name)`` for every name ``source`` imports from agentcat."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and (node.module == "agentcat" or node.module.startswith("agentcat."))
        ):
            found.extend((node.module, alias.name) for alias in node.names)
        if isinstance(node, ast.Import):
            found.extend(
                (alias.name.rpartition(".")[0], alias.name.rpartition(".")[2])
                for alias in node.names
                if alias.name.startswith("agentcat.")
            )
    return found


def member_sources() -> dict[str, str]:
    sources = {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for folder in ("laws", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
    }
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for number, block in enumerate(re.findall(r"```python\n(.*?)```", readme, re.S), 1):
        sources[f"README.md block {number}"] = textwrap.dedent(block)
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        sources[notebook.name] = code.replace("await ", "")
    return sources


@pytest.mark.parametrize("where", sorted(member_sources()))
def test_the_workspace_uses_public_names_only(where: str) -> None:
    for module, name in agentcat_imports(member_sources()[where]):
        assert name in public_names(module), f"{where}: from {module} import {name}"
