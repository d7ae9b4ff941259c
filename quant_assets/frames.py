"""Conversions between the long frames the lakehouse stores and the wide frames pillars use."""

import pandas as pd


def closes_to_long(wide: pd.DataFrame) -> pd.DataFrame:
    """Wide closes (dates x symbols) -> long ``date, symbol, close`` without missing closes."""
    stacked = wide.rename_axis(index="date", columns="symbol").stack().dropna()
    long = stacked.rename("close").reset_index()
    long["symbol"] = long["symbol"].astype(str)
    return long.sort_values(["date", "symbol"]).reset_index(drop=True)


def closes_to_wide(long: pd.DataFrame) -> pd.DataFrame:
    """Long ``date, symbol, close`` -> wide closes (DatetimeIndex ``date`` x sorted symbols)."""
    wide = long.pivot(index="date", columns="symbol", values="close").sort_index()
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    wide.columns = pd.Index([str(c) for c in wide.columns], name="symbol")
    return wide[sorted(wide.columns)].astype("float64")
