"""三率: 响应率, 解决率, 满意率 per department (or region) and period, with their denominators, a Wilson
lower bound beside each raw rate, configurable weights, and a minimum count below which a unit is flagged,
not ranked.

Formulas (docs/appeals.md repeats them; nothing here is an official formula — the 条例's are not public):

- 响应率 = assignments 签收 within the 签收 limit / assignments counted. Counted: every assignment (主办 or
  协办) dispatched in the period that was signed, or is still unsigned past its limit. Not counted: one still
  within its limit (undecided), one withdrawn (并单, 改派 of the whole item) or 退单 (the re-dispatch counts
  instead).
- 解决率 = appeals whose last valid rating answered 问题已解决 / appeals whose last valid rating answered the
  question at all, among appeals the unit led (主办) that were 办结 in the period.
- 满意率 = appeals whose last valid rating is above ``dissatisfied_max`` (基本满意 or better) / appeals with a
  valid rating, same population. Ratings voided by 申诉复核 are not valid; unrated appeals (评价期满) count
  in neither.
- n (the unit's items) = the assignments counted for its 响应率. A unit with n < ``min_count`` (20, after
  杭州's rule of ranking smaller units only monthly) is flagged and not ranked: FixMyStreet's "most
  responsive" chart was once led by a council with one report (issue #1957).
- score = Σ weight × rate / Σ weight over the rates that have a denominator, on the Wilson lower bounds
  (``basis: wilson``, the default, so that a small perfect sample does not beat a large good one) or the
  raw rates. Ranks are 1, 2, … by score, ties sharing a rank.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from qinqing.appeals.config import AppealsConfig
from qinqing.appeals.states import State
from qinqing.appeals.tables import appeals, assignments, ratings
from qinqing.appeals.views import aware
from qinqing.appeals.workdays import CHINA

Z95 = 1.959963984540054
RATES = ("response", "resolution", "satisfaction")
RATE_LABELS = {"response": "响应率", "resolution": "解决率", "satisfaction": "满意率"}


def wilson_lower(successes: int, n: int, z: float = Z95) -> float | None:
    """The lower end of the Wilson score interval (95 % by default); None for n = 0.

    >>> round(wilson_lower(1, 1), 3), round(wilson_lower(95, 100), 3)
    (0.207, 0.888)
    """
    if n == 0:
        return None
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


@dataclass(frozen=True)
class Rate:
    successes: int
    n: int

    @property
    def raw(self) -> float | None:
        return self.successes / self.n if self.n else None

    @property
    def wilson(self) -> float | None:
        return wilson_lower(self.successes, self.n)

    def as_json(self) -> dict[str, Any]:
        return {"successes": self.successes, "n": self.n, "rate": self.raw, "wilson_lower": self.wilson}


@dataclass(frozen=True)
class UnitRow:
    unit: str
    items: int
    rates: dict[str, Rate]
    score: float | None
    rank: int | None
    flag: str | None  # why the unit is not ranked

    def as_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "items": self.items, "score": self.score, "rank": self.rank, "flag": self.flag,
                **{name: rate.as_json() for name, rate in self.rates.items()}}


@dataclass(frozen=True)
class Ranking:
    by: str
    start: datetime
    end: datetime
    min_count: int
    basis: str
    weights: dict[str, float]
    rows: tuple[UnitRow, ...] = field(default=())

    @property
    def period_label(self) -> str:
        last = self.end.astimezone(CHINA).date().toordinal() - 1
        return f"{self.start.astimezone(CHINA):%Y-%m-%d} 至 {date.fromordinal(last):%Y-%m-%d}"

    def as_json(self) -> dict[str, Any]:
        return {"by": self.by, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "min_count": self.min_count, "basis": self.basis, "weights": self.weights,
                "rows": [r.as_json() for r in self.rows]}


def month_period(year: int, month: int, starts_on: int = 1) -> tuple[datetime, datetime]:
    """[start, end) of the month ``year-month`` whose boundary is day ``starts_on`` (China time), e.g. a
    hotline that closes its month on the 25th has ``starts_on=26``: "2026-10" runs 26 Sep – 25 Oct."""
    def first(y: int, m: int) -> datetime:
        return datetime(y, m, starts_on, tzinfo=CHINA)

    if starts_on == 1:
        start = first(year, month)
        end = first(year + month // 12, month % 12 + 1)
    else:
        start = first(year - (month == 1), (month - 2) % 12 + 1)
        end = first(year, month)
    return start.astimezone(UTC), end.astimezone(UTC)


def region_unit(region_code: str) -> str:
    """Rankings by region group appeals by city (地级): the first four digits."""
    return region_code[:4] + "00"


def rankings(connection: Connection, config: AppealsConfig, start: datetime, end: datetime, *,
             by: str = "department", now: datetime | None = None) -> Ranking:
    """The 三率 of every unit (``by``: department or region) for [start, end)."""
    now = now or datetime.now(UTC)
    settings = config.rankings
    response: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    resolution: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    satisfaction: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    rows = connection.execute(
        select(assignments.c.department, assignments.c.status, assignments.c.accepted_at,
               assignments.c.accept_due_at, appeals.c.region_code)
        .join(appeals, appeals.c.id == assignments.c.appeal_id)
        .where(assignments.c.dispatched_at >= start, assignments.c.dispatched_at < end,
               assignments.c.status.in_(("accepted", "pending")))).mappings().all()
    for row in rows:
        unit = row["department"] if by == "department" else region_unit(row["region_code"])
        due = aware(row["accept_due_at"])
        if row["status"] == "accepted":
            response[unit][1] += 1
            response[unit][0] += aware(row["accepted_at"]) <= due
        elif due < now:  # unsigned past its limit: counted, as a failure
            response[unit][1] += 1

    closed = connection.execute(
        select(appeals.c.id, appeals.c.lead_department, appeals.c.region_code)
        .where(appeals.c.state == State.CLOSED.value, appeals.c.closed_at >= start, appeals.c.closed_at < end,
               appeals.c.lead_department.is_not(None))).mappings().all()
    last_rating = _last_valid_ratings(connection, [r["id"] for r in closed])
    for row in closed:
        rating = last_rating.get(row["id"])
        if rating is None:
            continue
        unit = row["lead_department"] if by == "department" else region_unit(row["region_code"])
        satisfaction[unit][1] += 1
        satisfaction[unit][0] += rating["level"] > config.rating.dissatisfied_max
        if rating["resolved"] is not None:
            resolution[unit][1] += 1
            resolution[unit][0] += bool(rating["resolved"])

    units = sorted(set(response) | set(resolution) | set(satisfaction))
    table = []
    for unit in units:
        rates = {"response": Rate(*response[unit]), "resolution": Rate(*resolution[unit]),
                 "satisfaction": Rate(*satisfaction[unit])}
        items = rates["response"].n
        flag = f"样本不足（{items} < {settings.min_count}），不参与排名" if items < settings.min_count else None
        table.append((unit, items, rates, _score(rates, settings.weights, settings.basis), flag))
    ranked = sorted((t for t in table if t[4] is None and t[3] is not None), key=lambda t: (-t[3], t[0]))
    ranks: dict[str, int] = {}
    for position, entry in enumerate(ranked, start=1):
        previous = ranked[position - 2] if position > 1 else None
        ranks[entry[0]] = ranks[previous[0]] if previous and previous[3] == entry[3] else position
    result = tuple(UnitRow(unit, items, rates, score, ranks.get(unit), flag)
                   for unit, items, rates, score, flag in sorted(
                       table, key=lambda t: (ranks.get(t[0], 10**9), t[0])))
    return Ranking(by, start, end, settings.min_count, settings.basis, dict(settings.weights), result)


def _score(rates: dict[str, Rate], weights: dict[str, float], basis: str) -> float | None:
    total = weighted = 0.0
    for name in RATES:
        value = rates[name].wilson if basis == "wilson" else rates[name].raw
        weight = weights.get(name, 0.0)
        if value is not None and weight > 0:
            total += weight
            weighted += weight * value
    return weighted / total if total else None


def _last_valid_ratings(connection: Connection, appeal_ids: list[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for chunk in range(0, len(appeal_ids), 500):
        rows = connection.execute(select(ratings).where(
            ratings.c.appeal_id.in_(appeal_ids[chunk:chunk + 500]), ratings.c.review_status != "voided")
            .order_by(ratings.c.appeal_id, ratings.c.round)).mappings().all()
        for row in rows:
            found[row["appeal_id"]] = row  # the last round wins
    return found


def monthly_trend(connection: Connection, config: AppealsConfig, months: list[tuple[int, int]], *,
                  by: str = "department", now: datetime | None = None) -> list[Ranking]:
    starts_on = config.rankings.month_starts_on
    return [rankings(connection, config, *month_period(y, m, starts_on), by=by, now=now) for y, m in months]


def export_xlsx(path: str | Path, tables: list[Ranking]) -> Path:
    """One sheet per ranking (按部门 / 按地区 / each month) plus 说明 with the formulas."""
    from qinqing.registry.spreadsheet import safe_cell, xlsx_workbook

    path = Path(path)
    workbook = xlsx_workbook(path)
    percent = workbook.add_format({"num_format": "0.0%"})
    used: set[str] = set()
    for table in tables:
        name = ("按部门" if table.by == "department" else "按地区") + table.start.astimezone(CHINA).strftime("%Y%m")
        while name in used:
            name += "_"
        used.add(name)
        sheet = workbook.add_worksheet(name[:31])
        header = ["排名", "单位", "件数"]
        for rate in RATES:
            header += [f"{RATE_LABELS[rate]}分子", f"{RATE_LABELS[rate]}分母", RATE_LABELS[rate],
                       f"{RATE_LABELS[rate]}（Wilson 下限）"]
        header += ["综合得分", "说明"]
        sheet.write_row(0, 0, header)
        for i, row in enumerate(table.rows, start=1):
            sheet.write(i, 0, row.rank if row.rank is not None else "—")
            sheet.write_string(i, 1, str(safe_cell(row.unit)))
            sheet.write_number(i, 2, row.items)
            column = 3
            for rate in RATES:
                value = row.rates[rate]
                sheet.write_number(i, column, value.successes)
                sheet.write_number(i, column + 1, value.n)
                for offset, number in ((2, value.raw), (3, value.wilson)):
                    if number is None:
                        sheet.write(i, column + offset, "—")
                    else:
                        sheet.write_number(i, column + offset, number, percent)
                column += 4
            if row.score is None:
                sheet.write(i, column, "—")
            else:
                sheet.write_number(i, column, row.score, percent)
            sheet.write_string(i, column + 1, row.flag or "")
    notes = workbook.add_worksheet("说明")
    for i, line in enumerate(__doc__.strip().splitlines()):
        notes.write_string(i, 0, line)
    workbook.close()
    return path
