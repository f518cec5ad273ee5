"""Loading a directory of policy YAML files into the catalogue: each file is checked, compiled and
dry-run (``admission``) and published as a new version; a refused file is reported, the others kept."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qinqing.catalogue.errors import CatalogueError
from qinqing.catalogue.store import CatalogueStore
from qinqing.rules.model import Policy


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
    progress: Callable[[int, int], None] | None = None, workers: int | None = None,
) -> LoadReport:
    """Save (and publish) every policy file under ``directory``; a bad file is reported, the others kept.

    A policy's department is ``department`` when given, otherwise its issuer. A file whose text equals
    the current version is left alone, so loading the same directory twice creates no new versions.

    Files are read, parsed and admitted (``admission``) by ``workers`` processes (one per core for a
    large directory), and written ``BATCH`` policies per transaction; a batch that fails is written
    again one policy at a time, so one refused policy never costs the others."""
    report = LoadReport()
    files = policy_files(Path(directory))
    current = store.current_texts()
    done = 0
    pending: list[tuple[Path, Policy, str]] = []

    def flush() -> None:
        nonlocal done
        if pending:
            _write(store, pending, current, department, author, publish, report)
            done += len(pending)
            pending.clear()
            if progress is not None:
                progress(done, len(files))

    # A file whose text is a policy's current draft (published, when publishing) is unchanged: it is
    # not parsed or admitted again, so loading the same directory twice costs a read per file.
    unchanged = {text: policy_id for policy_id, (text, live) in current.items() if live or not publish}
    fresh: list[tuple[Path, str]] = []  # read once here; the workers parse and admit the text
    for path in files:
        try:
            text = _read(path)
        except CatalogueError as error:
            report.errors[str(path)] = error
            done += 1
            continue
        if text in unchanged:
            report.unchanged.append(unchanged[text])
            done += 1
        else:
            fresh.append((path, text))
    if progress is not None and done:
        progress(done, len(files))
    for path, text, policy, error in _admitted(fresh, workers):
        if error is not None:
            report.errors[str(path)] = error
        elif _unchanged(current.get(policy.id), text, publish):
            report.unchanged.append(policy.id)
        else:
            pending.append((path, policy, text))
            if len(pending) >= BATCH:
                flush()
            continue
        done += 1
        if progress is not None and (done % 100 == 0 or done == len(files)):
            progress(done, len(files))
    flush()
    return report


BATCH = 200  # policies per transaction
PARALLEL_FROM = 200  # files; fewer are admitted in this process (a worker's start-up costs a second)


def _unchanged(current: tuple[str, bool] | None, text: str, publish: bool) -> bool:
    return current is not None and current[0] == text and (current[1] or not publish)


def _write(store: CatalogueStore, items: list[tuple[Path, Policy, str]], current: dict[str, tuple[str, bool]],
           department: str | None, author: str, publish: bool, report: LoadReport) -> None:
    rows = [(policy, text, department or policy.issuer) for _, policy, text in items]
    try:
        store.save_many(rows, author=author, publish=publish)
        outcomes: list[CatalogueError | None] = [None] * len(items)
    except CatalogueError:
        outcomes = []
        for row in rows:  # the batch was rolled back: one by one, to keep all but the refused
            try:
                store.save_many([row], author=author, publish=publish)
                outcomes.append(None)
            except CatalogueError as error:
                outcomes.append(error)
    for (path, policy, text), error in zip(items, outcomes):
        if error is not None:
            report.errors[str(path)] = error
            continue
        (report.changed if policy.id in current else report.added).append(policy.id)
        current[policy.id] = (text, publish)


def _admitted(files: list[tuple[Path, str]], workers: int | None) -> Iterator[tuple[Path, str, Policy | None,
                                                                                  CatalogueError | None]]:
    """(path, text, policy, None) for each admitted file, (path, text, None, error) for a refused one, in order."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(files) < PARALLEL_FROM:
        yield from map(_admit_file, files)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: a forked child would inherit the parent's DuckDB connections and threads
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(_admit_file, files, chunksize=64)


def _admit_file(file: tuple[Path, str]) -> tuple[Path, str, Policy | None, CatalogueError | None]:
    from qinqing.catalogue.store import admitted_policy

    path, text = file
    try:
        return path, text, admitted_policy(text, str(path)), None
    except CatalogueError as error:
        return path, text, None, error


def _read(path: Path) -> str:
    from qinqing.catalogue.errors import PolicyInvalid, Problem

    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise PolicyInvalid([Problem(f"文件不是 UTF-8 编码（第 {error.start} 个字节处无法解码）。")], str(path)) from None
