"""The layout the README and the style guide promise, checked on the source tree (issue 12's "done when").

- No module of the packages is over ~500 lines without saying why in its docstring:
  a long module names its length there ("about 600 lines", "longer than most modules")
  and the reason beside it.
- The README's "How it fits together" names every top-level package, every module of
  ``regwatch``'s shared ground and every module of the wiring (``regwatch/app``), so a
  module added without a place in that map fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawlers", "nlp", "indexer", "digests", "web", "regwatch")
MAX_LINES = 500
LENGTH_REASON = re.compile(r"\b\d+ lines\b|\blonger than most modules\b", re.IGNORECASE)


def lines_of(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def states_why_it_is_long(source: str) -> bool:
    """Whether a module's docstring names its length (and so, by the style guide, why)."""
    docstring = ast.get_docstring(ast.parse(source)) or ""
    return bool(LENGTH_REASON.search(docstring))


def long_modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts and lines_of(path) > MAX_LINES
    )


@pytest.mark.parametrize("path", long_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_module_over_500_lines_says_why_in_its_docstring(path: Path) -> None:
    assert states_why_it_is_long(path.read_text(encoding="utf-8")), (
        f"{path.relative_to(ROOT)} has {lines_of(path)} lines: split it, or say in its docstring "
        "why it is one module ('Just over 500 lines because …')"
    )


def test_the_length_check_tells_a_reason_from_none() -> None:
    assert states_why_it_is_long('"""Parsing.\n\nAbout 600 lines: one grammar, one class."""\n')
    assert states_why_it_is_long('"""Models.\n\nLonger than most modules on purpose: …"""\n')
    assert not states_why_it_is_long('"""Parsing: reads the log lines of a crawl."""\n')
    assert not states_why_it_is_long("x = 1\n")


def fits_together() -> str:
    """The README's "How it fits together" layout block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## How it fits together", 1)[1]
    return section.split("```", 2)[1]


def named(block: str, name: str) -> bool:
    return re.search(rf"(?<![\w/-]){re.escape(name)}(?![\w-])", block) is not None


def wiring_modules() -> list[str]:
    app = ROOT / "regwatch" / "app"
    modules = [p.stem for p in app.glob("*.py") if p.stem != "__init__"]
    subpackages = [p.name for p in app.iterdir() if (p / "__init__.py").is_file()]
    commands = [p.stem for p in (app / "commands").glob("*.py") if p.stem != "__init__"]
    return sorted(modules + subpackages + commands)


def test_the_map_names_every_top_level_package() -> None:
    block = fits_together()
    for package in (*PACKAGES, "benchmarks"):
        assert re.search(rf"^{package}/", block, re.MULTILINE), f"{package}/ has no line in the README's map"
    assert re.search(r"^regwatch/app/", block, re.MULTILINE)


def test_the_map_names_every_module_of_the_shared_ground() -> None:
    block = fits_together()
    ground = sorted(p.stem for p in (ROOT / "regwatch").glob("*.py") if p.stem != "__init__")
    missing = [name for name in ground if not named(block, name)]
    assert not missing, f"regwatch/ modules the README's map does not name: {missing}"


@pytest.mark.parametrize("module", wiring_modules())
def test_the_map_names_the_wiring_module(module: str) -> None:
    assert named(fits_together(), module), (
        f"regwatch/app/{module} is not in the README's 'How it fits together'"
    )


def test_a_name_inside_another_is_not_taken_for_it() -> None:
    assert named("CLI (cli.py), demo", "demo") and named("the leader (leader.py)", "leader")
    assert not named("cluster_demo.py", "demo") and not named("source-health display", "health")
