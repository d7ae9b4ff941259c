"""Freshness of the hydrated lakehouse: which symbols are stale, new, fresh or vanished.

The lakehouse side is answered by the footers of the ``market_data`` files (each file's row
count and its ``date`` column's statistics: :func:`stored_spans`; no data page is read); the
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
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from lakehouse import LakehouseStore
from lakehouse.frames import ColumnSpan, column_span
from lakehouse.store import READ_ERRORS
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
SPAN_COLUMNS = ["symbol", "rows", "first_date", "last_date"]
SPAN_READ_THREADS = 16
"""Footers read at once by :func:`stored_spans` (I/O bound: many requests on object storage)."""


@runtime_checkable
class BulkLastDates(Protocol):
    """A source that answers every symbol's last date at once (cheaper than one by one)."""

    def last_dates(self) -> dict[str, date | None]:
        """Map every symbol of the source to its last date."""
        ...


def stored_spans(
    store: LakehouseStore | str | Path, symbols: Collection[str] | None = None
) -> pd.DataFrame:
    """Rows, first and last date of every hydrated symbol (only ``symbols``, if given).

    Columns :data:`SPAN_COLUMNS`, sorted by symbol. Read from each file's footer (its row count
    and the ``date`` column's statistics), never from its data pages: one small read per file,
    :data:`SPAN_READ_THREADS` at once (one request each on object storage). A file whose footer
    cannot be read is left out and named in a warning, so one broken symbol never stops the
    others; a file without rows is left out (nothing is stored for it).
    """
    store = store if isinstance(store, LakehouseStore) else LakehouseStore(store)
    listed = store.symbols()
    wanted = listed if symbols is None else sorted(set(symbols) & set(listed))

    def span(symbol: str) -> ColumnSpan | None:
        try:
            return column_span(store.symbol_path(symbol), "date")
        except (*READ_ERRORS, FileNotFoundError) as error:
            logger.warning("%s: stored file left out (%s: %s)", symbol, type(error).__name__, error)
            return None

    with ThreadPoolExecutor(SPAN_READ_THREADS) as pool:
        spans = dict(zip(wanted, pool.map(span, wanted), strict=True))
    found = {symbol: s for symbol, s in spans.items() if s is not None and s.rows}
    return pd.DataFrame(
        {
            "symbol": pd.Series(list(found), dtype="str"),
            "rows": pd.Series([s.rows for s in found.values()], dtype="int64"),
            "first_date": pd.to_datetime(
                pd.Series([s.low for s in found.values()], dtype=object)
            ).astype("datetime64[ns]"),
            "last_date": pd.to_datetime(
                pd.Series([s.high for s in found.values()], dtype=object)
            ).astype("datetime64[ns]"),
        },
        columns=SPAN_COLUMNS,
    )


def stored_last_dates(store: LakehouseStore | str | Path) -> pd.DataFrame:
    """Last stored date of every hydrated symbol: columns ``symbol``, ``last_stored``.

    From the files' footers (:func:`stored_spans`).
    """
    spans = stored_spans(store)
    return spans[["symbol", "last_date"]].rename(columns={"last_date": "last_stored"})


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
