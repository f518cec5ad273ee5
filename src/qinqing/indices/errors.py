"""Errors of the indices piece, under one root (``IndicesError``, a ``QinqingError``); messages are Chinese
and the place names the configuration file, line and key when known."""

from __future__ import annotations

from qinqing.errors import Place, QinqingError


class IndicesError(QinqingError):
    """Root of the indices piece's errors."""

    code = "indices.error"
    status = 422


class ConfigInvalid(IndicesError):
    """An indicator system's YAML does not validate; ``problems`` lists every problem with its place."""

    code = "indices.config_invalid"
    status = 422

    def __init__(self, problems: list[tuple[str, Place | None]], filename: str | None = None) -> None:
        first_message, first_place = problems[0] if problems else ("指标体系配置无效。", None)
        more = f"（共 {len(problems)} 处问题）" if len(problems) > 1 else ""
        place = (first_place or Place()).filled(file=filename) if (first_place or filename) else None
        super().__init__(f"{first_message}{more}", place=place,
                         problems=[{"message": m, "place": p.to_dict() if p else None} for m, p in problems])
        self.problems = problems


class DataMissing(IndicesError):
    """A source named by the configuration gave no data (an unknown query, a file without the column)."""

    code = "indices.data_missing"
    status = 422


class SourceUnknown(IndicesError):
    """The configuration names a query that no piece has registered."""

    code = "indices.source_unknown"
    status = 422


class MethodFailed(IndicesError):
    """A method cannot be applied to these data (an inconsistent AHP matrix, geometric means of negative
    scores, a constant indicator under z-scores)."""

    code = "indices.method_failed"
    status = 422


class IndexNotFound(IndicesError):
    code = "indices.index_not_found"
    status = 404


class RunNotFound(IndicesError):
    code = "indices.run_not_found"
    status = 404


class CaseNotFound(IndicesError):
    code = "indices.case_not_found"
    status = 404


class CaseStateConflict(IndicesError):
    """A 督办/整改 step asked of a case in a state that does not allow it (accepting a case with no report)."""

    code = "indices.case_state_conflict"
    status = 409
