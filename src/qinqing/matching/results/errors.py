"""The results store's errors: one root, ``StoreError``, and what a caller may tell apart.

``NoRun`` is the only one that means "nothing published yet" (the portal then evaluates directly);
``StoreBusy`` means another process holds the store longer than ``WAIT_SECONDS`` (try again: 503);
``RunNotFound`` names a run whose file is gone (pruned, or never published).
"""

from __future__ import annotations

from qinqing.errors import QinqingError


class StoreError(QinqingError, RuntimeError):
    """The results store cannot do what was asked (no run yet, locked by another process, …).

    A 503 with Retry-After on the web: the message names server files, so the web shows
    ``default_message`` instead (every 5xx does)."""

    code = "matching.results_unavailable"
    status = 503
    default_message = "匹配结果暂时无法读取，请稍后再试。"
    retry_after: int | None = 30


class NoRun(StoreError):
    """No run has been published into this store yet."""

    code = "matching.no_run"
    status = 404
    default_message = "尚无匹配结果：请先运行一次全量匹配（qinqing run full）"
    retry_after = None


class StoreBusy(StoreError):
    """Another process holds the store (a writer, or readers a writer waits for) beyond the wait."""

    code = "matching.results_busy"
    status = 503
    default_message = "匹配结果正在更新，请稍后再试。"
    retry_after = 30


class RunNotFound(StoreError):
    """A run named by id has no file (pruned, or never published)."""

    code = "matching.run_not_found"
    status = 404
    default_message = "未找到该匹配批次的结果（可能已按保留规则清理）。"
    retry_after = None
