"""The layering the README promises, checked on the source: stages import only the shared ground.

A stage (``crawlers``, ``nlp``, ``indexer``, ``digests``, ``web``) may import the
standard library, third-party packages, its own modules and ``regwatch``'s
shared ground (models, sources, settings, errors, config, private): never another stage
and never ``regwatch.app`` (the wiring that runs them). The web desk reads the
index, so ``web`` may import ``indexer``'s public names (its top-level package,
never an ``indexer._private`` module). The shared ground
imports no stage and no wiring. Imports under ``if TYPE_CHECKING:`` count too:
a type from another stage's internals is a dependency all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("crawlers", "nlp", "indexer", "digests", "web")
# Besides the shared ground, what a stage may import of another stage: its top-level package only.
PUBLIC_OF: dict[str, tuple[str, ...]] = {"web": ("indexer",)}
SHARED_GROUND = (
    "regwatch.models",
    "regwatch.sources",
    "regwatch.settings",
    "regwatch.errors",
    "regwatch.config",
    "regwatch.private",
)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every absolute module a file imports, with its line ("from x import y" gives x and x.y)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _allowed_for_stage(stage: str, module: str) -> bool:
    top = module.split(".")[0]
    if top == stage:
        return True
    if top in PUBLIC_OF.get(stage, ()):
        # "from indexer import Store" gives indexer and indexer.Store: public names, one level deep.
        parts = module.split(".")
        return len(parts) == 1 or (len(parts) == 2 and not parts[1].startswith("_"))
    if top in STAGES:
        return False
    if top == "regwatch":
        return module == "regwatch" or any(
            module == ground or module.startswith(ground + ".") for ground in SHARED_GROUND
        )
    return True


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_imports_only_itself_the_shared_ground_and_libraries(stage: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in _files(stage)
        for line, module in imported_modules(path)
        if not _allowed_for_stage(stage, module)
    ]
    assert not wrong, "stage imports outside the shared ground:\n" + "\n".join(wrong)


def test_the_shared_ground_imports_no_stage_and_no_wiring() -> None:
    ground = [ROOT / (name.replace(".", "/") + ".py") for name in SHARED_GROUND]
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in ground
        for line, module in imported_modules(path)
        if module.split(".")[0] in STAGES or module.startswith("regwatch.app")
    ]
    assert not wrong, "shared ground imports a stage or the wiring:\n" + "\n".join(wrong)


def test_the_checker_sees_a_cross_stage_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from indexer._store import Store\nfrom regwatch.app import App\nimport regwatch.models\n"
    )
    modules = [module for _, module in imported_modules(sample)]
    assert not _allowed_for_stage("digests", modules[0])
    assert not _allowed_for_stage("digests", "regwatch.app")
    assert _allowed_for_stage("digests", "regwatch.models")
    assert _allowed_for_stage("web", "indexer") and _allowed_for_stage("web", "indexer.Store")
    assert not _allowed_for_stage("web", "indexer._store")
    assert not _allowed_for_stage("web", "nlp") and not _allowed_for_stage("web", "regwatch.app.desk")
    assert not _allowed_for_stage("indexer", "web")
