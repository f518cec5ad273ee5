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
    "web": {"workflow", "audit", "appeals", "indices", "accounts", "catalogue", "db", "events", "jobs", "matching", "registry", "rules", "search", "settings"},
    "cli": {"workflow", "audit", "appeals", "indices", "accounts", "catalogue", "db", "events", "jobs", "matching", "registry", "rules", "search", "settings",
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


# What the outer layers (web, cli) may import of a piece: its package (``__init__``) and these modules —
# the services, events and errors, and the few value types and label tables the pages and commands show.
# Everything else is the piece's inside (tables, stores, engines, importers), reached through its service.
PUBLIC: dict[str, set[str]] = {
    "accounts": {"service", "authz", "errors", "events", "sessions"},
    "registry": {"service", "errors", "events", "schema", "standards", "tags", "derived", "docs"},
    "rules": {"model", "errors", "amounts", "labels", "evaluate"},
    "catalogue": {"service", "errors", "events", "labels", "parse"},
    "matching": {"service", "errors", "events", "preview", "results", "lists"},
    "events": set(),
    "jobs": {"runner", "plugins", "errors"},
    "audit": set(),  # record, trail, verify, head, labels: all in the package's __init__
    "workflow": {"service", "errors", "events", "money", "states", "payments"},
}
OUTER = ("web", "cli")
# Imports of a piece's inside that are still there: this list only shrinks. Route a new need through the
# piece's service (or make the module public above, saying why in docs/architecture.md).
KNOWN_INSIDE: set[tuple[str, str]] = {
    ("cli/match.py", "qinqing.matching.run"), ("cli/match.py", "qinqing.registry.store"),
    ("cli/match.py", "qinqing.registry.spreadsheet"), ("cli/match.py", "qinqing.matching.engines.duckdb"),
    ("cli/match.py", "qinqing.matching.pairs"),
    ("cli/options.py", "qinqing.matching.engines.duckdb"), ("cli/options.py", "qinqing.registry.store"),
    ("cli/policy.py", "qinqing.catalogue.admission"),
    ("cli/registry.py", "qinqing.registry.generator"), ("cli/registry.py", "qinqing.registry.importer"),
    ("cli/registry.py", "qinqing.registry.store"),
    ("web/services/library.py", "qinqing.catalogue.store"),
    ("web/services/profile.py", "qinqing.registry.store"),
    ("web/services/supervision.py", "qinqing.registry.spreadsheet"),
    ("web/services/users.py", "qinqing.registry.tables"),
}


def _inside_imports(path: Path) -> set[str]:
    """The modules of another piece's inside that ``path`` imports (a name of a package's ``__init__`` is
    public; a module taken from the package, ``from qinqing.registry import store``, is not)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qinqing."):
            modules.append(node.module)
            if node.module.count(".") == 1:  # from qinqing.registry import store: a module, not a name
                folder = PACKAGE / node.module.split(".")[1]
                modules.extend(f"{node.module}.{a.name}" for a in node.names
                               if (folder / f"{a.name}.py").exists() or (folder / a.name).is_dir())
        elif isinstance(node, ast.Import):
            modules.extend(a.name for a in node.names if a.name.startswith("qinqing."))
    inside = set()
    for module in modules:
        parts = module.split(".")
        if len(parts) >= 3 and parts[1] in PUBLIC and parts[2] not in PUBLIC[parts[1]]:
            inside.add(module)
    return inside


OUTER_SOURCES = [p for p in SOURCES if _piece(p) in OUTER]


@pytest.mark.parametrize("path", OUTER_SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_web_and_cli_use_the_pieces_services_not_their_insides(path: Path) -> None:
    name = str(path.relative_to(PACKAGE))
    new = {m for m in _inside_imports(path) if (name, m) not in KNOWN_INSIDE}
    assert not new, (f"{name} imports the inside of a piece: {sorted(new)}; call the piece's service "
                     "(registry/catalogue/matching/accounts .service) instead (docs/architecture.md)")


def test_the_list_of_known_inside_imports_only_shrinks() -> None:
    still = {(str(p.relative_to(PACKAGE)), m) for p in OUTER_SOURCES for m in _inside_imports(p)}
    gone = KNOWN_INSIDE - still
    assert not gone, f"no longer imported, remove from KNOWN_INSIDE: {sorted(gone)}"


def test_every_piece_with_a_service_names_it_public() -> None:
    for piece, modules in PUBLIC.items():
        if (PACKAGE / piece / "service.py").exists():
            assert "service" in modules, piece
