"""The package's architecture, enforced: who may import whom.

Every ``import`` statement in ``mailguard/`` (also those inside functions) is read with
``ast``, resolved to a module of the package, and checked against the layer rules that
docs/architecture.md describes. A later change that breaks a rule fails here, naming the
importing file and the module it imports.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "mailguard"

# The parts of the package, lowest first. A part may import only parts listed before it
# (and itself); ``errors`` is shared by all.
LAYERS: dict[str, frozenset[str]] = {
    "errors": frozenset(),
    "domain": frozenset(),
    "engine": frozenset({"errors", "domain"}),
    "config": frozenset({"errors", "domain", "engine"}),
    "ops": frozenset({"errors"}),
    "store": frozenset({"errors", "domain", "engine"}),
    "migrations": frozenset({"errors", "store"}),
    # OAuth2 token providers and SASL messages, for both mail adapters' logins.
    "oauth": frozenset({"errors", "config"}),
    "imap": frozenset({"errors", "domain", "engine", "config", "ops", "oauth"}),
    "smtp": frozenset({"errors", "domain", "engine", "config", "ops", "oauth"}),
    # Postfix's other door for the same outbound mail: the SMTP adapter's dispatcher decides
    # the outcome and its relay sends what the milter releases.
    "milter": frozenset({"errors", "domain", "engine", "config", "ops", "smtp"}),
    # The outbox executor performs actions through both mail adapters.
    "executor": frozenset({"errors", "domain", "engine", "config", "ops", "imap", "smtp"}),
    "audit": frozenset({"errors", "domain", "engine", "config", "store"}),
}
# The entry points may import everything; nothing else imports them.
ENTRY = frozenset({"app", "__main__"})
ADAPTERS = frozenset({"store", "imap", "smtp"})


def modules() -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every module in the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def imports_of(name: str, path: Path) -> set[str]:
    """The ``mailguard`` modules that ``path`` imports, resolved to dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "mailguard")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "mailguard":
                continue
            # ``from mailguard.engine import factory`` imports the submodule.
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in ALL else target)
    return found


ALL = {name for name, _ in modules()}


def part_of(module: str) -> str:
    """The top-level part a module belongs to (``mailguard.engine.service`` -> ``engine``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


GRAPH = {name: imports_of(name, path) for name, path in modules()}


def test_every_part_is_known() -> None:
    """A new top-level folder or module must be placed in the layers (a decision, not luck)."""
    unknown = {part_of(m) for m in ALL} - set(LAYERS) - ENTRY - {"__init__"}
    assert not unknown, f"add {sorted(unknown)} to LAYERS in {Path(__file__).name}"


@pytest.mark.parametrize("module", sorted(ALL))
def test_layer_rules(module: str) -> None:
    mine = part_of(module)
    if mine in ENTRY or mine == "__init__":
        return
    allowed = LAYERS[mine] | {mine, "__init__"}
    bad = sorted(t for t in GRAPH[module] if part_of(t) not in allowed)
    assert not bad, f"{module} ({mine}) must not import {bad}"


@pytest.mark.parametrize("module", sorted(m for m in ALL if part_of(m) in ADAPTERS))
def test_adapters_do_not_import_each_other(module: str) -> None:
    others = ADAPTERS - {part_of(module)}
    bad = sorted(t for t in GRAPH[module] if part_of(t) in others)
    assert not bad, f"adapter {module} imports another adapter: {bad}"


@pytest.mark.parametrize("module", sorted(m for m in ALL if part_of(m) == "domain"))
def test_domain_is_stdlib_only(module: str) -> None:
    path = dict(modules())[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    outside: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        for top in (n.split(".")[0] for n in names):
            if top not in sys.stdlib_module_names and top != "__future__":
                if top != "mailguard":
                    outside.add(top)
    domain_imports = {t for t in GRAPH[module] if part_of(t) != "domain"}
    assert not outside, f"{module} imports outside the standard library: {sorted(outside)}"
    assert not domain_imports, f"{module} imports outside the domain: {sorted(domain_imports)}"


def test_no_import_cycles() -> None:
    """No module reaches itself through imports (lazy imports inside functions included)."""
    graph = {m: {t for t in ts if t in ALL and t != m} for m, ts in GRAPH.items()}
    # A package's __init__ is imported with each of its submodules; that edge is not a
    # dependency the author chose, so only explicit imports count.
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    """The checker itself: a domain module importing the engine is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from mailguard.engine.service import Engine\n", encoding="utf-8")
    assert imports_of("mailguard.domain.bad", bad) == {"mailguard.engine.service"}
    rel = tmp_path / "rel.py"
    rel.write_text("from ..engine import factory\nfrom . import model\n", encoding="utf-8")
    assert imports_of("mailguard.domain.rel", rel) == {
        "mailguard.engine.factory",
        "mailguard.domain.model",
    }
