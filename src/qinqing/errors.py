"""The one root of qinqing's errors: ``QinqingError``, with a stable code, an HTTP status, a Chinese message
for the people who read it and the place it is about.

Every piece declares its errors in its own ``errors.py`` under a piece root that subclasses this one
(``rules.errors.RuleError``, ``accounts.errors.AccountError``, ``catalogue.errors.CatalogueError``,
``registry.errors.RegistryError``, ``web.errors.WebError``, ``matching.results.StoreError``; workflow,
appeals, indices, jobs and audit the same way). Each class declares, in its own body::

    class PolicyNotFound(CatalogueError):
        code = "catalogue.policy_not_found"   # "<piece>.<snake_case>", stable: clients and tests key on it
        status = 404                          # the HTTP status the web answers with

and is raised with a Chinese message, the place when one is known, and JSON-able details::

    raise PolicyNotFound(f"未找到政策 {policy_id}。", place=Place(policy_id=policy_id), policy_id=policy_id)

The web renders any ``QinqingError`` in one handler (``web/errors.py``: ``to_dict()`` as JSON under /api, a
Chinese page elsewhere, ``Retry-After`` when ``retry_after`` is set); the CLI prints ``describe()`` and
exits non-zero, without a traceback. ``tests/test_errors.py`` checks that every subclass declares its own
``code`` and ``status``. An error that is a bug, not the user's or the data's fault, is not a
``QinqingError``: it reaches the web as a 500 with an error id and the CLI as a traceback.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class Place:
    """Where an error is; every field optional, set the ones that apply.

    ``line``, ``column``, ``row`` and ``character`` are 1-based: ``line``/``column`` in a text file (a
    policy's YAML), ``row`` a data row of a table file (CSV/XLSX/Parquet: the spreadsheet's row number),
    ``character`` an offset in a one-line text (an expression). ``field`` names the key or column, e.g.
    ``conditions[2].expr`` or ``revenue``.

    >>> str(Place(file="a.yaml", line=3, column=5, field="conditions[0].expr"))
    'a.yaml:3:5，字段 conditions[0].expr'
    >>> str(Place(policy_id="zj-001", character=7))
    '第 7 个字符，政策 zj-001'
    """

    file: str | None = None
    line: int | None = None
    column: int | None = None
    row: int | None = None
    character: int | None = None
    policy_id: str | None = None
    field: str | None = None

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def __str__(self) -> str:
        parts = []
        if self.file is not None or self.line is not None:
            head = self.file if self.file is not None else ""
            if self.line is not None:
                head = f"{head}:{self.line}" if head else f"第 {self.line} 行"
                if self.column is not None:
                    head = f"{head}:{self.column}" if self.file is not None else f"{head}第 {self.column} 列"
            parts.append(head)
        elif self.column is not None:
            parts.append(f"第 {self.column} 列")
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.character is not None:
            parts.append(f"第 {self.character} 个字符")
        if self.policy_id is not None:
            parts.append(f"政策 {self.policy_id}")
        if self.field is not None:
            parts.append(f"字段 {self.field}")
        return "，".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set (JSON-able)."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    def filled(self, **more: Any) -> Place:
        """This place with ``more`` filling the fields not yet set (a caller adds what it knows: the file)."""
        return replace(self, **{key: value for key, value in more.items() if getattr(self, key) is None})


class QinqingError(Exception):
    """Root of every error qinqing raises on purpose.

    ``QinqingError(message, *, place=None, **details)``:

    - ``code`` (class attribute) — stable ``"<piece>.<snake_case>"``, e.g. ``"catalogue.policy_not_found"``;
    - ``status`` (class attribute) — the HTTP status of the answer (4xx: the request's or the data's fault;
      503: try again later, with ``retry_after`` seconds when known);
    - ``message`` — Chinese, for users; never a server path or a traceback. When omitted, the class's
      ``default_message``;
    - ``place`` — a ``Place``, or None when the error is about no place;
    - ``details`` — JSON-able extras for API clients (a policy id, a list of problems).

    ``str(error)`` (and ``describe()``) is the place and the message, ``a.yaml:3:5，字段 x：message``, as
    logs and the CLI show it; ``to_dict()`` is the JSON body of the error. A 5xx error's message is for
    the log (it may name server files): the web shows the class's ``default_message`` instead.
    """

    code: ClassVar[str] = "qinqing.error"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "操作失败。"
    retry_after: int | None = None  # seconds, sent as Retry-After with a 503; a class or an instance sets it

    def __init__(self, message: str | None = None, *, place: Place | None = None, **details: Any) -> None:
        message = type(self).default_message if message is None else message
        super().__init__(message)
        self.message = message
        self.place = place if place else None
        self.details = details

    def describe(self) -> str:
        """The message with its place, for a terminal: ``a.yaml:3:5，字段 x：message``."""
        return f"{self.place}：{self.message}" if self.place else self.message

    def __str__(self) -> str:
        return self.describe()

    def located(self, **place: Any) -> Self:
        """This error with ``place`` filling its place's unset fields; returns the error, to re-raise."""
        self.place = (self.place or Place()).filled(**place) or None
        return self

    def to_dict(self) -> dict[str, Any]:
        """``{"status", "code", "message", "place", "details"}``, as the web sends it under ``"error"``."""
        return {"status": self.status, "code": self.code, "message": self.message,
                "place": self.place.to_dict() if self.place else None, "details": dict(self.details)}

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses have their own constructor signatures: rebuild from the state, not from the arguments.
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(cls: type[QinqingError], args: tuple[Any, ...], state: dict[str, Any]) -> QinqingError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error
