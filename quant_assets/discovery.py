"""Discovery: which hydrated symbols have enough clean history to enter the candidate universe."""

import pandas as pd

from quant_assets.contracts import UniverseContract, column_names
from quant_assets.settings import Settings

UNIVERSE_COLUMNS = column_names(UniverseContract)


def discover_universe(closes: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Judge every symbol of ``closes`` for the universe.

    Parameters
    ----------
    closes : DataFrame of shape (n_dates, n_symbols)
        Wide daily closes (NaN where a symbol did not trade), DatetimeIndex ascending.
    settings : Settings
        Uses ``min_history`` and ``max_missing_fraction``.

    Returns
    -------
    DataFrame
        One row per symbol (columns :data:`UNIVERSE_COLUMNS`); ``reason`` says why a symbol is
        not eligible ("" when it is). ``missing_fraction`` counts dates of the panel between the
        symbol's first and last close on which it has none.
    """
    panel_last = closes.index[-1]
    rows = []
    for symbol in closes.columns:
        series = closes[symbol]
        first, last = series.first_valid_index(), series.last_valid_index()
        observations = int(series.notna().sum())
        span = 0 if first is None else int(((closes.index >= first) & (closes.index <= last)).sum())
        missing = 1.0 if span == 0 else 1.0 - observations / span
        if observations < settings.min_history:
            reason = f"only {observations} closes, needs min_history={settings.min_history}"
        elif missing > settings.max_missing_fraction:
            reason = (
                f"missing {missing:.1%} of dates, above max_missing_fraction="
                f"{settings.max_missing_fraction:.1%}"
            )
        elif last != panel_last:
            reason = f"no close since {pd.Timestamp(last).date()} (panel ends {panel_last.date()})"
        else:
            reason = ""
        rows.append((str(symbol), first, last, observations, missing, reason == "", reason))
    universe = pd.DataFrame(rows, columns=list(UNIVERSE_COLUMNS))
    universe["first_date"] = pd.to_datetime(universe["first_date"]).astype("datetime64[ns]")
    universe["last_date"] = pd.to_datetime(universe["last_date"]).astype("datetime64[ns]")
    return universe.sort_values("symbol").reset_index(drop=True)


def eligible_symbols(universe: pd.DataFrame) -> list[str]:
    """Symbols of ``universe`` marked eligible, sorted."""
    return sorted(universe.loc[universe["eligible"], "symbol"].astype(str))
