"""The rehearsal clock: `--today` as a date or as days from today, and China's working days."""
from __future__ import annotations

import argparse
import datetime as dt

import pytest

from pipeline import cli, clock


def test_today_as_days_from_now_lets_a_written_rehearsal_run_on_any_day() -> None:
    assert cli._date("+15") == clock.now().date() + dt.timedelta(days=15)
    assert cli._date("+0") == clock.now().date()
    assert cli._date("2026-10-01") == dt.date(2026, 10, 1)


@pytest.mark.parametrize("value", ["+", "+1.5", "-3", "15", "2026-13-01"])
def test_anything_else_is_refused_with_both_forms_named(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"YYYY-MM-DD.*\+天数"):
        cli._date(value)


def test_working_days_skip_the_national_day_holiday_and_count_the_adjusted_saturday() -> None:
    # 2026: 1–7 October off; Saturday 10 October is an adjusted workday (国办发明电〔2025〕7号)
    assert clock.add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 8)
    assert clock.is_working_day(dt.date(2026, 10, 10))
