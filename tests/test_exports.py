"""Each package's exported names: ``__all__`` is what ``__init__`` binds, no more, no less, and in order.

One test for every package that exports names (the stages, the web desk once it
exists, and the wiring's), in the way of httpx's ``test_exported_members``: the
list is checked against the package itself, never against a copy kept here.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [
    name
    for name in ("crawlers", "nlp", "indexer", "digests", "web", "regwatch.app", "regwatch.app.sample_site")
    if importlib.util.find_spec(name) is not None
]


def _init_of(package: str) -> Path:
    return ROOT / package.replace(".", "/") / "__init__.py"


def _bound_names(package: str) -> dict[str, str]:
    """Each name the package's ``__init__`` binds at top level -> where from ("" when defined there)."""
    tree = ast.parse(_init_of(package).read_text(encoding="utf-8"))
    bound: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            origin = f"{package}.{node.module or ''}" if node.level else (node.module or "")
            for alias in node.names:
                bound[alias.asname or alias.name] = origin
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bound[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound[node.name] = ""
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id != "__all__":
                    bound[target.id] = ""
    return bound


def _isort_key(name: str) -> tuple[int, str]:
    """CONSTANTS first, then Classes, then functions; alphabetical within each (ruff's RUF022 order)."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


@pytest.fixture(params=PACKAGES)
def package(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


def test_packages_to_check_are_found() -> None:
    assert {"crawlers", "nlp", "indexer", "digests"} <= set(PACKAGES)


def test_all_is_unique_and_in_order(package: ModuleType) -> None:
    exported = list(package.__all__)
    assert len(exported) == len(set(exported)), [n for n in exported if exported.count(n) > 1]
    assert exported == sorted(exported, key=_isort_key)


def test_all_is_every_public_name_the_init_binds(package: ModuleType) -> None:
    public = {name for name in _bound_names(package.__name__) if not name.startswith("_")}
    assert set(package.__all__) == public


def test_every_exported_name_comes_from_the_package_itself(package: ModuleType) -> None:
    bound = _bound_names(package.__name__)
    for name in package.__all__:
        origin = bound[name]
        assert not origin or origin == package.__name__ or origin.startswith(f"{package.__name__}."), (
            f"{package.__name__}.{name} is re-exported from {origin}, outside the package"
        )
        value = getattr(package, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith(f"{package.__name__}."), (name, value.__module__)


def test_every_exported_class_and_function_says_what_it_is(package: ModuleType) -> None:
    for name in package.__all__:
        value = getattr(package, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            doc = value.__doc__ or ""
            # A dataclass without a docstring gets its signature as __doc__: that says nothing.
            assert doc.strip() and not doc.startswith(f"{value.__name__}("), f"{package.__name__}.{name}"


def test_the_package_has_a_docstring_and_the_readme_names_it(package: ModuleType) -> None:
    assert (package.__doc__ or "").strip(), package.__name__
    folder = package.__name__.replace(".", "/") + "/"
    assert folder.split("/", 1)[0] + "/" in (ROOT / "README.md").read_text(encoding="utf-8"), folder
