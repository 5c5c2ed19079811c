"""When a subject access request must be answered (UK GDPR Article 12(3), as the ICO reads it): by the
corresponding calendar date in the month after the clock starts (the day the request is received, or the
day the requester's identity is confirmed when it had to be checked); when that month has no such date (a
request of 31 January), by its last day; and when the date falls on a weekend or bank holiday, by the next
working day. An extension for a complex request adds two further months. Pure: dates in, dates out."""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np

from reticulist.casework.working_days import bank_holidays


def months_after(start: date, months: int) -> date:
    """The corresponding date ``months`` calendar months after ``start``, or that month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day in England and Wales, else the next one."""
    holidays = bank_holidays(day.year, day.year + 1)
    rolled = np.busday_offset(np.datetime64(day, "D"), 0, roll="forward", holidays=holidays)
    return rolled.astype("datetime64[D]").item()


def due_on(received_on: date, identity_checked_on: date | None, *, extended: bool = False) -> date:
    """The date the answer is due. The clock starts on receipt, or on the identity check when that came
    later; an extension for a complex request makes it three months in all."""
    start = max(received_on, identity_checked_on) if identity_checked_on else received_on
    return next_working_day(months_after(start, 3 if extended else 1))
