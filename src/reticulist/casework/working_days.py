"""Working days between dates, England and Wales: weekends and bank holidays (from the maintained
``holidays`` calendar, not a hand-typed list) are not working days. Pure, vectorised with NumPy's
business-day functions, so a partnership's figures over thousands of referrals take one call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache

import holidays
import numpy as np


@cache
def bank_holidays(first_year: int, last_year: int) -> np.ndarray:
    """England and Wales bank holidays (the same days in both) from ``first_year`` to ``last_year``."""
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.array(sorted(days), dtype="datetime64[D]")


def working_days_between(starts: Sequence[date], ends: Sequence[date]) -> np.ndarray:
    """For each pair, the working days from ``start`` to ``end``: a decision on the same day is 0, on the
    next working day 1 (a referral sent on a Friday and decided on Monday took 1; over a bank holiday
    Monday, decided on Tuesday, also 1). Negative when ``end`` is before ``start``."""
    if len(starts) != len(ends):
        raise ValueError("starts and ends differ in length")
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    a = np.array(starts, dtype="datetime64[D]")
    b = np.array(ends, dtype="datetime64[D]")
    years = np.concatenate([a, b]).astype("datetime64[Y]").astype(int) + 1970
    calendar = bank_holidays(int(years.min()), int(years.max()))
    # A referral that arrives on a day off counts from the next working day.
    a = np.busday_offset(a, 0, roll="forward", holidays=calendar)
    b = np.busday_offset(b, 0, roll="forward", holidays=calendar)
    return np.busday_count(a, b, holidays=calendar).astype(np.int64)


def working_days(start: date, end: date) -> int:
    return int(working_days_between([start], [end])[0])
