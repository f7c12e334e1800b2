"""Article 12(3): one month from receipt, three when the recipient notified an extension
in time; a period ending on a Saturday, Sunday or French public holiday ends on the next
working day (Regulation (EEC, Euratom) 1182/71, art. 3(4), as the EDPB applies it)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import holidays

REMINDER_DAYS = 15  # the final short deadline a reminder gives


def add_months(start: date, months: int) -> date:
    """Same day N months later, or that month's last day when it has none
    (31 January + 1 month = 28 February; + 3 months = 30 April)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@cache
def _french_holidays(year: int) -> holidays.HolidayBase:
    import holidays  # 25 ms to import: only the commands that count days pay it

    return holidays.France(years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def next_working_day(day: date) -> date:
    """The day itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def deadline(receipt: date, *, extended: bool = False) -> date:
    return next_working_day(add_months(receipt, 3 if extended else 1))


def extension_counts(receipt: date, notified_on: date) -> bool:
    """Art. 12(3): an extension moves the deadline only when notified within the first month."""
    return notified_on <= deadline(receipt)
