"""The one clock of the operations loop (patrol, inbox, emergency) and China's working days.

A rehearsal sets "today" with `--today YYYY-MM-DD` (`pipeline.cli.add_today`) instead of faking the
system clock; every deadline, the days without publishing, expiry and overdue judgements read it.
Working days follow the State Council's holiday arrangement (public holidays off, adjusted
weekend workdays 调休 on) as the `chinese_calendar` package publishes it.
"""
from __future__ import annotations

import datetime as dt

import chinese_calendar

from pipeline.posts import BEIJING


def now(today: dt.date | None = None) -> dt.datetime:
    """Beijing time; on a date given for a rehearsal, at the present time of day."""
    current = dt.datetime.now(BEIJING)
    return current if today is None else dt.datetime.combine(today, current.timetz())


MINUTE = "%Y-%m-%d %H:%M"  # how people read and type a time: to the minute, Beijing


def minute(moment: dt.datetime | None) -> str:
    """A time as messages and records show it, to the minute ("—" for none)."""
    return moment.strftime(MINUTE) if moment else "—"


def is_working_day(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # The package knows only the years whose arrangement has been announced (each December for the
        # next year) and released: beyond them Monday to Friday is the best guess, off by a holiday at most.
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The working day `days` working days after `start` (`start` itself when 0)."""
    current, left = start, days
    while left:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current
