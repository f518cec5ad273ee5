"""What the runner knows how to do: event handlers, scheduled jobs and tasks, registered by the pieces."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from qinqing.events import Event

if TYPE_CHECKING:
    from qinqing.jobs.context import JobContext

EventHandler = Callable[["JobContext", Any], Any]  # (job, event) -> optional JSON-able summary
ScheduledJob = Callable[["JobContext"], Any]
TaskFunction = Callable[["JobContext", dict[str, Any]], Any]  # (job, payload)

DEFAULT_TIMEZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Handler:
    name: str
    event_type: str
    fn: EventHandler
    max_attempts: int


@dataclass(frozen=True)
class Every:
    """A fixed interval, counted from the first time a worker saw the schedule."""

    interval: timedelta

    def next_after(self, moment: datetime) -> datetime:
        return moment + self.interval

    def __str__(self) -> str:
        return f"every {int(self.interval.total_seconds())}s"


@dataclass(frozen=True)
class Daily:
    """Once a day at ``at`` (local time of ``tz``, 中国标准时间 by default)."""

    at: time
    tz: ZoneInfo = DEFAULT_TIMEZONE

    def next_after(self, moment: datetime) -> datetime:
        local = moment.astimezone(self.tz)
        candidate = datetime.combine(local.date(), self.at, tzinfo=self.tz)
        if candidate <= local:
            candidate = datetime.combine(local.date() + timedelta(days=1), self.at, tzinfo=self.tz)
        return candidate

    def __str__(self) -> str:
        return f"daily {self.at:%H:%M}"


@dataclass(frozen=True)
class Schedule:
    name: str
    when: Every | Daily
    fn: ScheduledJob
    max_attempts: int


@dataclass(frozen=True)
class Task:
    name: str
    fn: TaskFunction
    max_attempts: int


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_when(when: str | timedelta | Every | Daily) -> Every | Daily:
    """``timedelta(minutes=5)``, ``"every 5m"`` (s, m, h, d), ``"hourly"`` or ``"daily 02:00"``."""
    if isinstance(when, (Every, Daily)):
        return when
    if isinstance(when, timedelta):
        if when <= timedelta(0):
            raise ValueError("a schedule's interval is positive")
        return Every(when)
    text = when.strip().lower()
    if text == "hourly":
        return Every(timedelta(hours=1))
    match = re.fullmatch(r"every\s+(\d+)\s*([smhd])", text)
    if match and int(match.group(1)) > 0:
        return Every(timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)]))
    match = re.fullmatch(r"daily\s+([01]?\d|2[0-3]):([0-5]\d)", text)
    if match:
        return Daily(time(int(match.group(1)), int(match.group(2))))
    raise ValueError(f"a schedule is 'every N[s|m|h|d]', 'hourly' or 'daily HH:MM', not {when!r}")


class Registry:
    """Handlers by event type, schedules and tasks by name. One global instance (``REGISTRY``) is what
    the module-level ``register_*`` functions fill; tests build their own."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.schedules: dict[str, Schedule] = {}
        self.tasks: dict[str, Task] = {}

    def register_handler(self, event_type: str | type[Event], fn: EventHandler, *, name: str | None = None,
                         max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Handler:
        type_name = event_type if isinstance(event_type, str) else event_type.type
        handler = Handler(name or _name_of(fn), type_name, fn, max_attempts)
        self._check_free(handler.name, self.handlers.get(handler.name), handler)
        self.handlers[handler.name] = handler
        return handler

    def register_schedule(self, name: str, when: str | timedelta | Every | Daily, fn: ScheduledJob, *,
                          max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Schedule:
        schedule = Schedule(name, parse_when(when), fn, max_attempts)
        self._check_free(name, self.schedules.get(name), schedule)
        self.schedules[name] = schedule
        return schedule

    def register_task(self, name: str, fn: TaskFunction, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Task:
        task = Task(name, fn, max_attempts)
        self._check_free(name, self.tasks.get(name), task)
        self.tasks[name] = task
        return task

    def handlers_for(self, event_type: str) -> list[Handler]:
        return [h for h in self.handlers.values() if h.event_type == event_type]

    def event_types(self) -> set[str]:
        return {h.event_type for h in self.handlers.values()}

    @staticmethod
    def _check_free(name: str, existing: Any, new: Any) -> None:
        # Importing a module twice (tests, reloads) registers the same function again: that is allowed.
        if existing is not None and _name_of(existing.fn) != _name_of(new.fn):
            raise ValueError(f"job name {name!r} is already registered for {_name_of(existing.fn)}")


def _name_of(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{getattr(fn, '__qualname__', repr(fn))}"


REGISTRY = Registry()
