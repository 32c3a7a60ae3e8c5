"""Unit tests of the dependency rule for domain/: the standard library and msgspec only."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import domain

pytestmark = pytest.mark.unit

ALLOWED_THIRD_PARTY = {"msgspec"}
FORBIDDEN = ["sqlalchemy", "litestar", "httpx", "arq", "redis", "asyncpg", "aiosqlite"]
DOMAIN_DIR = Path(domain.__file__).parent
MODULES = sorted(info.name for info in pkgutil.iter_modules([str(DOMAIN_DIR)]))


def _imported_roots(source: str) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_domain_package_has_modules_to_check() -> None:
    assert {"money", "payment", "refund", "events", "provider", "errors"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_a_domain_module_imports_only_the_standard_library_and_msgspec(module: str) -> None:
    roots = _imported_roots((DOMAIN_DIR / f"{module}.py").read_text())
    outside = roots - set(sys.stdlib_module_names) - ALLOWED_THIRD_PARTY - {"domain"}
    assert not outside, f"domain.{module} imports {sorted(outside)}"


@pytest.mark.parametrize("module", MODULES)
def test_a_domain_module_has_no_float(module: str) -> None:
    tree = ast.parse((DOMAIN_DIR / f"{module}.py").read_text())
    floats = [
        node.lineno for node in ast.walk(tree)
        if (isinstance(node, ast.Constant) and isinstance(node.value, float))
        or (isinstance(node, ast.Name) and node.id == "float")
    ]
    assert not floats, f"domain.{module} uses float on lines {floats}"


def test_importing_the_whole_domain_loads_no_framework() -> None:
    script = (
        "import importlib, pkgutil, sys, domain\n"
        "for m in pkgutil.iter_modules(domain.__path__):\n"
        "    importlib.import_module('domain.' + m.name)\n"
        f"print(','.join(sorted(n for n in {FORBIDDEN!r} if n in sys.modules)))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter with a fixed script
        [sys.executable, "-c", script], cwd=DOMAIN_DIR.parent, capture_output=True, text=True,
        check=False, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"importing domain loaded {done.stdout.strip()}"
