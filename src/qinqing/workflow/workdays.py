"""Working days: the official holiday and 调休 calendar (国务院办公厅 annual notices, as packaged by
``chinesecalendar`` on PyPI), with the calendar's version recorded beside every deadline it computed.

A day past the package's last covered year is counted as Monday–Friday, and the version says so
(``chinesecalendar 1.11.0; 2027 按周一至周五``): such a deadline is provisional until the package
covers the year.

>>> from datetime import date
>>> add_working_days(date(2026, 9, 30), 1)   # 国庆 2026: 10-01 … 10-07 off, 10-10 (Sat) a 调休 working day
datetime.date(2026, 10, 8)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

CHINA = ZoneInfo("Asia/Shanghai")  # deadlines end at midnight, China time
PACKAGE = "chinesecalendar"
VERSION = chinese_calendar.__version__
LAST_YEAR = max(chinese_calendar.holidays).year
FIRST_YEAR = min(chinese_calendar.holidays).year


def is_working_day(day: date) -> bool:
    if FIRST_YEAR <= day.year <= LAST_YEAR:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


@dataclass(frozen=True)
class Deadline:
    day: date
    calendar: str  # the calendar and version it was computed with


def calendar_label(start: date, end: date) -> str:
    label = f"{PACKAGE} {VERSION}"
    beyond = sorted({y for y in range(start.year, end.year + 1) if y > LAST_YEAR})
    if beyond:
        label += f"; {beyond[0]}起按周一至周五"
    return label


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
    if days < 0:
        raise ValueError("days must be ≥ 0")
    day, left = start, days
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def deadline(start: date, days: int) -> Deadline:
    end = add_working_days(start, days)
    return Deadline(end, calendar_label(start, end))


def working_days_left(today: date, due: date) -> int:
    """Working days from ``today`` (excluded) to ``due`` (included); negative when ``due`` has passed."""
    if due >= today:
        return sum(1 for n in range(1, (due - today).days + 1) if is_working_day(today + timedelta(days=n)))
    return -sum(1 for n in range((today - due).days) if is_working_day(due + timedelta(days=n + 1)))


def end_of(day: date):
    """The last moment of ``day`` in China time (a deadline's clock rings then)."""
    from datetime import datetime, time

    return datetime.combine(day, time(23, 59, 59), tzinfo=CHINA)


def working_days_before(day: date, days: int) -> date:
    """The working day ``days`` working days before ``day``."""
    left = days
    while left:
        day -= timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
