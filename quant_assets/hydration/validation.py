"""Checks a symbol's bars must pass before they are stored: the contract and the spike rule.

:func:`validate_bars` runs on the exact frame hydration is about to write (stored history merged
with what the source sent), so nothing reaches the lakehouse without passing it:

0. At least one bar (a symbol with no closes is refused, not stored empty).
1. :class:`~quant_assets.contracts.MarketDataContract` (structure: columns, dtypes, unique
   ascending dates, positive closes, non-negative volume).
2. The **spike rule**. A close is an implausible one-day spike when it jumps from the previous
   close by a factor of at least :data:`SPIKE_FACTOR` (x5 up, or down to 1/5, i.e. -80%) AND the
   next close comes back to within :data:`SPIKE_REVERSAL_TOLERANCE` (25%) of the close before
   the jump. A real move that holds (a buy-out, a crash) is kept; a fat-finger value (a price in
   cents among dollars, a x1000 typo) that the next day undoes is refused. The last bar has no
   next day yet, so it is judged when the next bar arrives.

3. **No bar after the last completed trading day** (given by the caller: the hydration's clock),
   so a file with bars up to 2200 is refused, naming the rows, instead of stored and traded.

Failures raise :class:`~quant_assets.hydration.bars.DataQualityError` naming the rows.

:func:`suspected_splits` is a warning, not a refusal: a one-day move by a split ratio (x2, x3,
x4, x5, x10 or their inverses, within :data:`SPLIT_RATIO_TOLERANCE`) that holds the next day
looks like a split the source did not adjust for. The bars are stored; the hydration's report
and the ``market_data_has_no_unadjusted_split`` check (tier 2) say so before a run trades it.
"""

from datetime import date

import numpy as np
import pandas as pd
import pandera.pandas as pa

from quant_assets.contracts import MarketDataContract
from quant_assets.hydration.bars import BAR_COLUMNS, DATE_DTYPE, ROWS_SHOWN, DataQualityError

SPIKE_FACTOR = 5.0
"""A one-day move of at least x5 (or down to 1/5, -80%) is a spike candidate."""
SPIKE_REVERSAL_TOLERANCE = 0.25
"""A candidate is a spike when the next close is within 25% of the close before the jump."""


SPLIT_RATIOS = (2.0, 3.0, 4.0, 5.0, 10.0, 1 / 2, 1 / 3, 1 / 4, 1 / 5, 1 / 10)
"""One-day close ratios of common splits (x2 is a 1:2 reverse split, 1/2 a 2-for-1 split)."""
SPLIT_RATIO_TOLERANCE = 0.03
"""A move is a split ratio when within 3% of one (the day's own return rides on it)."""
SPLIT_HOLD_TOLERANCE = 0.25
"""The move holds when the next close stays within 25% of the moved close."""
SPLIT_RATIO_LOW = min(r for r in SPLIT_RATIOS if r > 1) * (1 - SPLIT_RATIO_TOLERANCE)
SPLIT_RATIO_HIGH = max(r for r in SPLIT_RATIOS if r < 1) * (1 + SPLIT_RATIO_TOLERANCE)
"""A one-day ratio strictly between these two is near no split ratio (x1.94 and x0.515)."""


def suspected_splits(bars: pd.DataFrame) -> list[str]:
    """Unadjusted-split suspects: ``"2020-08-31: close 500 -> 125 (x1/4), holds"`` each.

    A close at ``t`` whose ratio to ``t - 1`` is within :data:`SPLIT_RATIO_TOLERANCE` of a
    :data:`SPLIT_RATIOS` entry and whose next close stays within :data:`SPLIT_HOLD_TOLERANCE`
    of it (the last bar has no next day yet: judged when it arrives).
    """
    close = bars["close"].to_numpy(dtype="float64")
    if close.size < 3:
        return []
    before, at, after = close[:-2], close[1:-1], close[2:]
    ratio = at / before
    candidates = np.flatnonzero((ratio >= SPLIT_RATIO_LOW) | (ratio <= SPLIT_RATIO_HIGH))
    if not candidates.size:  # almost always: no day moves by half or double
        return []
    ratios = np.asarray(SPLIT_RATIOS)
    moved = ratio[candidates]
    nearest = ratios[np.argmin(np.abs(moved[:, None] / ratios[None, :] - 1.0), axis=1)]
    near = np.abs(moved / nearest - 1.0) <= SPLIT_RATIO_TOLERANCE
    holds = np.abs(after[candidates] / at[candidates] - 1.0) <= SPLIT_HOLD_TOLERANCE
    dates = bars["date"].to_numpy()
    found = []
    for t, factor in zip(candidates[near & holds] + 1, nearest[near & holds], strict=True):
        label = f"x{factor:g}" if factor >= 1 else f"x1/{1 / factor:g}"
        day = np.datetime_as_string(dates[t], unit="D")
        found.append(f"{day}: close {close[t - 1]:g} -> {close[t]:g} ({label}), holds")
    return found


def spike_rows(close: np.ndarray) -> np.ndarray:
    """Positions of implausible one-day spikes in ``close`` (see the module docstring).

    Parameters
    ----------
    close : ndarray, shape (n,)
        Positive finite closes in date order (no NaN: gaps are dropped before).

    Returns
    -------
    ndarray of int, shape (k,)
        Ascending positions ``t`` (``1 <= t <= n - 2``) of the spiking closes.
    """
    close = np.asarray(close, dtype="float64")
    if close.size < 3:
        return np.empty(0, dtype="int64")
    before, at, after = close[:-2], close[1:-1], close[2:]
    jump = at / before
    candidate = (jump >= SPIKE_FACTOR) | (jump <= 1.0 / SPIKE_FACTOR)
    reverted = np.abs(after / before - 1.0) <= SPIKE_REVERSAL_TOLERANCE
    return np.flatnonzero(candidate & reverted) + 1


def plainly_valid(bars: pd.DataFrame) -> bool:
    """Whether ``bars`` certainly pass :class:`~quant_assets.contracts.MarketDataContract`.

    Array checks of exactly what the contract asks: its columns and no others, datetime64[ns]
    dates strictly increasing (unique, ascending, no NaT), float64 prices, every close positive,
    every volume non-negative or missing. True means pandera would pass the frame; False means
    "ask pandera" (which then passes or names the failure), so this only ever skips work.
    """
    columns = dict(bars.items())  # by name, without building a lookup table per frame
    if len(columns) != len(bars.columns) or set(columns) != set(BAR_COLUMNS):
        return False  # a column missing, extra or repeated
    if columns["date"].dtype != np.dtype(DATE_DTYPE):
        return False
    if any(columns[column].dtype != np.float64 for column in BAR_COLUMNS[1:]):
        return False
    stamps = columns["date"].to_numpy().view(np.int64)
    if len(stamps) and (stamps[0] == np.iinfo(np.int64).min or np.any(stamps[1:] <= stamps[:-1])):
        return False  # NaT is the smallest int64; strictly increasing means unique and sorted
    volume = columns["volume"].to_numpy()
    return bool(np.all(columns["close"].to_numpy() > 0) and not np.any(volume < 0))


def validate_bars(
    bars: pd.DataFrame,
    *,
    source: str,
    symbol: str,
    file: str | None = None,
    last_completed_day: date | None = None,
) -> pd.DataFrame:
    """Return ``bars`` if they pass the contract, the spike rule and the date bound, else raise.

    Parameters
    ----------
    bars : DataFrame
        Canonical bars (:data:`~quant_assets.hydration.bars.BAR_COLUMNS`) about to be stored.
    source, symbol, file : str
        Named in the error.
    last_completed_day : date, optional
        Bars dated after it are refused (the caller's clock, see
        :func:`quant_assets.calendar.last_completed_trading_day`); None: no bound.

    Raises
    ------
    DataQualityError
        The first contract failure (check, column, rows) or the spiking rows and their closes.
    """
    if bars.empty:
        raise DataQualityError(
            "no bars with a close",
            source=source,
            symbol=symbol,
            file=file,
            column="close",
            action="Provide at least one row with a date and a close",
        )
    try:
        if not plainly_valid(bars):  # pandera decides, and words the error, in any doubt
            MarketDataContract.validate(bars, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        first = cases.iloc[0]
        column = None if pd.isna(first["column"]) else str(first["column"])
        same = cases[(cases["column"] == first["column"]) & (cases["check"] == first["check"])]
        rows = [int(i) for i in same["index"].dropna()]
        raise DataQualityError(
            f"fails {MarketDataContract.__name__} check {first['check']!r} "
            f"({len(cases)} failure(s) in all)",
            source=source,
            symbol=symbol,
            file=file,
            column=column,
            rows=rows,
            action="Fix these rows at the source",
        ) from None
    if last_completed_day is not None:
        future = np.flatnonzero(bars["date"].to_numpy() > np.datetime64(last_completed_day, "ns"))
        if future.size:
            day = bars["date"].dt.date.to_numpy()
            raise DataQualityError(
                f"{future.size} bar(s) dated after the last completed trading day "
                f"{last_completed_day} (from {day[future[0]]} to {day[future[-1]]})",
                source=source,
                symbol=symbol,
                file=file,
                column="date",
                rows=[int(t) for t in future],
                action="Remove the bars of days that have not closed yet (a wrong date format or "
                "a placeholder?) and hydrate again",
            )
    spikes = spike_rows(bars["close"].to_numpy())
    if spikes.size:
        close = bars["close"].to_numpy()
        day = bars["date"].dt.date.to_numpy()
        shown = [
            f"{day[t]}: {close[t - 1]:g} -> {close[t]:g} -> {close[t + 1]:g}"
            for t in spikes[:ROWS_SHOWN]
        ]
        raise DataQualityError(
            f"implausible one-day spike(s) of x{SPIKE_FACTOR:g} or more that reverse the next "
            f"day within {SPIKE_REVERSAL_TOLERANCE:.0%} ({'; '.join(shown)})",
            source=source,
            symbol=symbol,
            file=file,
            column="close",
            rows=[int(t) for t in spikes],
            action="Check these closes at the source (a typo or a unit change?) and fix them",
        )
    return bars
