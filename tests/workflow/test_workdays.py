"""Working days follow the official holiday and 调休 calendar, and the calendar's version is recorded."""

from datetime import date

from qinqing.workflow import workdays


def test_holidays_and_makeup_workdays() -> None:
    assert not workdays.is_working_day(date(2026, 10, 1))  # 国庆
    assert workdays.is_working_day(date(2026, 10, 10))  # Saturday, a 调休 working day
    assert workdays.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert workdays.add_working_days(date(2025, 6, 30), 3) == date(2025, 7, 3)  # 台州: paid in 3 working days


def test_the_calendar_version_is_recorded_and_beyond_its_years_says_so() -> None:
    assert workdays.deadline(date(2025, 6, 30), 3).calendar == f"chinesecalendar {workdays.VERSION}"
    late = workdays.deadline(date(workdays.LAST_YEAR, 12, 30), 5)
    assert "周一至周五" in late.calendar


def test_working_days_left() -> None:
    assert workdays.working_days_left(date(2025, 6, 30), date(2025, 7, 3)) == 3
    assert workdays.working_days_left(date(2025, 7, 7), date(2025, 7, 3)) == -2
