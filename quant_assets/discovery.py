"""Discovery: every hydrated symbol in the run's scope, with its listing span and data quality.

The run keeps every symbol with a close in its dates, dead ones included, so that walk-forward
windows see the market as it was (no survivorship bias). Whether a symbol may be held is decided
per date, from data up to that date (:mod:`quant_assets.membership`); the ``eligible`` column
here is that decision at the run's decision date, the date the current portfolio is built on.
"""

import numpy as np
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
    observed = closes.notna().to_numpy()
    n_dates = len(closes.index)
    observations = observed.sum(axis=0)
    listed = observations > 0
    first = np.where(listed, observed.argmax(axis=0), 0)
    last = np.where(listed, n_dates - 1 - observed[::-1].argmax(axis=0), 0)
    span = np.where(listed, last - first + 1, 0)  # dates are unique and sorted
    with np.errstate(divide="ignore", invalid="ignore"):
        missing = np.where(span == 0, 1.0, 1.0 - observations / np.maximum(span, 1))
    dates = closes.index.to_numpy()
    rows = []
    for j, symbol in enumerate(closes.columns):
        eligible = bool(judged.eligible[0, j])
        last_date = pd.Timestamp(dates[last[j]]) if listed[j] else None
        if eligible:
            reason = ""
        elif not listed[j]:
            reason = "no closes in the run's dates"
        elif last_date is not None and last_date < as_of:
            reason = f"last close {last_date.date()}, before the decision date {as_of.date()}"
        else:
            reason = str(reasons.iloc[j])
        first_date = pd.Timestamp(dates[first[j]]) if listed[j] else None
        rows.append(
            (str(symbol), first_date, last_date, int(observations[j]), missing[j], eligible, reason)
        )
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
