"""The canonical daily-bar frame every source produces and the lakehouse stores per symbol."""

import pandas as pd

from quant_assets.contracts import MarketDataContract, column_names

BAR_COLUMNS = column_names(MarketDataContract)
"""Columns of a stored symbol: ``date`` (datetime64[ns], unique, ascending) and float64 prices."""
OPTIONAL_BAR_COLUMNS = ("open", "high", "low", "volume")
DATE_DTYPE = "datetime64[ns]"


class DataQualityError(ValueError):
    """Market data that cannot be stored; the message names source, symbol, column and rows."""


def canonical_bars(frame: pd.DataFrame, *, source: str, symbol: str) -> pd.DataFrame:
    """Return ``frame`` as canonical bars, or raise :class:`DataQualityError` saying what is wrong.

    ``frame`` needs ``date`` and ``close``; missing optional columns become NaN. Rows with a
    missing close are dropped (a gap, not a zero); duplicate dates, unparseable dates and
    non-positive closes are refused with the offending rows named.
    """
    where = f"source {source!r}, symbol {symbol!r}"
    missing = [c for c in ("date", "close") if c not in frame.columns]
    if missing:
        raise DataQualityError(
            f"{where}: missing column(s) {missing}; found {list(frame.columns)}. "
            "Provide `date` and `close` (optionally open, high, low, volume)."
        )
    dates = pd.to_datetime(frame["date"], errors="coerce")
    bad_dates = frame.index[dates.isna()].tolist()
    if bad_dates:
        raise DataQualityError(f"{where}: unparseable `date` in rows {bad_dates[:10]}")
    bars = pd.DataFrame({"date": dates.astype(DATE_DTYPE).to_numpy()})
    for column in BAR_COLUMNS[1:]:
        values = frame[column] if column in frame.columns else float("nan")
        bars[column] = pd.to_numeric(
            pd.Series(values, index=frame.index), errors="coerce"
        ).to_numpy(dtype="float64")
    bars = bars[bars["close"].notna()]
    non_positive = bars.index[bars["close"] <= 0].tolist()
    if non_positive:
        raise DataQualityError(f"{where}: non-positive `close` in rows {non_positive[:10]}")
    duplicated = bars.index[bars["date"].duplicated(keep=False)].tolist()
    if duplicated:
        raise DataQualityError(f"{where}: duplicate dates in rows {duplicated[:10]}")
    return bars.sort_values("date").reset_index(drop=True)
