"""The test suite's own layout: conftest holds fixtures, and no test imports it as a module.

pytest loads ``conftest.py`` itself; importing it too (``from conftest import …``)
runs it a second time under another name. Helpers live in modules of their own
(``cli_helpers``, ``crawl_fixtures``…).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
MODULES = sorted(path for path in TESTS.glob("*.py") if path.name != "conftest.py")


@pytest.mark.parametrize("path", MODULES, ids=[path.name for path in MODULES])
def test_no_test_module_imports_conftest(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name and name.split(".")[-1] == "conftest"]
