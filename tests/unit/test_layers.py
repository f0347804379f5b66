"""The layer rules of the architecture (shared/design/architecture.md), checked with `ast`.

Every module of alcor/ and plugins/ is parsed once. Each rule is checked per module it
applies to, so a failure names the rule, the module, the line and the import. Imports
anywhere in a module count: top level, inside functions and under `if TYPE_CHECKING:`.

Known violations are expected failures (strict: a fixed one fails until its mark goes);
today there are none.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Modules directly in alcor/managers/ are shared plumbing (base, common, crud, ...), not a
# manager: every manager may import them.
MANAGERS = "alcor.managers"
EDGES = ("alcor.api", "alcor.southbound", "alcor.proto", "alcor.agent", "alcor.gateway")
EDGE_LIBRARIES = ("grpclib", "betterproto", "aiokafka", "aiohttp")
PLUGINS = ("alcor_grpc", "alcor_grpcio", "alcor_kafka")
CORE = (MANAGERS, "alcor.api", "alcor.store")


@dataclass(frozen=True)
class Import:
    """One imported name: `module` is the dotted target (`from a.b import c` -> a.b.c)."""

    line: int
    module: str


def within(module: str, packages: tuple[str, ...]) -> bool:
    """Return True when `module` is one of `packages` or inside one of them."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def manager_of(module: str) -> str | None:
    """Return the manager package a module belongs to (alcor.managers.port.x -> port)."""
    parts = module.split(".")
    if not module.startswith(MANAGERS + ".") or len(parts) < 3:
        return None
    if (ROOT / "alcor" / "managers" / f"{parts[2]}.py").exists():
        return None  # a shared module such as alcor.managers.common
    return parts[2]


def imports_of(module: str, source: str, is_package: bool = False) -> list[Import]:
    """Return every import in `source` (the text of `module`) as dotted targets."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: len(module.split(".")) - (not is_package)]
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found += [Import(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


@dataclass(frozen=True)
class Rule:
    """A layer rule: which importing modules it governs and which imports it refuses."""

    id: str
    text: str
    governs: Callable[[str], bool]
    refuses: Callable[[str, str], bool]  # (importing module, imported target)

    def violations(self, module: str, found: list[Import]) -> list[str]:
        """Return `module line N imports X` for each refused import."""
        return [
            f"{module} line {imp.line} imports {imp.module}"
            for imp in found
            if self.refuses(module, imp.module)
        ]


def _other_manager_internals(module: str, target: str) -> bool:
    own, other = manager_of(module), manager_of(target)
    if other is None or other == own:
        return False
    parts = target.split(".")
    return len(parts) == 3 or parts[3] != "messages"


RULES = (
    Rule(
        "managers-talk-through-messages",
        "a manager imports another manager only through its messages.py",
        lambda m: manager_of(m) is not None,
        _other_manager_internals,
    ),
    Rule(
        "managers-stay-off-the-edges",
        "managers never import the API, southbound, protobuf, agent or transport libraries",
        lambda m: within(m, (MANAGERS,)),
        lambda m, t: within(t, EDGES + EDGE_LIBRARIES),
    ),
    Rule(
        "api-speaks-no-protobuf",
        "alcor.api imports neither alcor.proto nor the plugin packages",
        lambda m: within(m, ("alcor.api",)),
        lambda m, t: within(t, ("alcor.proto", *PLUGINS)),
    ),
    Rule(
        "store-and-bus-know-no-manager",
        "alcor.store and alcor.bus import no manager",
        lambda m: within(m, ("alcor.store", "alcor.bus")),
        lambda m, t: within(t, (MANAGERS,)),
    ),
    Rule(
        "agent-stands-alone",
        "alcor.agent imports no manager, API or store",
        lambda m: within(m, ("alcor.agent",)),
        lambda m, t: within(t, CORE),
    ),
    Rule(
        "evaluator-is-pure",
        "alcor.trace (the packet evaluator) imports no clock, network, asyncio, store or edge",
        lambda m: within(m, ("alcor.trace",)),
        lambda m, t: within(
            t,
            ("time", "asyncio", "socket", "datetime", *CORE, "alcor.bus", *EDGES, *EDGE_LIBRARIES),
        ),
    ),
    Rule(
        "plugins-stay-at-the-edge",
        "the plugins import no manager, API or store",
        lambda m: within(m, PLUGINS),
        lambda m, t: within(t, CORE),
    ),
)

# (rule id, module) -> why it is tolerated for now; each is a strict expected failure.
# Add one only with an issue that removes it (e.g. "issue 12 Southbound truth moves this code").
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Module:
    """A source file of alcor/ or plugins/ and its dotted name."""

    name: str
    path: Path

    @functools.cached_property
    def imports(self) -> list[Import]:
        """Return the module's imports (parsed once per test session)."""
        return imports_of(self.name, self.path.read_text(), self.path.name == "__init__.py")


def _modules() -> Iterator[Module]:
    generated = ROOT / "alcor" / "proto" / "schema"
    for top, strip in ((ROOT / "alcor", ROOT), (ROOT / "plugins", ROOT / "plugins")):
        for path in sorted(top.rglob("*.py")):
            if generated in path.parents:
                continue
            parts = path.relative_to(strip).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield Module(".".join(parts), path)


MODULES = tuple(_modules())


def _cases() -> Iterator[object]:
    for rule in RULES:
        for module in MODULES:
            if not rule.governs(module.name):
                continue
            reason = KNOWN_VIOLATIONS.get((rule.id, module.name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(rule, module, id=f"{rule.id}:{module.name}", marks=marks)


@pytest.mark.parametrize(("rule", "module"), list(_cases()))
def test_layer_rule(rule: Rule, module: Module) -> None:
    """The module keeps the rule."""
    found = rule.violations(module.name, module.imports)
    assert not found, f"{rule.id} ({rule.text}):\n  " + "\n  ".join(found)


def test_known_violations_name_governed_modules() -> None:
    """Every expected failure is a real case: remove the mark with the code it excuses."""
    cases = {(r.id, m.name) for r in RULES for m in MODULES if r.governs(m.name)}
    assert set(KNOWN_VIOLATIONS) <= cases, sorted(set(KNOWN_VIOLATIONS) - cases)


def test_every_rule_governs_some_module() -> None:
    """A rule whose packages moved would pass vacuously."""
    assert all(any(r.governs(m.name) for m in MODULES) for r in RULES)


@pytest.mark.parametrize(
    ("module", "source", "rule_id"),
    [
        (
            "alcor.managers.port.manager",
            "from alcor.managers.mac.manager import MacManager",
            "managers-talk-through-messages",
        ),
        (
            "alcor.managers.port.manager",
            "from alcor.managers import mac",
            "managers-talk-through-messages",
        ),
        (
            "alcor.managers.port.manager",
            "from alcor.managers.mac import manager",
            "managers-talk-through-messages",
        ),
        (
            "alcor.managers.port.manager",
            "import alcor.managers.ipam.manager",
            "managers-talk-through-messages",
        ),
        ("alcor.managers.port.manager", "import aiohttp.web", "managers-stay-off-the-edges"),
        (
            "alcor.managers.port.manager",
            "from ...proto import schema",
            "managers-stay-off-the-edges",
        ),
        ("alcor.api.web", "from alcor_grpc import server", "api-speaks-no-protobuf"),
        (
            "alcor.store.store",
            "from alcor.managers.port.messages import X",
            "store-and-bus-know-no-manager",
        ),
        ("alcor.agent.agent", "def f():\n    from alcor.store import Store", "agent-stands-alone"),
        (
            "alcor_kafka.transport",
            "from alcor.managers.common import x",
            "plugins-stay-at-the-edge",
        ),
    ],
)
def test_rules_catch_violations(module: str, source: str, rule_id: str) -> None:
    """Each rule refuses a typical offending import (so a passing case means something)."""
    rule = next(r for r in RULES if r.id == rule_id)
    assert rule.governs(module)
    assert rule.violations(module, imports_of(module, source)) != []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("alcor.managers.port.manager", "from alcor.managers.mac.messages import AllocateMac"),
        ("alcor.managers.port.manager", "from alcor.managers.port import rules"),
        ("alcor.managers.port.manager", "from alcor.managers.common import new_id"),
        ("alcor.managers.port.manager", "from .rules import check_pairs"),
        ("alcor.api.routes", "from alcor.managers.port import messages as port"),
        ("alcor.managers.port.manager", "from alcor.managers.mac import messages"),
    ],
)
def test_rules_allow_the_layering(module: str, source: str) -> None:
    """Messages, a manager's own modules and the shared plumbing are allowed."""
    found = imports_of(module, source)
    assert [v for r in RULES if r.governs(module) for v in r.violations(module, found)] == []
