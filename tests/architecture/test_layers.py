"""docs/architecture.md's layering, held against the code: a piece imports only the pieces before it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "qinqing"

# piece -> the pieces it may import (besides itself). Keep in step with docs/architecture.md.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "settings": set(),
    "db": {"settings"},
    "migrations": {"db", "settings"},
    "audit": {"db", "settings"},
    "accounts": {"audit", "db", "settings", "events", "jobs"},
    "search": set(),
    "events": set(),
    "jobs": {"events", "db", "settings"},
    "registry": {"audit", "settings", "db", "events", "jobs"},
    "rules": {"registry", "settings"},
    "catalogue": {"audit", "rules", "registry", "db", "settings", "events", "jobs"},
    "matching": {"audit", "rules", "registry", "catalogue", "db", "settings", "events", "jobs"},
    "workflow": {"audit", "catalogue", "db", "errors", "events", "jobs", "matching", "registry", "rules", "settings"},
    "indices": {"registry", "matching", "db", "settings", "events", "jobs", "audit"},
    "appeals": {"accounts", "audit", "db", "errors", "events", "jobs", "registry", "search", "settings"},
    "web": {"audit", "appeals", "indices", "accounts", "catalogue", "db", "events", "jobs", "matching", "registry", "rules", "search", "settings"},
    "cli": {"audit", "appeals", "indices", "accounts", "catalogue", "db", "events", "jobs", "matching", "registry", "rules", "search", "settings",
            "web"},
}


EVERYWHERE = {"errors"}  # the error root (QinqingError): every piece may import it


def _piece(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _imported_pieces(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qinqing."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("qinqing."))
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_piece_is_declared() -> None:
    pieces = {_piece(p) for p in SOURCES}
    assert pieces <= set(ALLOWED), f"undeclared pieces: {pieces - set(ALLOWED)}; add them to ALLOWED and the doc"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_layers(path: Path) -> None:
    piece = _piece(path)
    forbidden = _imported_pieces(path) - ALLOWED[piece] - EVERYWHERE - {piece}
    assert not forbidden, f"{piece} may not import {sorted(forbidden)} (see docs/architecture.md)"


def test_architecture_doc_names_every_piece() -> None:
    doc = (PACKAGE.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [piece for piece in ALLOWED if f"`{piece}" not in doc]
    assert not missing, f"docs/architecture.md does not describe: {missing}"
