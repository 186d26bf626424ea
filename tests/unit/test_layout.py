"""The layout shows the architecture, and this keeps it so: the SCIM rules
(scim/) are pure, the runtime serves everyone and knows no one, and the
gateway and the four services stand side by side on them, never importing
each other (they talk over gRPC)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"scim", "runtime", "gateway", "services", "cli", "scimd"}

# What each package may import of the first-party packages (scimd: the generated protos).
ALLOWED = {
    "scim": {"scim"},
    "runtime": {"runtime", "scim", "scimd"},
    "gateway": {"gateway", "runtime", "scim", "scimd"},
    "services": {"services", "runtime", "scim", "scimd"},
    "cli": {"cli", "runtime", "scimd"},
}
# The pure rules load no transport, no database and no web framework.
FORBIDDEN_IN_SCIM = {"grpc", "google", "asyncpg", "aiohttp", "nats"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_what_sits_beneath_it(package):
    strays = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(package) for name in _imports(path)
        if name.split(".")[0] in FIRST_PARTY and name.split(".")[0] not in ALLOWED[package]
    }
    assert not strays, sorted(strays)


def test_services_do_not_import_one_another():
    strays = set()
    for path in _modules("services"):
        own = path.relative_to(ROOT / "services").parts[0]
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "services" and len(parts) > 1 and parts[1] != own:
                strays.add(f"{path.relative_to(ROOT)} imports {name}")
    assert not strays, sorted(strays)


def test_the_scim_rules_load_no_transport_or_database():
    strays = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules("scim") for name in _imports(path) if name.split(".")[0] in FORBIDDEN_IN_SCIM
    }
    assert not strays, sorted(strays)
