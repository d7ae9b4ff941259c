"""Hydration: bring one symbol's bars from a source into the lakehouse, incrementally.

A stored symbol is re-fetched from :data:`REFETCH_OVERLAP_DAYS` before its last stored date, so
new dates are appended and recent corrections from the source replace the stored values (each
correction is logged). Hydrating twice changes nothing.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from lakehouse import LakehouseStore
from quant_assets.hydration.bars import BAR_COLUMNS
from quant_assets.hydration.sources import MarketDataSource

logger = logging.getLogger(__name__)

REFETCH_OVERLAP_DAYS = 10
"""Calendar days before the last stored date that are fetched again to catch corrections."""
CORRECTION_RTOL = 1e-9


@dataclass(frozen=True)
class HydrationReport:
    """What hydrating one symbol did."""

    symbol: str
    source: str
    rows_before: int
    rows_after: int
    new_rows: int
    corrected_rows: int
    first_date: str | None
    last_date: str | None
    path: str

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, for metadata and logs."""
        return asdict(self)


def merge_bars(stored: pd.DataFrame, fresh: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge ``fresh`` bars into ``stored``; fresh values win where dates overlap.

    Returns
    -------
    merged : DataFrame
        Canonical bars, unique ascending dates.
    corrections : DataFrame
        One row per overlapping date whose close changed: ``date``, ``old_close``, ``new_close``.
    """
    overlap = stored.merge(fresh[["date", "close"]], on="date", suffixes=("_old", "_new"))
    changed = ~np.isclose(
        overlap["close_old"], overlap["close_new"], rtol=CORRECTION_RTOL, atol=0.0
    )
    corrections = overlap.loc[changed, ["date", "close_old", "close_new"]].rename(
        columns={"close_old": "old_close", "close_new": "new_close"}
    )
    kept = stored[~stored["date"].isin(fresh["date"])]
    merged = pd.concat([kept, fresh], ignore_index=True)[list(BAR_COLUMNS)]
    return merged.sort_values("date").reset_index(drop=True), corrections.reset_index(drop=True)


def hydrate_symbol(
    store: LakehouseStore, source: MarketDataSource, symbol: str, *, full: bool = False
) -> HydrationReport:
    """Fetch what ``symbol`` is missing from ``source`` and merge it into the lakehouse."""
    folder = store.symbol_dir(symbol)
    stored = store.read_frame(folder) if store.symbol_path(symbol).exists() else None
    start: date | None = None
    if stored is not None and not full and len(stored):
        start = pd.Timestamp(stored["date"].iloc[-1]).date() - timedelta(days=REFETCH_OVERLAP_DAYS)
    fresh = source.fetch(symbol, start=start)
    if stored is None:
        merged, corrections = fresh, fresh.iloc[0:0]
    else:
        merged, corrections = merge_bars(stored, fresh)
    for row in corrections.itertuples():
        logger.warning(
            "%s %s: source corrected close %s -> %s",
            symbol,
            row.date.date(),
            row.old_close,
            row.new_close,
        )
    rows_before = 0 if stored is None else len(stored)
    if stored is None or not merged.equals(stored):
        store.write_frame(merged, folder)
    return HydrationReport(
        symbol=symbol,
        source=source.name,
        rows_before=rows_before,
        rows_after=len(merged),
        new_rows=len(merged) - rows_before,
        corrected_rows=len(corrections),
        first_date=_day(merged, 0),
        last_date=_day(merged, -1),
        path=str(store.symbol_path(symbol)),
    )


def _day(bars: pd.DataFrame, position: int) -> str | None:
    return None if bars.empty else str(pd.Timestamp(bars["date"].iloc[position]).date())
