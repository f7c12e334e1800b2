"""Article 12(3): one month from receipt, three when the recipient notified an extension."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

REMINDER_DAYS = 15  # the final short deadline a reminder gives


def add_months(start: date, months: int) -> date:
    """Same day N months later, or that month's last day when it has none
    (31 January + 1 month = 28 February; + 3 months = 30 April)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def deadline(receipt: date, *, extended: bool = False) -> date:
    return add_months(receipt, 3 if extended else 1)


def final_deadline(reminded_on: date) -> date:
    return reminded_on + timedelta(days=REMINDER_DAYS)
