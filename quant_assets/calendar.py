"""Facts of the trading calendar: annualising daily figures, the last completed trading day."""

from datetime import UTC, date, datetime, time, timedelta

TRADING_DAYS_PER_YEAR = 252
"""Trading days in a year: annualises daily returns, volatilities and rates everywhere."""

LATEST_CLOSE_UTC = time(21, 0)
"""The latest a US session closes, in UTC (16:00 in New York in winter; 20:00 UTC in summer)."""
SATURDAY = 5


def last_completed_trading_day(now: datetime) -> date:
    """The last weekday whose US session has closed at ``now`` (naive means UTC).

    Holidays are not known: on one, no bar is expected anyway. The clock is the caller's (a
    hydration's run time, a test's pinned instant): nothing here reads the time.
    """
    moment = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    day = moment.date()
    if moment.time() < LATEST_CLOSE_UTC:
        day -= timedelta(days=1)
    while day.weekday() >= SATURDAY:
        day -= timedelta(days=1)
    return day
