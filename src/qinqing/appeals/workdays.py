"""Working days in China: Monday–Friday, less the official public holidays, plus the 调休 makeup workdays.

The State Council's 办公厅 publishes each year's 节假日安排 (holidays and the weekend days worked instead).
``chinesecalendar`` (PyPI) carries them; its version is recorded with every deadline computed here, so a
deadline can be explained later even after the package (or an override) changes. A year the package does
not cover yet falls back to Monday–Friday less the fixed-date statutory holidays, and the deadline says so (``covered`` false, and the version text
names the uncovered year); a deployment can add a year's 安排 itself as overrides in the appeals
configuration (``calendar_overrides``) before the package catches up.

Deadlines count whole working days from the day after the start (自受理次日起算) and end at 23:59:59
China time on the last one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from importlib.metadata import version
from zoneinfo import ZoneInfo

import chinese_calendar

CHINA = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)
PACKAGE_VERSION = f"chinesecalendar {version('chinesecalendar')}"
# The statutory holidays on fixed Gregorian dates (《全国年节及纪念日放假办法》, 2024 revision: 元旦 1 日,
# 劳动节 5 月 1–2 日, 国庆节 10 月 1–3 日), kept off in a year the package does not cover. The lunar ones
# (春节, 端午, 中秋) and 清明 and every 调休 need the year's 安排: add them as overrides.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


@dataclass(frozen=True)
class Deadline:
    due_at: datetime  # aware, China time
    working_days: int
    calendar_version: str
    covered: bool  # every day counted was in the official calendar (package or overrides)


@dataclass(frozen=True)
class WorkCalendar:
    """``overrides`` map a date to True (a working day, e.g. a 调休 Saturday) or False (a holiday)."""

    overrides: dict[date, bool] = field(default_factory=dict)

    @cached_property
    def version(self) -> str:
        if not self.overrides:
            return PACKAGE_VERSION
        text = ",".join(f"{d.isoformat()}={int(v)}" for d, v in sorted(self.overrides.items()))
        return f"{PACKAGE_VERSION}+overrides:{hashlib.sha256(text.encode()).hexdigest()[:8]}"

    def day(self, day: date) -> tuple[bool, bool]:
        """(is a working day, the official calendar covers it)."""
        if day in self.overrides:
            return self.overrides[day], True
        try:
            return chinese_calendar.is_workday(day), True
        except NotImplementedError:  # a year the package has no 安排 for yet
            return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS, False

    def is_working_day(self, day: date) -> bool:
        return self.day(day)[0]

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        """The end of the ``days``-th working day after ``start``'s date (China time).

        >>> cal = WorkCalendar()
        >>> cal.add_working_days(datetime(2026, 9, 30, 10, tzinfo=CHINA), 1).due_at.date()  # 国庆 1–7 Oct
        datetime.date(2026, 10, 8)
        """
        if days < 0:
            raise ValueError("working days are counted forward")
        day = start.astimezone(CHINA).date()
        covered, counted = True, 0
        while counted < days:
            day += timedelta(days=1)
            working, known = self.day(day)
            covered = covered and known
            counted += working
        if days == 0:
            covered = self.day(day)[1]
        uncovered = "" if covered else f"（{day.year} 年安排未收录，按周一至周五计）"
        return Deadline(datetime.combine(day, END_OF_DAY, tzinfo=CHINA), days, self.version + uncovered, covered)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after ``start``'s date up to and including ``end``'s date (0 when end ≤ start)."""
        first, last = start.astimezone(CHINA).date(), end.astimezone(CHINA).date()
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


def add_hours(start: datetime, hours: float, calendar: WorkCalendar) -> Deadline:
    """A deadline in clock hours (12345 works 7×24: 派单 within 1 h / 2 h / 24 h)."""
    return Deadline((start + timedelta(hours=hours)).astimezone(CHINA), 0, calendar.version, True)
