"""Unit: the README's annotated tree and the repository agree, and modules keep their size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IGNORED = {".git", ".venv", ".ci", "test-artifacts", ".cobro", "build", "dist"}
# STYLE.md B4: modules <= 300 lines (400 for provider clients, mappings and tests); fail at 1.5x.
BUDGETS = {"client.py": 400, "mapping.py": 400}


def _readme_tree() -> set[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    return {m.group(1) for m in re.finditer(r"^([a-z_]+)/", block, re.MULTILINE)}


def _top_level_folders() -> set[str]:
    return {
        p.name for p in ROOT.iterdir()
        if p.is_dir() and p.name not in IGNORED and not p.name.startswith(".")
        and not p.name.endswith(".egg-info") and p.name != "__pycache__"
    }


def test_every_folder_in_the_readme_tree_exists() -> None:
    assert _readme_tree() <= _top_level_folders()


def test_every_top_level_folder_is_in_the_readme_tree() -> None:
    assert _top_level_folders() <= _readme_tree()


def _sources() -> list[Path]:
    folders = ("domain", "providers", "services", "webhooks", "tests")
    return [p for f in folders for p in (ROOT / f).rglob("*.py")]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_stays_within_one_and_a_half_times_its_line_budget(path: Path) -> None:
    budget = BUDGETS.get(path.name, 400 if "tests" in path.parts else 300)
    lines = len(path.read_text().splitlines())
    assert lines <= budget * 1.5, f"{path.name} has {lines} lines; budget {budget}"
