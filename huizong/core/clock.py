"""The one clock: every "today" of huizong comes from here.

The current quarter, deadlines, on time or late, what is due, and the moment a pass first sees a
file all read `today()` or `now()`. `HUIZONG_TODAY` (an ISO date such as 2020-08-01) sets the
date, for tests, examples and an office replaying a past quarter; otherwise it is today's date in
Asia/Shanghai, the office's time zone (FORM.md's deadlines are in it).
"""
from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

from huizong.core.errors import HuizongError

OFFICE_TZ = ZoneInfo("Asia/Shanghai")
TODAY_VARIABLE = "HUIZONG_TODAY"


class ClockError(HuizongError, ValueError):
    """HUIZONG_TODAY is set to something that is not an ISO date."""


def _fixed_date() -> dt.date | None:
    text = os.environ.get(TODAY_VARIABLE, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ClockError(f"{TODAY_VARIABLE}={text!r} is not a date such as 2020-08-01") from None


def now() -> dt.datetime:
    """The current moment in Asia/Shanghai; on HUIZONG_TODAY's date when it is set (at the
    current time of day), so that a replayed quarter sees files arrive "today"."""
    real = dt.datetime.now(OFFICE_TZ)
    fixed = _fixed_date()
    return real if fixed is None else dt.datetime.combine(fixed, real.timetz())


def today() -> dt.date:
    return now().date()


def quarter_index(period: str) -> int:
    """2019Q1 -> 2019 * 4 + 0: consecutive quarters are consecutive integers."""
    return int(period[:4]) * 4 + int(period[-1]) - 1


def period_of(index: int) -> str:
    return f"{index // 4}Q{index % 4 + 1}"


def period_containing(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def current_period() -> str:
    """The quarter today falls in: a period later than this cannot have been reported."""
    return period_containing(today())


def quarter_end(period: str) -> dt.date:
    """The last day of the quarter: 2019Q1 -> 2019-03-31."""
    year, q = int(period[:4]), int(period[-1])
    first_of_next = dt.date(year + (q == 4), q * 3 % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def due_by(period: str) -> dt.datetime:
    """FORM.md's deadline: the end of the 10th day of the month after the quarter, in
    Asia/Shanghai (2019Q1 is due by 2019-04-10 24:00)."""
    year, q = int(period[:4]), int(period[-1])
    tenth = dt.date(year + (q == 4), q * 3 % 12 + 1, 10)
    return dt.datetime.combine(tenth + dt.timedelta(days=1), dt.time(), OFFICE_TZ)
