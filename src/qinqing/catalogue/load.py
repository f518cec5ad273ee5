"""Loading a directory of policy YAML files into the catalogue: each file is checked, compiled and
dry-run (``admission``) and published as a new version; a refused file is reported, the others kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qinqing.catalogue.errors import CatalogueError, PolicyNotFound
from qinqing.catalogue.store import CatalogueStore


@dataclass
class LoadReport:
    added: list[str] = field(default_factory=list)  # policies new to the catalogue
    changed: list[str] = field(default_factory=list)  # a new version of a policy already there
    unchanged: list[str] = field(default_factory=list)  # the file's text is the current version
    errors: dict[str, CatalogueError] = field(default_factory=dict)  # refused: file → error

    @property
    def loaded(self) -> list[str]:
        return [*self.added, *self.changed]


def policy_files(directory: Path) -> list[Path]:
    """Every policy file under ``directory`` (or ``directory`` itself when it is a file); scenario
    files (``*.scenarios.yaml``) are not policies."""
    if directory.is_file():
        return [directory]
    return sorted(
        p for p in directory.rglob("*.y*ml") if p.suffix in {".yaml", ".yml"} and ".scenarios." not in p.name
    )


def load_directory(
    store: CatalogueStore, directory: Path | str, *, department: str | None = None,
    author: str = "catalogue-loader", publish: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> LoadReport:
    """Save (and publish) every policy file under ``directory``; a bad file is reported, the others kept.

    A policy's department is ``department`` when given, otherwise its issuer. A file whose text equals
    the current version is left alone, so loading the same directory twice creates no new versions.
    """
    from qinqing.catalogue.parse import parse_policy

    report = LoadReport()
    files = policy_files(Path(directory))
    for done, path in enumerate(files, 1):
        try:
            text = _read(path)
            policy = parse_policy(text, str(path))
            try:
                current = store.get(policy.id)
            except PolicyNotFound:
                current = None
            live = current is not None and current.is_published and not current.has_unpublished_changes
            if current is not None and current.yaml_text == text and (live or not publish):
                report.unchanged.append(policy.id)
                continue
            entry = store.save(text, department=department or policy.issuer, author=author, filename=str(path))
            if publish:
                store.publish(entry.policy_id, expected_version=entry.version)
            (report.added if current is None else report.changed).append(entry.policy_id)
        except CatalogueError as error:
            report.errors[str(path)] = error
        finally:
            if progress is not None:
                progress(done, len(files))
    return report


def _read(path: Path) -> str:
    from qinqing.catalogue.errors import PolicyInvalid, Problem

    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise PolicyInvalid([Problem(f"文件不是 UTF-8 编码（第 {error.start} 个字节处无法解码）。")], str(path)) from None
