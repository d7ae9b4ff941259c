"""Freshness of the hydrated lakehouse: which symbols are stale, new, fresh or vanished.

The lakehouse side is answered by ONE DuckDB query over
``market_data/symbol=*/part-0.parquet`` (hive partitioning gives the ``symbol`` column); the
source side by what the source can provide, without downloading bars:

- ``bundled`` and ``files``: the source's last date per symbol;
- ``synthetic``: each symbol's own last date (its delisting date if it was delisted);
- ``yfinance``: the last completed trading day (the weekday before today, UTC). Yahoo has no
  listing, so its symbols are ``settings.symbols`` or, if unset, the stored symbols.

Statuses:

- ``stale``: stored and in the source, last stored date older than the source's last date;
- ``new``: in the source, not stored yet;
- ``fresh``: stored and up to date;
- ``vanished``: stored but no longer in the source. Vanished symbols are marked, never deleted:
  :func:`record_status` keeps them in the JSON document ``market_data_status/document.json``
  (per source: symbol, last stored date, first date it was seen missing);
- ``quarantined``: would be stale or new, but its last data from the source was refused
  (:mod:`quant_assets.hydration.quarantine`) and the source still offers the same (same file
  size and modification time, or the same last date): it is not hydrated again automatically
  until the source changes. Hydrating it by hand is always possible.
"""

import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from lakehouse import LakehouseStore
from lakehouse.catalog import open_catalog
from lakehouse.store import MARKET_DATA
from quant_assets.hydration import make_source
from quant_assets.hydration.quarantine import entry, source_fingerprint
from quant_assets.hydration.sources import MarketDataSource
from quant_assets.settings import Settings

logger = logging.getLogger(__name__)

STATUS_DOCUMENT = "market_data_status"
"""Lakehouse folder of the JSON document that records vanished symbols per source."""
STATUSES = ("stale", "new", "fresh", "vanished", "quarantined")
NEEDS_HYDRATION = ("stale", "new")
COLUMNS = ["symbol", "last_stored", "source_last", "status"]


@runtime_checkable
class BulkLastDates(Protocol):
    """A source that answers every symbol's last date at once (cheaper than one by one)."""

    def last_dates(self) -> dict[str, date | None]:
        """Map every symbol of the source to its last date."""
        ...


def stored_last_dates(store: LakehouseStore | str | Path) -> pd.DataFrame:
    """Last stored date of every hydrated symbol: columns ``symbol``, ``last_stored``.

    One DuckDB query over the readable ``market_data`` files (a damaged file is left out and
    named in a warning by the catalog, so one broken symbol never stops the others).
    """
    store = store if isinstance(store, LakehouseStore) else LakehouseStore(store)
    empty = pd.DataFrame(
        {"symbol": pd.Series(dtype="str"), "last_stored": pd.Series(dtype="datetime64[ns]")}
    )
    with open_catalog(store.root, [MARKET_DATA]) as con:
        views = con.execute("SELECT view_name FROM duckdb_views()").fetchall()
        if (MARKET_DATA,) not in views:
            return empty
        frame: pd.DataFrame = con.execute(
            "SELECT symbol, max(date) AS last_stored FROM market_data GROUP BY symbol "
            "ORDER BY symbol"
        ).df()
    frame["symbol"] = frame["symbol"].astype("str")
    frame["last_stored"] = pd.to_datetime(frame["last_stored"]).astype("datetime64[ns]")
    return frame


def source_last_dates(source: MarketDataSource) -> dict[str, date | None]:
    """Every symbol of ``source`` mapped to the last date it can provide."""
    if isinstance(source, BulkLastDates):
        return source.last_dates()
    return {symbol: source.last_date(symbol) for symbol in source.symbols()}


def source_for(settings: Settings, store: LakehouseStore) -> MarketDataSource:
    """The source ``settings`` names; yfinance lists ``settings.symbols`` or the stored ones."""
    if settings.source == "yfinance" and not settings.symbols:
        return make_source(settings, symbols=store.symbols())
    return make_source(settings)


def stale_symbols(
    store: LakehouseStore | str | Path,
    source: MarketDataSource | Settings,
) -> pd.DataFrame:
    """Compare the lakehouse with what ``source`` can provide, symbol by symbol.

    Parameters
    ----------
    store : LakehouseStore, str or Path
        The lakehouse (or its root).
    source : MarketDataSource or Settings
        The source, or settings naming it.

    Returns
    -------
    DataFrame
        ``symbol``, ``last_stored``, ``source_last`` (datetime64, NaT when absent) and ``status``
        (``stale``, ``new``, ``fresh``, ``vanished`` or ``quarantined``), sorted by symbol.
    """
    store = store if isinstance(store, LakehouseStore) else LakehouseStore(store)
    if isinstance(source, Settings):
        source = source_for(source, store)
    stored = stored_last_dates(store)
    offered = source_last_dates(source)
    available = pd.DataFrame(
        {
            "symbol": pd.Series(list(offered), dtype="str"),
            "source_last": pd.to_datetime(pd.Series(list(offered.values()), dtype="object"))
            .astype("datetime64[ns]")
            .to_numpy(),
            "in_source": True,
        }
    )
    merged = stored.assign(in_store=True).merge(available, on="symbol", how="outer")
    in_store = merged["in_store"].eq(True)
    in_source = merged["in_source"].eq(True)
    behind = merged["last_stored"] < merged["source_last"]
    merged["status"] = "fresh"
    merged.loc[in_store & in_source & behind, "status"] = "stale"
    merged.loc[~in_store, "status"] = "new"
    merged.loc[~in_source, "status"] = "vanished"
    result = merged[COLUMNS].sort_values("symbol").reset_index(drop=True)
    result["symbol"] = result["symbol"].astype("str")
    held = [
        symbol
        for symbol in result.loc[result["status"].isin(NEEDS_HYDRATION), "symbol"]
        if _still_refused(store, source, symbol)
    ]
    result.loc[result["symbol"].isin(held), "status"] = "quarantined"
    return result


def _still_refused(store: LakehouseStore, source: MarketDataSource, symbol: str) -> bool:
    """True if ``symbol`` is quarantined and the source offers what it offered then."""
    refused = entry(store, symbol)
    if refused is None or refused.get("fingerprint") is None:
        return False
    return bool(refused["fingerprint"] == source_fingerprint(source, symbol))


def needing_hydration(status: pd.DataFrame) -> list[str]:
    """Symbols of a :func:`stale_symbols` frame that are stale or new, sorted."""
    return sorted(status.loc[status["status"].isin(NEEDS_HYDRATION), "symbol"])


def record_status(
    store: LakehouseStore, source_name: str, status: pd.DataFrame, now: datetime | None = None
) -> dict[str, Any]:
    """Record ``source_name``'s vanished symbols in ``market_data_status/document.json``.

    The document maps each source to its vanished symbols (last stored date and the first time
    each was seen missing); a symbol that reappears is dropped from the list. Nothing is deleted
    from the lakehouse. The file is rewritten only when the vanished set changes.
    """
    folder = store.asset_dir(STATUS_DOCUMENT)
    document: dict[str, Any] = store.read_document(folder) if store.has_document(folder) else {}
    previous: dict[str, Any] = document.get(source_name, {}).get("vanished", {})
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    vanished = status[status["status"] == "vanished"]
    current = {
        str(row.symbol): {
            "last_stored": _iso(row.last_stored),
            "since": previous.get(str(row.symbol), {}).get("since", stamp),
        }
        for row in vanished.itertuples()
    }
    if current != previous or source_name not in document:
        if set(current) != set(previous):
            logger.warning("source %s: vanished symbols now %s", source_name, sorted(current))
        document[source_name] = {"vanished": current, "updated_at": stamp}
        store.write_document(document, folder)
    return document


def _iso(value: Any) -> str | None:
    return None if pd.isna(value) else str(pd.Timestamp(value).date())
