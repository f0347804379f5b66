"""Managers talk only through each other's `messages` modules (style B3), checked with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import alcor.managers

MANAGERS = Path(alcor.managers.__file__).parent
PACKAGES = sorted(p.name for p in MANAGERS.iterdir() if (p / "__init__.py").exists())


def _imports(path: Path, package: str) -> list[tuple[int, str]]:
    """Return (line, absolute module) for every import in a module of `package`."""
    tree = ast.parse(path.read_text(), str(path))
    own = f"alcor.managers.{package}"
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = own.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # `from alcor.managers.x import messages` imports the module alcor.managers.x.messages.
            names_modules = module == "alcor.managers" or (
                module.startswith("alcor.managers.") and module.count(".") == 2
            )
            out.extend(
                (node.lineno, f"{module}.{alias.name}" if names_modules else module)
                for alias in node.names
            )
    return out


def _violations() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((MANAGERS / package).rglob("*.py")):
            for line, module in _imports(path, package):
                parts = module.split(".")
                if parts[:2] != ["alcor", "managers"] or len(parts) < 3:
                    continue
                other = parts[2]
                if other == package or other not in PACKAGES:
                    continue  # own modules, or shared plumbing (base, common, crud)
                if parts[3:4] != ["messages"]:
                    found.append(
                        f"{path.relative_to(MANAGERS.parent.parent)}:{line} imports {module}"
                    )
    return found


def test_the_check_sees_every_manager_package():
    """The walk covers the real manager packages (guards against a vacuous pass)."""
    assert {"network", "subnet", "port", "ipam", "mac", "node", "quota", "security_group"} <= set(
        PACKAGES
    )


def test_the_check_catches_a_forbidden_import(tmp_path):
    """An import of another manager's implementation is recognised."""
    sample = tmp_path / "manager.py"
    sample.write_text(
        "from alcor.managers.mac.manager import MacManager\n"
        "from alcor.managers.mac import manager\n"
        "import alcor.managers.ipam.manager\n"
        "from alcor.managers.mac.messages import AllocateMac\n"
        "from alcor.managers.mac import messages\n"
        "from alcor.managers import mac\n"
    )
    modules = [m for _, m in _imports(sample, "port")]
    assert modules == [
        "alcor.managers.mac.manager",
        "alcor.managers.mac.manager",
        "alcor.managers.ipam.manager",
        "alcor.managers.mac.messages",
        "alcor.managers.mac.messages",
        "alcor.managers.mac",
    ]


def test_managers_import_only_other_managers_messages():
    """No manager imports another manager's modules except its `messages`."""
    assert _violations() == []
