"""Loading a directory of policy YAML files into the catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qinqing.catalogue.errors import CatalogueError
from qinqing.catalogue.store import CatalogueStore


@dataclass
class LoadReport:
    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: dict[str, CatalogueError] = field(default_factory=dict)  # file → error


def policy_files(directory: Path) -> list[Path]:
    """Every policy file under ``directory``; scenario files (``*.scenarios.yaml``) are not policies."""
    return sorted(
        p for p in directory.rglob("*.y*ml") if p.suffix in {".yaml", ".yml"} and ".scenarios." not in p.name
    )


def load_directory(
    store: CatalogueStore, directory: Path | str, *, department: str | None = None,
    author: str = "catalogue-loader", publish: bool = True,
) -> LoadReport:
    """Save (and publish) every policy file under ``directory``; a bad file is reported, the others kept.

    A policy's department is ``department`` when given, otherwise its issuer. A file whose text equals
    the current draft is left alone, so loading the same directory twice creates no new versions.
    """
    from qinqing.catalogue.parse import parse_policy

    report = LoadReport()
    for path in policy_files(Path(directory)):
        text = path.read_text(encoding="utf-8")
        try:
            policy = parse_policy(text, str(path))
            try:
                current = store.get(policy.id)
            except CatalogueError:
                current = None
            if current is not None and current.yaml_text == text and current.is_published == publish:
                report.unchanged.append(policy.id)
                continue
            entry = store.save(text, department=department or policy.issuer, author=author, filename=str(path))
            if publish:
                store.publish(entry.policy_id)
            report.loaded.append(entry.policy_id)
        except CatalogueError as error:
            report.errors[str(path)] = error
    return report
