"""Discovery: every hydrated symbol in the run's scope, with its listing span and data quality.

The run keeps every symbol with a close in its dates, dead ones included, so that walk-forward
windows see the market as it was (no survivorship bias). Whether a symbol may be held is decided
per date, from data up to that date (:mod:`quant_assets.membership`); the ``eligible`` column
here is that decision at the run's decision date, the date the current portfolio is built on.
"""

import pandas as pd

from quant_assets.contracts import UniverseContract, column_names
from quant_assets.membership import decision_date, membership
from quant_assets.settings import Settings

UNIVERSE_COLUMNS = column_names(UniverseContract)


def discover_universe(closes: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Describe every symbol of ``closes`` and judge it as of the run's decision date.

    Parameters
    ----------
    closes : DataFrame of shape (n_dates, n_symbols)
        Wide daily closes (NaN where a symbol did not trade), DatetimeIndex ascending.
    settings : Settings
        ``train``, ``min_history`` and ``max_missing_fraction`` (see
        :func:`quant_assets.membership.membership`).

    Returns
    -------
    DataFrame
        One row per symbol (columns :data:`UNIVERSE_COLUMNS`): ``first_date`` and ``last_date``
        are its listing span in the run's data, ``observations`` its closes,
        ``missing_fraction`` the share of the panel's dates between its first and last close on
        which it has none; ``eligible`` and ``reason`` judge it at the decision date (``reason``
        is "" when eligible).
    """
    if closes.empty:
        return pd.DataFrame(columns=list(UNIVERSE_COLUMNS)).astype(
            {"first_date": "datetime64[ns]", "last_date": "datetime64[ns]", "eligible": bool}
        )
    as_of = decision_date(closes, settings)
    judged = membership(closes, pd.DatetimeIndex([as_of]), settings)
    reasons = judged.reasons_at(0, settings)
    rows = []
    for j, symbol in enumerate(closes.columns):
        series = closes[symbol]
        first, last = series.first_valid_index(), series.last_valid_index()
        observations = int(series.notna().sum())
        span = 0 if first is None else int(((closes.index >= first) & (closes.index <= last)).sum())
        missing = 1.0 if span == 0 else 1.0 - observations / span
        eligible = bool(judged.eligible[0, j])
        if eligible:
            reason = ""
        elif observations == 0:
            reason = "no closes in the run's dates"
        elif last is not None and last < as_of:
            reason = (
                f"last close {pd.Timestamp(last).date()}, before the decision date {as_of.date()}"
            )
        else:
            reason = str(reasons.iloc[j])
        rows.append((str(symbol), first, last, observations, missing, eligible, reason))
    universe = pd.DataFrame(rows, columns=list(UNIVERSE_COLUMNS))
    universe["first_date"] = pd.to_datetime(universe["first_date"]).astype("datetime64[ns]")
    universe["last_date"] = pd.to_datetime(universe["last_date"]).astype("datetime64[ns]")
    return universe.sort_values("symbol").reset_index(drop=True)


def symbols_in_scope(universe: pd.DataFrame) -> list[str]:
    """Symbols of ``universe`` with at least one close in the run's dates, sorted."""
    return sorted(universe.loc[universe["observations"] > 0, "symbol"].astype(str))


def eligible_symbols(universe: pd.DataFrame) -> list[str]:
    """Symbols of ``universe`` eligible at the decision date, sorted."""
    return sorted(universe.loc[universe["eligible"], "symbol"].astype(str))
