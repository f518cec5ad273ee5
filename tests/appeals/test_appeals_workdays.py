"""Working-day deadlines across 调休 weekends and public holidays (2026 安排 as chinesecalendar carries it)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from qinqing.appeals.workdays import CHINA, PACKAGE_VERSION, WorkCalendar, add_hours

CAL = WorkCalendar()


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA)


@pytest.mark.parametrize(("start", "days", "due"), [
    (at(2026, 9, 14, 9), 1, date(2026, 9, 15)),           # Monday → Tuesday
    (at(2026, 9, 18, 9), 1, date(2026, 9, 20)),           # Friday → Sunday 20 Sep, a 调休 workday
    (at(2026, 9, 30, 9), 1, date(2026, 10, 8)),           # 国庆 1–7 Oct is skipped
    (at(2026, 10, 9, 9), 1, date(2026, 10, 10)),          # Saturday 10 Oct, a 调休 workday
    (at(2026, 9, 25, 9), 15, date(2026, 10, 22)),         # 15 wd across 国庆 and the 调休 Saturday
    (at(2026, 2, 13, 17), 2, date(2026, 2, 24)),          # 14 Feb (Sat) worked, then 春节 15–23 Feb
])
def test_working_days_honour_holidays_and_makeup_days(start, days, due):
    deadline = CAL.add_working_days(start, days)
    assert deadline.due_at.date() == due
    assert deadline.due_at.hour == 23 and deadline.due_at.tzinfo is not None
    assert deadline.covered and deadline.calendar_version == PACKAGE_VERSION


def test_the_15_day_count_is_the_official_calendar_not_weekdays():
    """Plain Monday–Friday would say 16 Oct: the 调休 Saturday (10 Oct) counts, the holidays (1–7 Oct) do not."""
    deadline = CAL.add_working_days(at(2026, 9, 25, 9), 15)
    assert deadline.due_at.date() == date(2026, 10, 22)
    assert CAL.working_days_between(at(2026, 9, 25, 9), deadline.due_at) == 15


def test_a_year_the_package_does_not_cover_falls_back_and_says_so():
    deadline = CAL.add_working_days(at(2026, 12, 30, 9), 2)
    assert deadline.due_at.date() == date(2027, 1, 4)  # 31 Dec, then 1 Jan (元旦, fixed) and the weekend skipped
    assert not deadline.covered
    assert "2027" in deadline.calendar_version and "未收录" in deadline.calendar_version


def test_overrides_are_honoured_and_change_the_recorded_version():
    calendar = WorkCalendar({date(2027, 1, 4): False})
    deadline = calendar.add_working_days(at(2026, 12, 30, 9), 2)
    assert deadline.due_at.date() == date(2027, 1, 5)
    assert deadline.calendar_version.startswith(PACKAGE_VERSION + "+overrides:")
    assert calendar.version != CAL.version


def test_hour_limits_run_round_the_clock():
    deadline = add_hours(at(2026, 10, 1, 23), 2, CAL)  # 12345 answers 7×24, holidays included
    assert deadline.due_at == at(2026, 10, 2, 1)
